// Extracts what rules match on from an incoming request.
import type { IncomingMessage } from 'node:http';
import type { RequestFacts } from '../rules/types.js';

/** Lower-cases a host, removes its port and a trailing dot; brackets of an IPv6 literal are kept. */
export function normalizeHost(value: string): string {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Returns the peer address, with IPv4-mapped IPv6 addresses in IPv4 form. */
export function peerAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Builds the facts for rule matching. The path stays exactly as received, so `%2F` is not
 * decoded into `/`. An absolute-form target (`GET http://host/path`) supplies host and path. An
 * HTTP/2 request is routed by `:authority`, and by its Host field only without one (RFC 9113
 * section 8.3.1). The entry point rejects a request whose two differ.
 */
export function requestFacts(request: IncomingMessage): RequestFacts {
  let target = request.url ?? '/';
  const authority = request.headers[':authority'];
  let host = typeof authority === 'string' && authority !== '' ? authority : (request.headers.host ?? '');

  const absolute = splitAbsoluteTarget(target);
  if (absolute !== undefined) {
    if (absolute.authority !== '') host = absolute.authority;
    target = absolute.rest;
  }

  const queryAt = target.indexOf('?');
  return {
    host: normalizeHost(host),
    path: queryAt === -1 ? target : target.slice(0, queryAt),
    rawQuery: queryAt === -1 ? '' : target.slice(queryAt + 1),
    method: request.method ?? 'GET',
    headers: request.headers,
    clientIp: peerAddress(request),
  };
}

/** Returns true for a path segment that means `.` or `..`, also when its dots are percent-encoded. */
function dotSegment(segment: string): '.' | '..' | undefined {
  const decoded = segment.replace(/%2e/gi, '.');
  if (decoded === '.') return '.';
  if (decoded === '..') return '..';
  return undefined;
}

/**
 * Removes `.` and `..` segments (RFC 3986 §5.2.4, with `%2E` read as a dot) and empty segments
 * from a path. Without this, `/pub/../admin` would be routed by the `/pub` router and then reach
 * the server as `/admin`, skipping the middlewares of the router for `/admin`. Other bytes,
 * including `%2F` and `%25`, stay as received.
 */
export function cleanPath(path: string): string {
  if (!path.startsWith('/')) return path;
  const segments = path.split('/');
  const output: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    const dots = dotSegment(segment);
    if (dots === '..') output.pop();
    if (dots !== undefined || (segment === '' && !last)) {
      // A dot segment at the end leaves a directory path, such as `/a/..` giving `/`.
      if (last) output.push('');
      continue;
    }
    output.push(segment);
  }
  return `/${output.join('/')}`;
}

/** The parts of an absolute-form request target (`http://host/path`, RFC 9112 §3.2.2). */
export interface AbsoluteTarget {
  /** Everything between `//` and the path or query, as received: '' for `http:///x`. */
  authority: string;
  /** Path and query in origin form; `/` when the target has no path. */
  rest: string;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Splits an absolute-form request target, or returns undefined for any other form. */
export function splitAbsoluteTarget(target: string): AbsoluteTarget | undefined {
  if (target.startsWith('/') || !ABSOLUTE_FORM.test(target)) return undefined;
  const afterScheme = target.indexOf('//') + 2;
  const authorityEnd = target.slice(afterScheme).search(/[/?]/);
  const end = authorityEnd === -1 ? target.length : afterScheme + authorityEnd;
  let rest = end === target.length ? '/' : target.slice(end);
  if (rest.startsWith('?')) rest = `/${rest}`;
  return { authority: target.slice(afterScheme, end), rest };
}

/** A request target in the form routing uses: origin form, with its path normalized. */
export interface NormalizedTarget {
  /** Authority of an absolute-form target, which replaces the Host field; undefined for other forms or an empty authority. */
  authority: string | undefined;
  /** Normalized path and the query as received, such as `/exact?x=1`. */
  target: string;
}

/**
 * Puts a request target into origin form and normalizes its path: unreserved escapes are decoded
 * (`/%65xact` gives `/exact`), then dot segments and empty segments are removed. The dispatcher
 * routes every request by this result, and explain calls it too, so both see the same path. The
 * query is kept as received.
 */
export function normalizeTarget(target: string): NormalizedTarget {
  let rest = target;
  let authority: string | undefined;
  const absolute = splitAbsoluteTarget(rest);
  if (absolute !== undefined) {
    if (absolute.authority !== '') authority = absolute.authority;
    rest = absolute.rest;
  }

  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rest.slice(queryAt);
  return { authority, target: cleanPath(decodeUnreserved(path)) + query };
}

/**
 * Puts the request target into origin form and cleans its path before routing, with
 * `normalizeTarget`. An absolute-form target (`GET http://host/path`) sets the Host header from its
 * authority, as RFC 9112 §3.2.2 requires, so the host Berth routes by is the host the server
 * receives. An empty authority (`http:///path`) keeps the Host header, as Go's server does. The
 * entry point has already rejected an authority with userinfo or other bytes invalid in a host.
 */
export function normalizeRequestTarget(request: IncomingMessage): void {
  const normalized = normalizeTarget(request.url ?? '/');
  if (normalized.authority !== undefined) request.headers.host = normalized.authority;
  request.url = normalized.target;
}

/** Percent-escapes of the unreserved characters of RFC 3986 §2.3: letters, digits, `-`, `.`, `_` and `~`. */
const UNRESERVED_ESCAPE = /%(3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|2[DdEe]|5[Ff]|7[Ee])/g;

/**
 * Decodes the percent-escapes of unreserved characters in a path, which RFC 3986 §6.2.2.2 makes
 * equivalent to the characters themselves. Without this, `/%61dmin` would be routed as a path
 * other than `/admin` and then reach a server that decodes it as `/admin`, past the middlewares of
 * the router for `/admin`. The server receives the decoded path too. Other escapes, such as `%2F`
 * and `%25`, stay as received.
 */
export function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(UNRESERVED_ESCAPE, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
