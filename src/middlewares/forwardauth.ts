// The `forwardauth` middleware (Traefik's): sends a GET for each request to an authentication
// server. A 2xx response lets the request through, with chosen fields of that response copied
// onto it. Any other response is sent to the client as it is.
import type { IncomingHttpHeaders } from 'node:http';
import { request as undiciRequest } from 'undici';

import { ClientClosedError } from '../errors.js';
import { watchClientGone } from '../proxy/client-gone.js';
import { peerAddress } from '../proxy/forwarded.js';
import { HOP_BY_HOP_HEADERS, removeHopByHopHeaders } from '../proxy/headers.js';
import { manageRequestFields } from '../proxy/request-trailers.js';
import { compileGoRegexp, type GoRegexp } from '../rules/go-regexp.js';
import { option, stringList } from './options.js';
import { editResponseHeaders } from './response-headers.js';
import { withPreview, type Middleware, type Next, type RequestContext } from './types.js';
import { createDictionary, getOwn } from '../dictionary.js';
import { checkNoControlCharacters } from './request-target.js';

/** Time allowed for the whole authentication request, Traefik's client timeout. */
const AUTH_TIMEOUT_MS = 30_000;

export interface ForwardAuthSettings {
  address: URL;
  trustForwardHeader: boolean;
  /** Lower-case field names copied from a 2xx auth response onto the request. */
  authResponseHeaders: readonly string[];
  authResponseHeadersRegex: GoRegexp | undefined;
  /** Lower-case field names of the request sent to the authentication server; empty sends all. */
  authRequestHeaders: readonly string[];
  /** Cookie names copied from a 2xx auth response's Set-Cookie fields onto the client response. */
  addAuthCookiesToResponse: ReadonlySet<string>;
  /** When false, a relative Location in a rejection is made absolute against `address`. */
  preserveLocationHeader: boolean;
}

export function createForwardAuth(options: Record<string, unknown>): Middleware {
  const settings = forwardAuthSettings(options);
  // The request fields copied from the authentication server's response, which a client's trailer fields may not bring back.
  const isCopiedField = (name: string): boolean => settings.authResponseHeaders.includes(name) || settings.authResponseHeadersRegex?.test(canonicalHeaderName(name)) === true;
  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    const authResponse = await sendAuthRequest(context, settings);
    if (authResponse.status < 200 || authResponse.status >= 300) {
      sendRejection(context, authResponse, settings);
      return;
    }
    copyAuthResponseHeaders(context.request.headers, authResponse.headers, settings);
    manageRequestFields(context.request, isCopiedField);
    if (settings.addAuthCookiesToResponse.size > 0) addAuthCookies(context, authResponse.headers, settings.addAuthCookiesToResponse);
    await next();
  };

  // Explain sends nothing to the authentication server, so the result stays open.
  const reason = `asks ${settings.address.origin}${settings.address.pathname} first and sends its response to the client unless its status is 2xx`;
  return withPreview(handle, () => ({ effect: 'may-respond', statuses: [], reason }));
}

/** Reads and checks the options; throws an Error naming the bad option. */
export function forwardAuthSettings(options: Record<string, unknown>): ForwardAuthSettings {
  const rawAddress = option(options, 'address');
  if (typeof rawAddress !== 'string' || rawAddress.trim() === '') {
    throw new Error('forwardauth address is missing: set it to the URL of the authentication server, for example address=http://auth:4181/verify');
  }
  // The URL parser drops tabs and line breaks silently, so they are rejected before parsing.
  checkNoControlCharacters('forwardauth address', rawAddress.trim());
  let address: URL;
  try {
    address = new URL(rawAddress.trim());
  } catch {
    throw new Error(`forwardauth address ${JSON.stringify(rawAddress)} is not a valid URL: write an absolute http or https URL`);
  }
  if (address.protocol !== 'http:' && address.protocol !== 'https:') {
    throw new Error(`forwardauth address ${JSON.stringify(rawAddress)} is invalid: the scheme must be http or https`);
  }

  for (const name of ['tls', 'headerField', 'maxBodySize'] as const) {
    if (option(options, name) !== undefined) throw new Error(`forwardauth option "${name}" is not supported yet: remove it`);
  }
  if (booleanOption(options, 'forwardBody')) throw new Error('forwardauth forwardBody=true is not supported yet: remove it');

  const rawRegex = option(options, 'authResponseHeadersRegex');
  let authResponseHeadersRegex: GoRegexp | undefined;
  if (rawRegex !== undefined && String(rawRegex) !== '') {
    const compiled = compileGoRegexp(String(rawRegex));
    if (!compiled.ok) throw new Error(`forwardauth authResponseHeadersRegex ${JSON.stringify(rawRegex)} is invalid: ${compiled.reason}`);
    authResponseHeadersRegex = compiled.regexp;
  }

  return {
    address,
    trustForwardHeader: booleanOption(options, 'trustForwardHeader'),
    authResponseHeaders: stringList(options, 'authResponseHeaders').map((name) => name.toLowerCase()),
    authResponseHeadersRegex,
    authRequestHeaders: stringList(options, 'authRequestHeaders').map((name) => name.toLowerCase()),
    addAuthCookiesToResponse: new Set(stringList(options, 'addAuthCookiesToResponse')),
    preserveLocationHeader: booleanOption(options, 'preserveLocationHeader'),
  };
}

function booleanOption(options: Record<string, unknown>, name: string): boolean {
  const value = option(options, name);
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  const text = String(value).trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false' || text === '') return false;
  throw new Error(`forwardauth ${name} ${JSON.stringify(value)} is invalid: write true or false`);
}

interface AuthResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends the GET to the authentication server. Throws when it cannot be reached or times out, and
 * the dispatcher then logs the error and sends 500, as Traefik does.
 */
async function sendAuthRequest(context: RequestContext, settings: ForwardAuthSettings): Promise<AuthResponse> {
  const headers = authRequestHeaders(context, settings);
  const timeout = AbortSignal.timeout(AUTH_TIMEOUT_MS);
  // A client that leaves cancels the request to the authentication server, as it cancels the one to a service.
  const clientGone = new AbortController();
  const stopWatching = watchClientGone(context.response, () => clientGone.abort());
  const signal = AbortSignal.any([timeout, clientGone.signal]);
  const where = `${settings.address.origin}${settings.address.pathname}`;
  try {
    // undici follows no redirect without a redirect interceptor, so a redirect reaches the client.
    const authResponse = await undiciRequest(settings.address, { method: 'GET', headers, signal });
    const body = Buffer.from(await authResponse.body.arrayBuffer());
    return { status: authResponse.statusCode, headers: authResponse.headers as IncomingHttpHeaders, body };
  } catch (error) {
    if (clientGone.signal.aborted) {
      throw new ClientClosedError(`the client closed the connection during the forwardauth request to ${where}`, { cause: error });
    }
    const reason = timeout.aborted ? `timed out after ${AUTH_TIMEOUT_MS} ms` : 'failed';
    throw new Error(`forwardauth request to ${where} ${reason}`, { cause: error });
  } finally {
    stopWatching();
  }
}

/** Builds the header of the request to the authentication server. */
export function authRequestHeaders(context: RequestContext, settings: ForwardAuthSettings): Record<string, string | string[]> {
  const { request } = context;
  const headers = createDictionary<string | string[]>();
  const selected = settings.authRequestHeaders.length === 0 ? undefined : new Set(settings.authRequestHeaders);
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name.startsWith(':') || skipForAuthRequest(name)) continue;
    if (selected !== undefined && !selected.has(name)) continue;
    headers[name] = value;
  }

  const trusted = settings.trustForwardHeader;
  const clientIp = peerAddress(request.socket.remoteAddress);
  const priorFor = request.headers['x-forwarded-for'];
  if (clientIp !== undefined) {
    headers['x-forwarded-for'] = trusted && priorFor !== undefined && priorFor !== '' ? `${priorFor}, ${clientIp}` : clientIp;
  } else if (!trusted) {
    delete headers['x-forwarded-for'];
  }
  headers['x-forwarded-method'] = request.method ?? 'GET';
  headers['x-forwarded-proto'] = keptOr(request.headers, trusted, 'x-forwarded-proto', context.scheme);
  headers['x-forwarded-host'] = keptOr(request.headers, trusted, 'x-forwarded-host', request.headers.host ?? request.headers[':authority']?.toString() ?? '');
  headers['x-forwarded-uri'] = keptOr(request.headers, trusted, 'x-forwarded-uri', request.url ?? '/');
  return headers;
}

/**
 * Returns true for client fields that do not belong on the GET to the authentication server. Host names that
 * server, and the GET has no body, so Content-Length and Expect have nothing to describe. Hop-by-hop fields
 * (RFC 9110 §7.6.1), which still include `Upgrade` and `Connection: upgrade` on a WebSocket request, describe
 * the client's connection, and Traefik's forwardAuth removes them too. undici's request() also throws on
 * Upgrade, Expect and a Connection other than keep-alive or close, which would turn every such request into a 500.
 */
function skipForAuthRequest(name: string): boolean {
  return HOP_BY_HOP_HEADERS.has(name) || name === 'host' || name === 'content-length' || name === 'expect';
}

function keptOr(headers: IncomingHttpHeaders, trusted: boolean, name: string, fallback: string): string {
  const value = headers[name];
  if (trusted && typeof value === 'string' && value !== '') return value;
  return fallback;
}

/**
 * Copies the chosen fields of a 2xx auth response onto the request. A field the client sent under
 * one of those names is removed even when the auth response lacks it, so a client cannot pose as a user.
 */
export function copyAuthResponseHeaders(target: IncomingHttpHeaders, authResponse: IncomingHttpHeaders, settings: ForwardAuthSettings): void {
  for (const name of settings.authResponseHeaders) {
    delete target[name];
    const value = getOwn(authResponse, name);
    if (value !== undefined) target[name] = joinValues(value);
  }

  const regex = settings.authResponseHeadersRegex;
  if (regex === undefined) return;
  // Traefik matches the pattern against Go's canonical field names, such as `X-Auth-User`.
  for (const name of Object.keys(target)) {
    if (regex.test(canonicalHeaderName(name))) delete target[name];
  }
  for (const [name, value] of Object.entries(authResponse)) {
    if (value !== undefined && regex.test(canonicalHeaderName(name))) target[name] = joinValues(value);
  }
}

/** Joins repeated lines of a list-based field (RFC 9110 §5.3). */
function joinValues(value: string | string[]): string {
  return Array.isArray(value) ? value.join(', ') : value;
}

function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Sends a non-2xx response of the authentication server to the client. */
function sendRejection(context: RequestContext, authResponse: AuthResponse, settings: ForwardAuthSettings): void {
  const headers = { ...authResponse.headers };
  removeHopByHopHeaders(headers, { keepTeTrailers: false });
  const location = headers.location;
  if (!settings.preserveLocationHeader && typeof location === 'string' && location !== '') {
    try {
      headers.location = new URL(location, settings.address).href;
    } catch {
      // A Location that cannot be resolved is passed on unchanged.
    }
  }

  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) list.push(name, item);
  }
  context.response.writeHead(authResponse.status, list);
  context.response.end(authResponse.body);
}

/**
 * Puts the auth response's cookies named in `names` on the client response, replacing cookies of
 * the same name that the server set.
 */
function addAuthCookies(context: RequestContext, authResponse: IncomingHttpHeaders, names: ReadonlySet<string>): void {
  const raw = authResponse['set-cookie'];
  const cookies = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).filter((cookie) => names.has(cookieName(cookie)));
  if (cookies.length === 0) return;

  editResponseHeaders(context.response, (headers) => {
    const result: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      if (name.toLowerCase() === 'set-cookie' && names.has(cookieName(value))) continue;
      result.push(name, value);
    }
    for (const cookie of cookies) result.push('Set-Cookie', cookie);
    return result;
  });
}

function cookieName(setCookie: string): string {
  return (setCookie.split('=', 1)[0] ?? '').trim();
}
