// Turns the description of a request to explain (a URL, a method, headers, a client address) into
// the same RequestFacts that the entry points build from a real request.
import { METHODS, type IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { BerthError } from '../errors.js';
import { ForwardedHeadersTrust, type ForwardedHeadersOptions } from '../entrypoints/forwarded-trust.js';
import type { RequestFacts } from '../rules/types.js';
import { rejectHostFields, rejectRequestTarget, type RequestRejection } from '../entrypoints/request-validation.js';
import { normalizeHost, normalizeTarget } from './facts.js';
import { createDictionary } from '../dictionary.js';

/** A request to explain, as the API and the CLI describe it. */
export interface ExplainRequest {
  /** `http://example.com/path?query`; `example.com/path` and, with a Host header, `/path` work too. */
  url: string;
  /** Defaults to GET. Kept as written, so `get` is rejected as the entry point rejects it. */
  method?: string;
  /** Header values by name; a list stands for a header sent several times. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * TCP peer address the request comes from; defaults to 127.0.0.1. The entry point's
   * forwardedHeaders trust is judged on it, as for a real peer.
   */
  clientIp?: string;
  /** Entry point the request arrives on; defaults to `web`, or to the only entry point there is. */
  entryPoint?: string;
}

/** A request to explain that cannot be evaluated, such as a URL without a host or an unknown entry point. */
export class InvalidExplainRequestError extends BerthError {
  readonly code = 'BERTH_INVALID_EXPLAIN_REQUEST';
  readonly status = 400;
}

const DEFAULT_CLIENT_IP = '127.0.0.1';
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A scheme name and its colon (RFC 3986 section 3.1), a form that `host:port` has too. */
const SCHEME_PREFIX = /^([a-z][a-z0-9+.-]*):/i;
/** The forwardedHeaders settings of an entry point without any: no peer is trusted. */
const UNTRUSTED: ForwardedHeadersOptions = { trustedIPs: [], insecure: false };
/** URL schemes of the requests an entry point serves: WebSocket URLs are HTTP requests with an Upgrade header. */
const SUPPORTED_SCHEMES = ['http', 'https', 'ws', 'wss'];

/** A request to explain in the form routing uses, and the result of the entry point's checks. */
export interface ExplainTarget {
  /** Facts that routers match on, with the path normalized as the dispatcher normalizes it. */
  facts: RequestFacts;
  /** The path as written in the URL, before normalization. */
  receivedPath: string;
  /** The request target after normalization, in origin form: path and query. */
  target: string;
  /** Header lines as the client sends them: `[name, value, ...]`, Host included. */
  rawHeaders: string[];
  /** The reason the entry point would reject the request before routing; undefined when it would not. */
  rejection?: RequestRejection;
  /** Lower-case names of the forwarding fields the entry point removes, because the client is not trusted. */
  removedHeaders: string[];
}

/**
 * Builds the request facts for `request` as the dispatcher builds them from a real request: the
 * request target is checked by `rejectRequestTarget` and normalized by `normalizeTarget`, the same
 * functions the entry point and the dispatcher call. The URL is split by hand because WHATWG URL
 * parsing would already remove dot segments. `%2F` stays encoded, as it does for a real request. A
 * Host header replaces the URL's host, as it does for `curl -H 'Host: example.com' http://127.0.0.1/`.
 * X-Forwarded-* and X-Real-Ip fields are removed by `ForwardedHeadersTrust` with `forwardedHeaders`,
 * the entry point's settings, unless the client address is trusted there.
 */
export function explainTarget(request: ExplainRequest, forwardedHeaders: ForwardedHeadersOptions = UNTRUSTED): ExplainTarget {
  checkScheme(request.url);
  const split = splitUrl(request.url.trim());
  const hostLines = hostFieldLines(request.headers ?? {});
  const headers = headerMap(request.headers ?? {});
  const hostHeader = headers.host;
  const host = normalizeHost(typeof hostHeader === 'string' && hostHeader !== '' ? hostHeader : split.authority);
  if (host === '') {
    throw new InvalidExplainRequestError(`the URL "${request.url}" has no host: write http://HOST/PATH or set a Host header`);
  }
  // The Host field keeps its port, as a client sends it, because redirect middlewares read it.
  headers.host ??= split.authority;
  // Methods are case-sensitive (RFC 9110 section 9.1), so `get` stays `get`, and the entry point rejects it.
  const method = request.method?.trim() || 'GET';
  const clientIp = clientAddress(request.clientIp);

  // The entry point removes the forwarding fields of an untrusted peer before routing, so neither
  // a rule nor a middleware reads them. Raw header lines keep them, as Node keeps them for a real request.
  const sent = Object.keys(headers);
  new ForwardedHeadersTrust(forwardedHeaders).apply(headers, clientIp);
  const removedHeaders = sent.filter((name) => !Object.hasOwn(headers, name));

  // A client sends the URL's path and query as an origin-form target, and its authority as Host
  // unless a Host header is given.
  const query = split.query === '' ? '' : `?${split.query}`;
  const received = `${split.path}${query}`;
  const normalized = normalizeTarget(received).target;
  const queryAt = normalized.indexOf('?');
  const facts: RequestFacts = {
    host,
    path: queryAt === -1 ? normalized : normalized.slice(0, queryAt),
    rawQuery: split.query,
    method,
    headers,
    clientIp,
  };

  const rawHeaders: string[] = hostLines.length === 0 ? ['Host', split.authority] : [];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    for (const line of typeof value === 'string' ? [value] : value) rawHeaders.push(name.trim(), line);
  }

  const explained: ExplainTarget = { facts, receivedPath: split.path, target: normalized, rawHeaders, removedHeaders };
  const rejection = rejectMethod(method) ?? rejectHostFields(hostLines.length > 0 ? hostLines : [split.authority], true) ?? rejectRequestTarget(method, received);
  if (rejection !== undefined) explained.rejection = rejection;
  return explained;
}

/** Builds the request facts for `request`, as `explainTarget` does, without the entry point's checks. */
export function explainFacts(request: ExplainRequest): RequestFacts {
  return explainTarget(request).facts;
}

/**
 * Rejects a method that Node's HTTP/1.1 parser rejects with 400 before Berth receives the request:
 * anything but the methods in `http.METHODS`, written in upper case.
 * NOTE: an HTTP/2 request may carry any method token, but explain describes an HTTP/1.1 request.
 */
function rejectMethod(method: string): RequestRejection | undefined {
  if (METHODS.includes(method)) return undefined;
  const known = METHODS.find((name) => name === method.toUpperCase());
  const hint = known === undefined ? '' : `; methods are case-sensitive, so write ${known}`;
  return { status: 400, reason: `method "${method}" is not one that Node's HTTP/1.1 parser accepts${hint}` };
}

/** Returns every line of the Host header in `input`, whatever the case of its name. */
function hostFieldLines(input: Readonly<Record<string, string | readonly string[]>>): string[] {
  return Object.entries(input)
    .filter(([name]) => name.trim().toLowerCase() === 'host')
    .flatMap(([, value]) => (typeof value === 'string' ? [value] : [...value]));
}

/**
 * Rejects a URL with a scheme other than `http://`, `https://`, `ws://` or `wss://`, or one of
 * those schemes without `//`, such as `mailto:a@example.com` or `http:example.com/`. A `name:`
 * followed by a port and then a path, a query or the end is a host and port, as in `example.com:8080/x`.
 */
function checkScheme(url: string): void {
  const trimmed = url.trim();
  const prefix = SCHEME_PREFIX.exec(trimmed);
  if (prefix === null) return;

  const scheme = (prefix[1] as string).toLowerCase();
  const rest = trimmed.slice(prefix[0].length);
  if (SUPPORTED_SCHEMES.includes(scheme)) {
    if (rest.startsWith('//')) return;
    throw new InvalidExplainRequestError(`the URL "${url}" has no "//" after "${prefix[0]}": write ${scheme}://HOST/PATH`);
  }
  if (/^(?:\d+(?:[/?#]|$)|$)/.test(rest)) return;
  throw new InvalidExplainRequestError(
    `the URL "${url}" has the scheme "${scheme}", but Berth routes HTTP requests only: write a URL that starts with http://, https://, ws:// or wss://, or HOST/PATH without a scheme`,
  );
}

interface SplitUrl {
  authority: string;
  path: string;
  query: string;
}

/**
 * Splits a URL into authority, raw path and raw query without normalizing any of them, because
 * WHATWG URL parsing would resolve `..` segments and re-encode characters that a client sends as
 * they are. A fragment is dropped, because clients never send it.
 */
function splitUrl(url: string): SplitUrl {
  let rest = url;
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);

  let authority = '';
  if (!rest.startsWith('/')) {
    if (SCHEME.test(rest)) rest = rest.slice(rest.indexOf('//') + 2);
    const end = rest.search(/[/?]/);
    authority = end === -1 ? rest : rest.slice(0, end);
    rest = end === -1 ? '' : rest.slice(end);
    // User information (`user:password@`) is not part of the host a request is routed by.
    authority = authority.slice(authority.lastIndexOf('@') + 1);
  }

  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  return { authority, path: path === '' ? '/' : path, query: queryAt === -1 ? '' : rest.slice(queryAt + 1) };
}

/**
 * Builds headers as Node presents them to the router: lower-case names, and the values of a
 * repeated header joined with ", " (Node's rule for all but a few headers such as Set-Cookie).
 */
function headerMap(input: Readonly<Record<string, string | readonly string[]>>): IncomingHttpHeaders {
  const headers = createDictionary<string>();
  for (const [name, value] of Object.entries(input)) {
    const key = name.trim().toLowerCase();
    if (key === '') continue;
    const values = typeof value === 'string' ? [value] : [...value];
    const joined = [headers[key], ...values].filter((item): item is string => item !== undefined).join(', ');
    headers[key] = joined;
  }
  return headers;
}

function clientAddress(value: string | undefined): string {
  const address = value?.trim() ?? '';
  if (address === '') return DEFAULT_CLIENT_IP;
  const unbracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIP(unbracketed) === 0) {
    throw new InvalidExplainRequestError(`client IP "${value}" is not an IPv4 or IPv6 address`);
  }
  // Peer addresses are matched in IPv4 form when the socket reports an IPv4-mapped IPv6 address.
  return unbracketed.toLowerCase().startsWith('::ffff:') && unbracketed.includes('.') ? unbracketed.slice(7) : unbracketed;
}

/**
 * Returns `https` for an `https://` or `wss://` URL, which is matched against the entry point's
 * TLS routers, else `http`.
 */
export function schemeOf(url: string): 'http' | 'https' {
  return /^(https|wss):\/\//i.test(url.trim()) ? 'https' : 'http';
}

/** Picks the entry point to explain on: the requested one, else `web`, else the only one there is. */
export function chooseEntryPoint(requested: string | undefined, available: readonly string[]): string {
  const names = [...available].sort();
  const list = names.join(', ') || '(none)';
  const name = requested?.trim().toLowerCase() ?? '';
  if (name !== '') {
    if (names.includes(name)) return name;
    throw new InvalidExplainRequestError(`entry point "${requested}" does not exist; entry points: ${list}`);
  }
  if (names.includes('web')) return 'web';
  const [only] = names;
  if (names.length === 1 && only !== undefined) return only;
  throw new InvalidExplainRequestError(`there are several entry points (${list}); choose one with entrypoint`);
}
