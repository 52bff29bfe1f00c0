// Traefik's `redirectScheme` and `redirectRegex`, as Traefik v3 implements them in
// pkg/middlewares/redirect. Both build the URL the client asked for, rewrite it, and redirect when
// the result differs from it:
// - redirectScheme builds `scheme://host:port/path?query`. The scheme is https on a TLS connection
//   and is then taken from X-Forwarded-Proto when a trusted proxy sent it (the entry point has
//   already removed the field from untrusted peers), with `ws` read as http and `wss` as https. The
//   port is the one in Host, left out when it is the default port of the scheme. The new URL has
//   the target scheme and the `port` option, so a request on the target scheme but another port
//   is redirected too, as in Traefik.
// - redirectRegex builds `scheme://host/path?query` with the Host as sent (port included), the
//   scheme from the connection only (Traefik ignores X-Forwarded-Proto here), and the path and
//   query as received. The `regex` is matched against that URL and `replacement` expands its groups.
//
// The status is 302, or 301 when `permanent` is set, for GET. Every other method, HEAD included,
// gets 307, or 308 when permanent, so that the client repeats the method and the body.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';

import { Fields } from '../observability/fields.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { throttledLog, type EventLog } from './log-throttle.js';
import { booleanOption, option } from './options.js';
import { compileGoReplacer } from './regexp-replace.js';
import { firstHeaderValue, requestAuthority } from './request-headers.js';
import { checkNoControlCharacters, requestTarget } from './request-target.js';
import { withPreview, type Middleware, type MiddlewarePreview, type Next, type RequestContext } from './types.js';
import { quoteOptionValue } from '../quote.js';

const DEFAULT_PORTS: ReadonlyMap<string, string> = new Map([
  ['http', '80'],
  ['https', '443'],
]);

/**
 * Builds `redirectScheme`. Throws an Error naming the option and the value when `scheme` is
 * missing or invalid, or when `port` is not a port number.
 */
export function createRedirectScheme(options: Record<string, unknown>): Middleware {
  const schemeValue = option(options, 'scheme');
  const scheme = typeof schemeValue === 'string' ? schemeValue.trim().toLowerCase() : '';
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) {
    throw new Error(`redirectScheme scheme ${quoteOptionValue(schemeValue ?? '')} is invalid: write the target scheme, for example scheme=https`);
  }
  const port = portOption(options);
  const permanent = booleanOption(options, 'redirectScheme', 'permanent');
  const targetPort = port === undefined || DEFAULT_PORTS.get(scheme) === port ? '' : `:${port}`;

  const decide = (context: RequestContext): RedirectDecision => {
    const { request } = context;
    const target = requestTarget(request);
    const authority = target.authority ?? requestAuthority(request);
    const split = splitAuthority(authority);
    if (split === undefined) {
      return { action: 'reject', text: `400 Bad Request: the Host ${JSON.stringify(authority)} is not a host with an optional numeric port` };
    }
    const { host, port: currentPort } = split;
    const currentScheme = schemeOf(context);
    const uri = target.path + target.query;

    const shownPort = currentPort === undefined || DEFAULT_PORTS.get(currentScheme) === currentPort ? '' : `:${currentPort}`;
    const currentUrl = `${currentScheme}://${host}${shownPort}${uri}`;
    const newUrl = `${scheme}://${host}${targetPort}${uri}`;
    if (newUrl === currentUrl) return { action: 'next' };
    if (host === '') return { action: 'reject', text: '400 Bad Request: the request has no Host, so it cannot be redirected' };
    return { action: 'redirect', url: newUrl };
  };

  return redirectMiddleware(decide, permanent);
}

/**
 * Builds `redirectRegex`. Throws an Error naming the option and the value when `regex` or
 * `replacement` is missing or invalid. A replacement that gives an invalid URL is logged at warn,
 * at most once per 10 s, because it usually means the `replacement` needs fixing.
 */
export function createRedirectRegex(options: Record<string, unknown>, logger: Logger = silentLogger()): Middleware {
  const regex = stringOption(options, 'regex');
  const replacement = stringOption(options, 'replacement');
  if (regex === '') {
    throw new Error('redirectRegex regex is missing: write a Go regular expression for the URL, for example regex=^https?://www\\.example\\.com/(.*)');
  }
  if (replacement === '') {
    throw new Error('redirectRegex replacement is missing: write the URL to redirect to, with $1 or ${1} for a group, for example replacement=https://example.com/${1}');
  }
  checkNoControlCharacters('redirectRegex replacement', replacement);
  const replacer = compileGoReplacer('redirectRegex regex', regex, replacement, 'redirectRegex replacement');
  const permanent = booleanOption(options, 'redirectRegex', 'permanent');
  const logInvalidTarget = throttledLog(logger, 'warn');

  const decide = (context: RequestContext): RedirectDecision => {
    const target = requestTarget(context.request);
    const scheme = context.scheme === 'https' ? 'https' : (target.scheme ?? 'http');
    const authority = target.authority ?? requestAuthority(context.request);
    const currentUrl = `${scheme}://${authority}${target.path}${target.query}`;

    if (!replacer.test(currentUrl)) return { action: 'next' };
    const newUrl = replacer.replaceAll(currentUrl);
    // Traefik forwards the request when the replacement gives back the same URL.
    if (newUrl === currentUrl) return { action: 'next' };
    return { action: 'redirect', url: newUrl };
  };

  return redirectMiddleware(decide, permanent, logInvalidTarget);
}

/** The decision of a redirect middleware for a request: pass it on, redirect it, or reject it with 400 and `text`. */
type RedirectDecision = { action: 'next' } | { action: 'redirect'; url: string } | { action: 'reject'; text: string };

/**
 * Builds the middleware that carries out `decide`, and its preview for explain, which runs the same
 * `decide` and reports the status and Location that the middleware would send.
 */
function redirectMiddleware(decide: (context: RequestContext) => RedirectDecision, permanent: boolean, logInvalid?: EventLog): Middleware {
  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    const decision = decide(context);
    if (decision.action === 'next') await next();
    else if (decision.action === 'reject') sendText(context.response, 400, decision.text);
    else sendRedirect(context, decision.url, permanent, logInvalid);
  };

  return withPreview(handle, (context): MiddlewarePreview => {
    const decision = decide(context);
    if (decision.action === 'next') return { effect: 'passes' };
    if (decision.action === 'reject') return { effect: 'responds', status: 400, reason: decision.text.replace(/^400 Bad Request: /, '') };

    const location = locationValue(decision.url);
    if (!location.ok) return { effect: 'responds', status: 500, reason: `the redirect target is not a valid URL (${location.reason})` };
    return { effect: 'responds', status: redirectStatus(context.request, permanent), reason: 'redirect', location: location.value };
  });
}

/**
 * Returns the scheme the client used: `https` on a TLS connection, else the absolute-form
 * target's scheme or `http`, and then the X-Forwarded-Proto of a trusted proxy when present.
 */
function schemeOf(context: RequestContext): string {
  let scheme = context.scheme === 'https' ? 'https' : (requestTarget(context.request).scheme ?? 'http');
  const forwarded = firstHeaderValue(context.request, 'x-forwarded-proto')?.trim().toLowerCase();
  if (forwarded === 'ws') scheme = 'http';
  else if (forwarded === 'wss') scheme = 'https';
  // NOTE: Traefik takes any other non-empty value as the scheme, such as `foo`. The URL then
  // differs from the target, so such a request is redirected, as in Traefik, but to a valid URL.
  else if (forwarded !== undefined && forwarded !== '') scheme = forwarded;
  return scheme;
}

/** Splits `host:port`, `[v6]:port` or a bare host, keeping IPv6 brackets in `host`; undefined for anything else. */
function splitAuthority(authority: string): { host: string; port: string | undefined } | undefined {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (match === null) return undefined;
  const port = match[2];
  return { host: match[1] as string, port: port === undefined || port === '' ? undefined : port };
}

/** Sends the redirect, or 500 with the reason when `url` cannot be a Location value, which goes to `logInvalid` too. */
function sendRedirect(context: RequestContext, url: string, permanent: boolean, logInvalid?: EventLog): void {
  const location = locationValue(url);
  if (!location.ok) {
    // The URL itself stays out of the log, because its query may contain a token.
    logInvalid?.({ [Fields.router]: context.router, [Fields.status]: 500, [Fields.reason]: location.problem }, 'redirect target is not a valid URL');
    sendText(context.response, 500, `500 Internal Server Error: the redirect target is not a valid URL (${location.reason})`);
    return;
  }

  const status = redirectStatus(context.request, permanent);
  const body = `${STATUS_CODES[status] ?? ''}\n`;
  context.response.writeHead(status, ['Location', location.value, 'Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))]);
  context.response.end(body);
}

/** Returns 301 or 302 for GET and 308 or 307 for every other method, as Traefik v3 does. */
export function redirectStatus(request: IncomingMessage, permanent: boolean): 301 | 302 | 307 | 308 {
  if (request.method === 'GET') return permanent ? 301 : 302;
  return permanent ? 308 : 307;
}

/** The problem that makes a URL invalid as a Location value, named without any part of the URL. */
export type LocationProblem = 'control character' | 'invalid escape' | 'no host' | 'invalid host or port';

/** Characters a URI reference may contain unescaped (RFC 3986), besides `%`. */
const URI_CHARACTER = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]/;

/**
 * Returns `url` as a valid Location value. Characters a URI may not contain, such as a space or
 * `é`, are escaped as UTF-8, as Go's `url.URL.String` does for the path. The URL is invalid when it
 * has a control character, a `%` without two hex digits before the query, or (for http and https)
 * a missing or invalid host or port. Such a `%` in the query or fragment becomes `%25`. The
 * entry point checks the escapes of the request's path but not of its query, as Go does, so a
 * query such as `?a=%zz` must still get its redirect rather than a 500.
 */
export function locationValue(url: string): { ok: true; value: string } | { ok: false; reason: string; problem: LocationProblem } {
  let value = '';
  const queryAt = url.search(/[?#]/);
  for (let i = 0; i < url.length; i++) {
    const character = url[i] as string;
    const code = character.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return { ok: false, reason: `control character ${JSON.stringify(character)}`, problem: 'control character' };
    if (character === '%') {
      const isEscape = /^[0-9A-Fa-f]{2}$/.test(url.slice(i + 1, i + 3));
      if (!isEscape && queryAt !== -1 && i > queryAt) {
        value += '%25';
        continue;
      }
      if (!isEscape) {
        return { ok: false, reason: `invalid escape ${JSON.stringify(url.slice(i, i + 3))}`, problem: 'invalid escape' };
      }
      value += character;
      continue;
    }
    if (URI_CHARACTER.test(character)) {
      value += character;
      continue;
    }
    const codePoint = url.codePointAt(i) as number;
    if (codePoint > 0xffff) i += 1;
    for (const byte of Buffer.from(String.fromCodePoint(codePoint), 'utf8')) value += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }

  const absolute = /^(https?):\/\/([^/?#]*)/i.exec(value);
  if (absolute !== null) {
    if (absolute[2] === '') return { ok: false, reason: `no host in ${JSON.stringify(value)}`, problem: 'no host' };
    try {
      new URL(value);
    } catch {
      return { ok: false, reason: `invalid host or port in ${JSON.stringify(value)}`, problem: 'invalid host or port' };
    }
  }
  return { ok: true, value };
}

function portOption(options: Record<string, unknown>): string | undefined {
  const value = option(options, 'port');
  if (value === undefined || value === null || value === '') return undefined;
  const text = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : '';
  const number = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(number >= 1 && number <= 65535)) {
    throw new Error(`redirectScheme port ${quoteOptionValue(value)} is invalid: write a port number from 1 to 65535, for example port=443`);
  }
  return String(number);
}

function stringOption(options: Record<string, unknown>, name: string): string {
  const value = option(options, name);
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  response.writeHead(status, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))]);
  response.end(body);
}
