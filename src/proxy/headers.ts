// Hop-by-hop header handling for one proxy hop, the header lists sent to the server and back to the client,
// and the parts of a server's response head (reason phrase, trailers) that the client may receive.
// RFC 9110 §7.6.1: a proxy removes the fields named in `Connection`, then `Connection` itself, plus fields
// known to be hop-by-hop even when `Connection` does not name them.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

import { FORWARDED_HEADER_NAMES, forwardedHeaders, requestHost, type ForwardedOptions } from './forwarded.js';
import type { ForwardContext, Upstream } from './types.js';

/**
 * Fields that describe one connection and never travel past a proxy, in lower case. RFC 9110 §7.6.1 names
 * Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding and Upgrade. Trailer, Proxy-Authenticate and
 * Proxy-Authorization are hop-by-hop in RFC 2616 §13.5.1, and Berth removes them as Go's and Traefik's proxies do.
 * HTTP2-Settings belongs to an upgrade to h2c (RFC 7540 §3.2.1), and Node.js's http2 module rejects it
 * in any HTTP/2 message.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
]);

/**
 * Fields a `Connection` option never removes. A client that names them breaks RFC 9110 §7.6.1, which forbids
 * naming end-to-end fields, and obeying would change the message's framing or the route it takes.
 */
const PROTECTED_HEADERS: ReadonlySet<string> = new Set(['host', 'content-length']);

const NO_OPTIONS: ReadonlySet<string> = new Set();

export interface HopByHopOptions {
  /**
   * Keeps `Upgrade` and a `Connection: upgrade` when the message requests a protocol upgrade (RFC 9110 §7.8),
   * for the WebSocket tunnel. Every other connection option is still removed.
   */
  keepUpgrade?: boolean;
  /**
   * Keeps `TE: trailers` when the TE field lists `trailers`, true by default. Set it to false for the
   * headers of a response, where TE has no meaning.
   */
  keepTeTrailers?: boolean;
  /**
   * Keeps the `Trailer` field of a request, which is end-to-end (RFC 9110 §6.6.2). The forwarder announces
   * from it the trailer fields it passes on to an HTTP/1.1 server (request-trailers.ts).
   */
  keepTrailer?: boolean;
}

/**
 * Parses `Connection` field values into lower-case connection options. Options are tokens separated by
 * commas and optional whitespace (RFC 9110 §7.6.1), and a field may appear on several lines.
 */
export function connectionOptions(value: string | readonly string[] | undefined): ReadonlySet<string> {
  // HTTP/2 requests and many HTTP/1.1 requests carry no Connection field, and this runs several times per request.
  if (value === undefined) {
    return NO_OPTIONS;
  }

  const options = new Set<string>();
  const lines = typeof value === 'string' ? [value] : value;
  for (const line of lines) {
    for (const token of line.split(',')) {
      const option = token.trim().toLowerCase();
      if (option !== '') {
        options.add(option);
      }
    }
  }
  return options;
}

/**
 * Returns whether the headers request a protocol upgrade that Berth passes on: an `Upgrade` field with a
 * protocol other than h2c, and the `upgrade` connection option (RFC 9110 §7.8).
 */
export function isUpgradeRequest(headers: IncomingHttpHeaders): boolean {
  if (passedUpgrade(headers.upgrade) === undefined) {
    return false;
  }
  return connectionOptions(headers.connection).has('upgrade');
}

/**
 * Returns the protocols of an `Upgrade` field that Berth passes on to a server: all but h2c, the
 * upgrade to HTTP/2 over cleartext that RFC 9113 section 3.1 deprecated. A server that accepted it
 * would speak HTTP/2 with the client through the tunnel, past Berth's routers and middlewares
 * ("h2c smuggling"). Without any other protocol the request is served as an ordinary request.
 */
export function passedUpgrade(value: string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const protocols = value
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '' && !/^h2c(\/|$)/i.test(protocol));
  return protocols.length > 0 ? protocols.join(', ') : undefined;
}

/**
 * Removes hop-by-hop fields from a request's headers in place, as the request arrives and before
 * middlewares add their own fields. A client can then name `X-Auth-User` in `Connection` only to remove
 * its own copy, never the one a middleware sets later. A TE field that lists `trailers` becomes `TE: trailers`.
 */
export function removeHopByHopHeaders(headers: IncomingHttpHeaders, options: HopByHopOptions = {}): void {
  const upgrade = options.keepUpgrade === true && isUpgradeRequest(headers) ? passedUpgrade(headers.upgrade) : undefined;
  const trailers = options.keepTeTrailers !== false && acceptsTrailers(headers.te);
  const named = connectionOptions(headers.connection);

  for (const name of Object.keys(headers)) {
    const hopByHop = HOP_BY_HOP_HEADERS.has(name) && !(name === 'trailer' && options.keepTrailer === true);
    if (hopByHop || (named.has(name) && !PROTECTED_HEADERS.has(name))) {
      delete headers[name];
    }
  }

  if (upgrade !== undefined) {
    headers.upgrade = upgrade;
    headers.connection = 'upgrade';
  }
  if (trailers) {
    headers.te = 'trailers';
  }
}

/**
 * Returns whether a TE field lists `trailers`, the client's statement that it accepts trailer fields
 * (RFC 9110 §10.1.4). Berth passes that on as `TE: trailers` alone, as Go's ReverseProxy does, because
 * gRPC servers such as grpcio's C core reject requests without it. Other transfer codings in TE
 * describe the client's connection and are dropped.
 */
export function acceptsTrailers(value: string | readonly string[] | undefined): boolean {
  // Each member is a coding name with optional parameters such as `;q=0.5` (RFC 9110 §10.1.4).
  for (const option of connectionOptions(value)) {
    if (option.split(';')[0]?.trim() === 'trailers') {
      return true;
    }
  }
  return false;
}

/**
 * Builds the flat `[name, value, ...]` header list sent to the server: the client's end-to-end fields,
 * `Host`, and Berth's X-Forwarded-* fields in place of the client's. Names are lower case because Node.js
 * lower-cases `request.headers`. Middlewares edit that object, so it is the source rather than `rawHeaders`.
 */
export function upstreamRequestHeaders(
  request: IncomingMessage,
  upstream: Upstream,
  context: ForwardContext,
  options: ForwardedOptions,
): string[] {
  const headers = request.headers;
  const named = connectionOptions(headers.connection);
  const list: string[] = [];

  for (const name of Object.keys(headers)) {
    if (skipForUpstream(name) || (named.has(name) && !PROTECTED_HEADERS.has(name))) {
      continue;
    }

    const value = headers[name];
    if (value === undefined) {
      continue;
    }
    if (typeof value === 'string') {
      list.push(name, value);
    } else {
      for (const item of value) {
        list.push(name, item);
      }
    }
  }

  if (acceptsTrailers(headers.te)) {
    list.push('te', 'trailers');
  }

  // RFC 9110 §7.2: a proxy forwards the Host it received, unless the service is configured to send the server's own authority.
  const host = upstream.passHostHeader ? requestHost(request) : upstream.url.host;
  if (host !== undefined) {
    list.push('host', host);
  }

  const forwarded = forwardedHeaders(request, context, options);
  for (const name of Object.keys(forwarded)) {
    list.push(name, forwarded[name] ?? '');
  }
  return list;
}

/**
 * Builds the flat `[name, value, ...]` header list sent to the client from a response's raw header lines,
 * keeping their order and repeated lines such as several `Set-Cookie` apart (RFC 9110 §5.3 forbids
 * combining those). Buffers are read as Latin-1, the bytes llhttp accepted.
 */
export function clientResponseHeaders(rawHeaders: readonly (Buffer | string)[], options: HopByHopOptions = {}): string[] {
  // The connection options are collected first, because a Connection line may follow the fields it names.
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name?.length === 10 && headerText(name).toLowerCase() === 'connection') {
      named ??= new Set();
      for (const option of connectionOptions(headerText(rawHeaders[i + 1]))) {
        named.add(option);
      }
    }
  }
  const keepUpgrade = options.keepUpgrade === true && named?.has('upgrade') === true;

  const list: string[] = [];
  let upgradeOffered = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = headerText(rawHeaders[i]);
    const lowerName = name.toLowerCase();
    if (keepUpgrade && lowerName === 'upgrade') {
      upgradeOffered = true;
    } else if (HOP_BY_HOP_HEADERS.has(lowerName) || named?.has(lowerName) === true) {
      continue;
    }
    list.push(name, headerText(rawHeaders[i + 1]));
  }

  if (upgradeOffered) {
    list.push('Connection', 'Upgrade');
  }
  return list;
}

/**
 * Returns the Transfer-Encoding of a response as received when it is anything but a single `chunked`, or
 * undefined. llhttp decodes the chunks of `gzip, chunked` and drops the gzip coding without a trace, so the
 * client would get gzip data labelled as plain content. Go's net/http (parseTransferEncoding in transfer.go)
 * also accepts only one Transfer-Encoding line set to `chunked` and fails the response otherwise.
 */
export function unsupportedTransferCoding(rawHeaders: readonly (Buffer | string)[]): string | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name?.length === 17 && headerText(name).toLowerCase() === 'transfer-encoding') {
      values.push(headerText(rawHeaders[i + 1]));
    }
  }
  if (values.length === 0) {
    return undefined;
  }

  const codings = values.flatMap((value) => value.split(',')).map((coding) => coding.trim().toLowerCase());
  const listed = values.join(', ');
  return codings.length === 1 && codings[0] === 'chunked' ? undefined : listed;
}

/**
 * Largest response header list, sized as RFC 9113 §6.5.2 sizes it, that Berth sends to an HTTP/2 client.
 * Node.js resets the stream of a response whose compressed header block is larger than 64 KiB (measured
 * with Node.js 20.20), and this size, with 32 bytes per field, is never below the compressed size.
 */
export const MAX_HTTP2_RESPONSE_HEADER_LIST = 64 * 1024;

/** Returns the size of a flat `[name, value, ...]` list as RFC 9113 §6.5.2 counts it: name, value and 32 bytes per field. */
export function headerListSize(list: readonly string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < list.length; i += 2) size += (list[i] as string).length + (list[i + 1] as string).length + 32;
  return size;
}

/** Returns true for request fields that never reach the server as the client sent them. */
function skipForUpstream(name: string): boolean {
  // HTTP/2 pseudo-header fields such as `:path` are not header fields in HTTP/1.1 (RFC 9113 §8.3).
  if (name.startsWith(':')) {
    return true;
  }
  if (HOP_BY_HOP_HEADERS.has(name) || FORWARDED_HEADER_NAMES.has(name)) {
    return true;
  }

  // Host is added once after the loop. Expect is dropped because undici 7 rejects it over HTTP/1.1, and the
  // forwarder adds `Expect: 100-continue` itself for the requests it sends through node:http. Trailer goes
  // with the hop-by-hop fields, and the node:http path announces it again for the requests whose trailers it sends.
  return name === 'host' || name === 'expect';
}

function headerText(value: Buffer | string | undefined): string {
  if (value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : value.toString('latin1');
}

/**
 * Returns whether the response to the client can end with trailer fields: on HTTP/2, or in a chunked
 * HTTP/1.1 body. Node.js rejects a `Trailer` field on any other response, such as one to HTTP/1.0.
 */
export function carriesTrailers(request: IncomingMessage, statusCode: number, headers: IncomingHttpHeaders): boolean {
  if (request.method === 'HEAD' || statusCode === 204 || statusCode === 304) {
    return false;
  }
  if (request.httpVersionMajor >= 2) {
    return true;
  }
  return request.httpVersionMinor >= 1 && headers['content-length'] === undefined;
}

/**
 * Returns the server's reason phrase to send to an HTTP/1 client, or undefined for Node.js's default phrase.
 * HTTP/2 has no reason phrase (RFC 9113 §8.3.2). RFC 9112 §4 allows HTAB, SP, VCHAR and obs-text, but only
 * ASCII is relayed. undici decodes the phrase as UTF-8 and Node.js writes it as Latin-1, so other characters
 * would reach the client as different bytes, or be rejected by writeHead.
 */
export function relayedReason(request: IncomingMessage, statusMessage: string | undefined): string | undefined {
  if (request.httpVersionMajor >= 2 || statusMessage === undefined || statusMessage === '') {
    return undefined;
  }
  return /^[\t\x20-\x7e]*$/.test(statusMessage) ? statusMessage : undefined;
}

/** Clears what a rejected writeHead left on the response: the status message and the fields in `list`. */
export function clearRejectedHead(response: ServerResponse, list: readonly string[]): void {
  if (response.req.httpVersionMajor < 2) {
    response.statusMessage = '';
  }
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    if (name !== undefined && !name.startsWith(':') && response.hasHeader(name)) {
      response.removeHeader(name);
    }
  }
}

/** Turns parsed headers into a flat list, for the case where undici gives no raw header lines. */
export function flattenHeaders(headers: IncomingHttpHeaders): string[] {
  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) {
      continue;
    }
    for (const item of typeof value === 'string' ? [value] : value) {
      list.push(name, item);
    }
  }
  return list;
}

/** Removes every Content-Length field from a flat header list. */
export function withoutContentLength(list: string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    if ((list[i] as string).toLowerCase() !== 'content-length') result.push(list[i] as string, list[i + 1] as string);
  }
  return result;
}
