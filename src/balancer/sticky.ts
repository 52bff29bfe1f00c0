// Sticky sessions: a cookie that names the server a client was sent to, so its next requests go to
// the same server while that server is available. The cookie carries a hash of the server URL,
// never the address itself.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

import type { StickyCookieConfig } from '../dynamic/model.js';
import { editResponseHeaders } from '../middlewares/response-headers.js';
import { quoteValue } from '../quote.js';

/** A service's sticky cookie with defaults applied. */
export interface StickyCookie {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: 'None' | 'Lax' | 'Strict';
  /** Seconds; 0 makes a session cookie and a negative value expires the cookie at once. */
  maxAge: number;
  path: string;
  domain?: string;
}

export interface StickyCookieResult {
  cookie?: StickyCookie;
  errors: string[];
  warnings: string[];
}

// A cookie name is an HTTP token (RFC 6265 §4.1.1).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Attribute values must not contain controls or `;` (RFC 6265 §4.1.1).
const ATTRIBUTE_VALUE = /^[^\u0000-\u001f\u007f;]*$/;

const SAME_SITE = { none: 'None', lax: 'Lax', strict: 'Strict' } as const;

/** Returns the default cookie name of a service: `_` and six hex digits of a hash of its name. */
export function defaultCookieName(service: string): string {
  return `_${createHash('sha1').update(service).digest('hex').slice(0, 6)}`;
}

/**
 * Returns the cookie value that names a server: 16 hex digits of the SHA-256 of its URL, as in
 * Traefik. A password in the URL is left out of the hash, because a client holding the cookie could
 * otherwise test guesses of it offline. URLs without a password hash exactly as in Traefik.
 * NOTE: the hash hides the address from a casual reader, but anyone who can list likely
 * addresses and ports can compute the same hashes, so it is not a secret.
 */
export function stickyValue(url: string): string {
  return createHash('sha256').update(withoutPassword(url)).digest('hex').slice(0, 16);
}

/** Returns `url` with its password removed, and unchanged when it has none or does not parse. */
function withoutPassword(url: string): string {
  if (!url.includes('@') || !URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.password === '') return url;
  parsed.password = '';
  return parsed.href;
}

/** Applies Traefik's defaults to a service's sticky cookie settings and checks them. */
export function stickyCookie(service: string, config: StickyCookieConfig): StickyCookieResult {
  const result: StickyCookieResult = { errors: [], warnings: [] };
  const name = config.name === undefined || config.name === '' ? defaultCookieName(service) : config.name;
  if (!TOKEN.test(name)) {
    result.errors.push(`sticky.cookie.name ${quoteValue(name)} is invalid: use letters, digits and !#$%&'*+-.^_\`|~ only`);
  }
  const path = config.path === undefined || config.path === '' ? '/' : config.path;
  for (const [option, value] of [['path', path], ['domain', config.domain ?? '']] as const) {
    if (!ATTRIBUTE_VALUE.test(value)) result.errors.push(`sticky.cookie.${option} ${quoteValue(value)} is invalid: it must not contain ";" or control characters`);
  }
  if (result.errors.length > 0) return result;

  const cookie: StickyCookie = { name, secure: config.secure ?? false, httpOnly: config.httpOnly ?? false, maxAge: config.maxAge ?? 0, path };
  if (config.sameSite !== undefined) cookie.sameSite = SAME_SITE[config.sameSite];
  if (config.domain !== undefined && config.domain !== '') cookie.domain = config.domain;
  if (cookie.sameSite === 'None' && !cookie.secure) {
    result.warnings.push('sticky.cookie.sameSite is none without sticky.cookie.secure=true, which browsers reject; set secure=true');
  }
  result.cookie = cookie;
  return result;
}

/** Returns the value of the cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator === -1) continue;
    if (pair.slice(0, separator).trim() !== name) continue;
    return pair.slice(separator + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** Formats the Set-Cookie field value that pins a client to the server named by `value`. */
export function serializeCookie(cookie: StickyCookie, value: string): string {
  const parts = [`${cookie.name}=${value}`, `Path=${cookie.path}`];
  if (cookie.domain !== undefined) parts.push(`Domain=${cookie.domain}`);
  if (cookie.maxAge > 0) parts.push(`Max-Age=${cookie.maxAge}`);
  else if (cookie.maxAge < 0) parts.push('Max-Age=0');
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite !== undefined) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

/**
 * Adds the sticky cookie to the response header unless the request already named the chosen
 * server. The returned function records the server of the current attempt, or undefined before
 * an error response, which must not pin the client to a server that failed.
 */
export function attachStickyCookie(response: ServerResponse, cookie: StickyCookie, requestValue: string | undefined): (serverValue: string | undefined) => void {
  let chosen: string | undefined;
  editResponseHeaders(response, (headers) => {
    if (chosen === undefined || chosen === requestValue) return headers;
    // Appended, so a Set-Cookie of the server's own stays as it is.
    return [...headers, 'set-cookie', serializeCookie(cookie, chosen)];
  });
  return (serverValue) => {
    chosen = serverValue;
  };
}
