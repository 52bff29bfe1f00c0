// Turns the description of a request to explain (a URL, a method, headers, a client address) into
// the same RequestFacts that the entry points build from a real request.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { BerthError } from '../errors.js';
import type { RequestFacts } from '../rules/types.js';
import { rejectHostFields, rejectRequestTarget, type RequestRejection } from '../entrypoints/request-validation.js';
import { normalizeHost, normalizeTarget } from './facts.js';
import { createDictionary } from '../dictionary.js';

/** A request to explain, as the API and the CLI describe it. */
export interface ExplainRequest {
  /** `http://example.com/path?query`; `example.com/path` and, with a Host header, `/path` work too. */
  url: string;
  /** Defaults to GET. */
  method?: string;
  /** Header values by name; a list stands for a header sent several times. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** TCP peer address the request comes from; defaults to 127.0.0.1. */
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
}

/**
 * Builds the request facts for `request` as the dispatcher builds them from a real request: the
 * request target is checked by `rejectRequestTarget` and normalized by `normalizeTarget`, the same
 * functions the entry point and the dispatcher call. The URL is split by hand because WHATWG URL
 * parsing would already remove dot segments. `%2F` stays encoded, as it does for a real request. A
 * Host header replaces the URL's host, as it does for `curl -H 'Host: example.com' http://127.0.0.1/`.
 */
export function explainTarget(request: ExplainRequest): ExplainTarget {
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
  // Node's HTTP parser accepts only upper-case method names, so a request that reaches a router
  // always has one. `--method post` therefore means POST.
  const method = (request.method ?? 'GET').trim().toUpperCase() || 'GET';

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
    clientIp: clientAddress(request.clientIp),
  };

  const rawHeaders: string[] = hostLines.length === 0 ? ['Host', split.authority] : [];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    for (const line of typeof value === 'string' ? [value] : value) rawHeaders.push(name.trim(), line);
  }

  const explained: ExplainTarget = { facts, receivedPath: split.path, target: normalized, rawHeaders };
  const rejection = rejectHostFields(hostLines.length > 0 ? hostLines : [split.authority], true) ?? rejectRequestTarget(method, received);
  if (rejection !== undefined) explained.rejection = rejection;
  return explained;
}

/** Builds the request facts for `request`, as `explainTarget` does, without the entry point's checks. */
export function explainFacts(request: ExplainRequest): RequestFacts {
  return explainTarget(request).facts;
}

/** Returns every line of the Host header in `input`, whatever the case of its name. */
function hostFieldLines(input: Readonly<Record<string, string | readonly string[]>>): string[] {
  return Object.entries(input)
    .filter(([name]) => name.trim().toLowerCase() === 'host')
    .flatMap(([, value]) => (typeof value === 'string' ? [value] : [...value]));
}

/** Rejects a URL whose scheme names a protocol that no entry point serves, such as `ftp://`. */
function checkScheme(url: string): void {
  const trimmed = url.trim();
  if (!SCHEME.test(trimmed)) return;

  const scheme = trimmed.slice(0, trimmed.indexOf(':')).toLowerCase();
  if (SUPPORTED_SCHEMES.includes(scheme)) return;
  throw new InvalidExplainRequestError(
    `the URL "${url}" has the scheme "${scheme}", but Berth routes HTTP requests only: write a URL that starts with http://, https://, ws:// or wss://`,
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
