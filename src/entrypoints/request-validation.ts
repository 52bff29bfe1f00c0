// Checks of a request's version and Host that node:http and node:http2 leave to the application.
// A request that fails them gets an error response before any router or middleware handles it.
import type { IncomingMessage } from 'node:http';
import { Http2ServerRequest } from 'node:http2';

import { DEFAULT_MAX_HEADER_BYTES } from '../config/types.js';
import { splitAbsoluteTarget } from '../routing/facts.js';

export interface RequestRejection {
  status: 400 | 431 | 501 | 505;
  /** Reason for the rejection, for the debug log. */
  reason: string;
}

/**
 * Bytes allowed in a Host value or `:authority`: those of Go's `httpguts.ValidHostHeader`
 * (golang.org/x/net), the union of what `uri-host [":" port]` (RFC 3986 section 3.2.2) may contain.
 * An empty value is valid, as RFC 9112 section 3.2 allows for a target URI without an authority.
 */
const VALID_HOST = /^[0-9A-Za-z!$%&'()*+,\-.:;=[\]_~]*$/;

/** Returns true for a request that arrived as an HTTP/2 stream rather than over an HTTP/1.x connection. */
export function isHttp2Stream(request: IncomingMessage | Http2ServerRequest): request is Http2ServerRequest {
  return request instanceof Http2ServerRequest;
}

/**
 * Returns why a request must be rejected, or undefined for a request Berth may route. `maxHeaderSize`
 * bounds the header list of an HTTP/2 request, because node:http2 accepts more (see protocol-servers.ts).
 */
export function rejectRequest(request: IncomingMessage | Http2ServerRequest, maxHeaderSize: number = DEFAULT_MAX_HEADER_BYTES): RequestRejection | undefined {
  return isHttp2Stream(request) ? rejectHttp2Request(request, maxHeaderSize) : rejectHttp1Request(request);
}

/**
 * Checks a request read by the HTTP/1.x parser. Its version must be 1.x: llhttp also accepts
 * `HTTP/2.0` and HTTP/0.9 request lines, which Go's server rejects with 505 as well. A request
 * carries at most one Host (RFC 9112 section 3.2), and an HTTP/1.1 request exactly one.
 */
function rejectHttp1Request(request: IncomingMessage): RequestRejection | undefined {
  if (request.httpVersionMajor !== 1) {
    return { status: 505, reason: `HTTP version ${request.httpVersion} over an HTTP/1 connection` };
  }

  const codingRejection = rejectTransferCodings(fieldValues(request.rawHeaders, 'transfer-encoding'));
  if (codingRejection !== undefined) return codingRejection;

  const hosts = fieldValues(request.rawHeaders, 'host');
  return rejectHostFields(hosts, request.httpVersionMinor >= 1) ?? rejectRequestTarget(request.method, request.url);
}

/**
 * Checks the Host field lines of an HTTP/1.x request: at most one (RFC 9112 section 3.2), exactly
 * one when `required` (HTTP/1.1), and with only bytes valid in a host. Explain runs it too.
 */
export function rejectHostFields(hosts: readonly string[], required: boolean): RequestRejection | undefined {
  if (hosts.length > 1) return { status: 400, reason: 'more than one Host field' };
  if (hosts.length === 0 && required) return { status: 400, reason: 'missing Host field' };

  const host = hosts[0];
  if (host !== undefined && !VALID_HOST.test(host)) return { status: 400, reason: 'invalid Host value' };
  return undefined;
}

/**
 * Checks the authority of an HTTP/2 request. RFC 9113 section 8.3.1 lets a server treat a request
 * as malformed when its Host names another authority than its `:authority`, and Berth does so, so
 * that routing and the Host sent to the server cannot disagree.
 */
function rejectHttp2Request(request: Http2ServerRequest, maxHeaderSize: number): RequestRejection | undefined {
  // `>=` because Node.js's HTTP/1.1 parser rejects a head once its count reaches the limit.
  const size = http1HeadSize(request.rawHeaders);
  if (size >= maxHeaderSize) return { status: 431, reason: `header list of ${size} bytes, counted as an HTTP/1.1 head, reaches the limit of ${maxHeaderSize}` };

  const hosts = fieldValues(request.rawHeaders, 'host');
  if (hosts.length > 1) return { status: 400, reason: 'more than one host field' };

  const authority = request.headers[':authority'];
  const host = hosts[0];
  if (typeof authority === 'string' && host !== undefined && host.toLowerCase() !== authority.toLowerCase()) {
    return { status: 400, reason: 'host field differs from :authority' };
  }
  for (const value of [authority, host]) {
    if (typeof value === 'string' && !VALID_HOST.test(value)) return { status: 400, reason: 'invalid :authority or host value' };
  }
  return rejectRequestTarget(request.method, request.url);
}

/**
 * Returns the size of an HTTP/2 request's header list as Node.js's HTTP/1.1 parser counts the same
 * request's head against maxHeaderSize, so that both protocols give it the same status. That parser
 * counts the request target and the name and value of each field, with no separators, line ends or
 * method (measured on Node.js 20.20 and 24.22). Here `:path` counts as the target and `:authority`
 * as a Host field. Cookie fields count as the one line `cookie: a; b` that HTTP/1.1 sends, because
 * HTTP/2 clients may send each cookie as a field of its own (RFC 9113 §8.2.3). The other
 * pseudo-header fields have no HTTP/1.1 field and count nothing. Names and values arrive as Latin-1
 * strings, one character per byte.
 */
export function http1HeadSize(rawHeaders: readonly string[]): number {
  let size = 0;
  let hasHost = false;
  let authority: string | undefined;
  let cookieCount = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === ':path') {
      size += value.length;
    } else if (name === ':authority') {
      authority = value;
    } else if (name === 'cookie') {
      // A cookie after the first adds its value and the `; ` before it.
      size += cookieCount === 0 ? name.length + value.length : value.length + 2;
      cookieCount += 1;
    } else if (!name.startsWith(':')) {
      hasHost ||= name === 'host';
      size += name.length + value.length;
    }
  }
  // A request with both sends them equal, or rejectHttp2Request rejects it, so the authority counts once.
  if (authority !== undefined && !hasHost) size += 'host'.length + authority.length;
  return size;
}

/**
 * Returns true for `OPTIONS *`, a question about the server as a whole (RFC 9110 section 9.3.7).
 * The entry point responds to it itself, as Go's server does for Traefik, since no router's path rule
 * can match `*`.
 */
export function isServerWideOptions(request: { method?: string | undefined; url?: string | undefined }): boolean {
  return request.url === '*' && request.method === 'OPTIONS';
}

/**
 * Checks the request target as received: the asterisk form is for OPTIONS only (RFC 9112 section
 * 3.2.4), an absolute-form authority must be a valid host, and no encoded separator may hide a dot
 * segment. Explain runs it on the target it describes, so both report the same 400.
 */
export function rejectRequestTarget(method: string | undefined, target: string | undefined): RequestRejection | undefined {
  if (target === '*' && method !== 'OPTIONS') return { status: 400, reason: `asterisk-form target with method ${method ?? ''}` };
  return rejectInvalidEscape(target) ?? rejectTargetAuthority(target) ?? rejectHiddenDotSegment(target);
}

/** A `%` that does not start a `%XX` escape of two hex digits. */
const INVALID_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Rejects a target whose path has a `%` without two hex digits after it, such as `/%zz`, which
 * RFC 3986 section 2.1 does not allow. Go's server, and so Traefik, responds to such a request
 * with 400 (url.ParseRequestURI fails), so no router, middleware or server receives a path that cannot
 * be decoded. The query is not checked, as Go does not check it either.
 */
function rejectInvalidEscape(target: string | undefined): RequestRejection | undefined {
  if (target === undefined || !target.includes('%')) return undefined;
  const queryAt = target.indexOf('?');
  const beforeQuery = queryAt === -1 ? target : target.slice(0, queryAt);
  if (INVALID_ESCAPE.test(beforeQuery)) return { status: 400, reason: 'invalid percent-encoding in the request target' };
  return undefined;
}

/**
 * Checks the authority of an absolute-form target (`GET http://host/path`), which replaces the Host
 * field for routing and forwarding. RFC 9110 section 4.2.4 makes userinfo (`http://x@host/`) an
 * error: routed as the host `x@host`, it would miss the `Host(host)` router and its middlewares.
 * Other bytes get the check that a Host value gets.
 */
function rejectTargetAuthority(target: string | undefined): RequestRejection | undefined {
  const authority = target === undefined ? undefined : splitAbsoluteTarget(target)?.authority;
  if (authority === undefined) return undefined;
  if (authority.includes('@')) return { status: 400, reason: 'userinfo in the authority of an absolute-form target' };
  if (!VALID_HOST.test(authority)) return { status: 400, reason: 'invalid authority in an absolute-form target' };
  return undefined;
}

/** A separator that Berth does not split the path on but that servers may: `%2F`, `%5C` or `\`. */
const HIDDEN_SEPARATOR = /%2f|%5c|\\/i;

/**
 * Rejects a path in which an encoded slash or a backslash hides a `.` or `..` segment, such as
 * `/public/..%2Fadmin`. Berth routes that by its `/public` router, and a server that decodes `%2F`
 * or treats `\` as a separator resolves it to `/admin`, past the middlewares of the router for
 * `/admin`. Traefik rejects every encoded slash by default since v3.6.4; Berth passes the others
 * on unchanged, because some servers take `a%2Fb` as one segment (an object key, say).
 */
function rejectHiddenDotSegment(target: string | undefined): RequestRejection | undefined {
  if (target === undefined || !HIDDEN_SEPARATOR.test(target)) return undefined;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  for (const segment of path.split('/')) {
    if (!HIDDEN_SEPARATOR.test(segment)) continue;
    const pieces = segment.replace(/%2e/gi, '.').split(/%2f|%5c|\\/i);
    if (pieces.some((piece) => piece === '.' || piece === '..')) {
      return { status: 400, reason: 'encoded slash or backslash next to a dot segment in the path' };
    }
  }
  return undefined;
}

/**
 * Removes the Host field of an HTTP/2 request that has `:authority`, after `rejectRequest` found the
 * two equal up to case. The router, the X-Forwarded-Host field and the Host sent to the server then
 * all take the authority from `:authority`, which Go's server also uses as the request's host.
 */
export function dropRedundantHost(request: Http2ServerRequest): void {
  const authority = request.headers[':authority'];
  if (typeof authority === 'string' && authority !== '') delete request.headers.host;
}

/**
 * Checks the transfer codings of a request. Without `chunked` last the body has no framing (RFC 9112
 * section 6.3), so the request is invalid. llhttp rejects most such requests itself, but not all, such
 * as `xchunked`. llhttp decodes only the chunks of `gzip, chunked`, so the server would get a body whose
 * gzip coding was lost. RFC 9112 section 6.1 advises 501 for a coding the server does not understand,
 * as Go's server sends for any coding other than `chunked`.
 */
function rejectTransferCodings(values: readonly string[]): RequestRejection | undefined {
  if (values.length === 0) return undefined;
  const codings = values.flatMap((value) => value.split(',')).map((coding) => coding.trim().toLowerCase());
  const listed = JSON.stringify(values.join(', '));
  if (codings.at(-1) !== 'chunked') return { status: 400, reason: `Transfer-Encoding ${listed} does not end with chunked` };
  if (codings.length > 1) return { status: 501, reason: `unsupported Transfer-Encoding ${listed}` };
  return undefined;
}

/** Returns the values of every line of field `name` (lower case) in a `[name, value, ...]` list. */
function fieldValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) values.push(rawHeaders[i + 1] as string);
  }
  return values;
}
