// The response side of the `compress` middleware: a wrapper of the response's writeHead, write, end
// and 'drain' that decides per response whether to compress, and then compresses the body as it streams.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

import { abortResponse } from '../proxy/abort-response.js';
import { isClientGone } from '../proxy/client-gone.js';
import { CompressedBody } from './compress-body.js';
import type { CompressEncoding, CompressSettings } from './compress.js';
import { toBuffer, toList, withoutHeader, type HeaderList } from './response-headers.js';

/**
 * Media types never compressed: an event stream must reach the client event by event, and gRPC
 * compresses its own messages (Traefik also always excludes `application/grpc`).
 */
const NEVER_COMPRESSED = new Set(['text/event-stream', 'application/grpc']);

/**
 * Time a body still under `minResponseBodyBytes` is held before it is compressed and sent anyway, in ms.
 * Traefik's compress (v3, responseWriter.Flush) starts compressing and sends what it holds when the proxy
 * flushes before the minimum is reached. Berth's forwarder writes every chunk at once and never flushes,
 * so this timer replaces that flush, after Traefik's default `responseForwarding.flushInterval`.
 */
const FLUSH_INTERVAL_MS = 100;

/** Returns the lower-case media type of a Content-Type value, without parameters. */
export function mediaType(value: string): string {
  return (value.split(';', 1)[0] ?? '').trim().toLowerCase();
}

type WriteCallback = (error?: Error | null) => void;
type RawWrite = (chunk: Buffer, callback?: WriteCallback) => boolean;
type RawEnd = (callback?: () => void) => ServerResponse;
type RawEmit = (event: string | symbol, ...args: unknown[]) => boolean;

/** The wrapped response's progress: the header is held until the body shows whether to compress. */
type Phase =
  | { kind: 'waiting' }
  | { kind: 'buffering'; statusCode: number; reason: string | undefined; headers: HeaderList; chunks: Buffer[]; size: number }
  | { kind: 'passthrough' }
  | { kind: 'compressing'; body: CompressedBody };

type BufferingPhase = Extract<Phase, { kind: 'buffering' }>;

/**
 * Replaces the response's writeHead, write, end and emit. A response that cannot be compressed is
 * passed on as soon as its header is written. Otherwise the header is held until the body reaches
 * `minResponseBodyBytes` or ends, or its first bytes have waited FLUSH_INTERVAL_MS. A short body that
 * ends within that time is therefore not compressed, and a slow stream is held back for at most that time.
 */
export function wrapResponse(request: IncomingMessage, response: ServerResponse, settings: CompressSettings, encoding: CompressEncoding | undefined): void {
  const originalWriteHead = response.writeHead;
  const originalWrite = response.write;
  const originalEnd = response.end;
  const originalEmit = response.emit as RawEmit;
  let phase: Phase = { kind: 'waiting' };

  const sendHead = (statusCode: number, reason: string | undefined, headers: HeaderList): void => {
    if (reason === undefined) originalWriteHead.call(response, statusCode, headers);
    else (originalWriteHead as (code: number, reason: string, headers: HeaderList) => ServerResponse).call(response, statusCode, reason, headers);
  };
  const writeThrough = (chunk: Buffer, callback?: WriteCallback): boolean => (originalWrite as RawWrite).call(response, chunk, callback);
  const endThrough = (callback?: () => void): void => {
    (originalEnd as RawEnd).call(response, callback);
  };

  const startCompressing = (statusCode: number, reason: string | undefined, headers: HeaderList, chosen: CompressEncoding): CompressedBody => {
    stopFlushTimer();
    sendHead(statusCode, reason, compressedHeaders(headers, chosen));
    const body = new CompressedBody({
      encoding: chosen,
      writeThrough: (chunk) => writeThrough(chunk),
      emitDrain: () => originalEmit.call(response, 'drain'),
      abort: (error) => abortResponse(response, error),
    });
    response.once('close', () => body.destroy());
    phase = { kind: 'compressing', body };
    return body;
  };

  /** Compresses the chunks held so far, and returns false when the writer must wait for 'drain'. */
  const compressBuffered = (buffering: BufferingPhase, chosen: CompressEncoding): boolean => {
    const body = startCompressing(buffering.statusCode, buffering.reason, buffering.headers, chosen);
    let ready = true;
    for (const bufferedChunk of buffering.chunks) ready = body.write(bufferedChunk);
    return ready;
  };

  // NOTE: Go's ReverseProxy, which Traefik uses, flushes a response without Content-Length after every
  // write, so Traefik compresses such a stream from its first byte. Here a short body that ends within
  // FLUSH_INTERVAL_MS stays uncompressed. As in Traefik, a header without body bytes is held until the first.
  let flushTimer: NodeJS.Timeout | undefined;
  const startFlushTimer = (buffering: BufferingPhase): void => {
    if (flushTimer !== undefined || buffering.size === 0) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      // No write of these chunks returned false, so the writer waits for no 'drain' for them.
      if (phase === buffering && encoding !== undefined && !isClientGone(response)) compressBuffered(buffering, encoding);
    }, FLUSH_INTERVAL_MS);
  };
  function stopFlushTimer(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  response.once('close', stopFlushTimer);

  const decideOnHeader = (statusCode: number, reason: string | undefined, headers: HeaderList): void => {
    stopFlushTimer();
    if (!mayCompress(statusCode, headers, settings)) {
      phase = { kind: 'passthrough' };
      sendHead(statusCode, reason, headers);
      return;
    }
    // Whether the body is compressed depends on Accept-Encoding from here on, which caches must know.
    const varied = withVary(headers);
    // A HEAD response has no body to compress, but carries the fields a GET would (RFC 9110 §9.3.2).
    if (request.method === 'HEAD') {
      phase = { kind: 'passthrough' };
      sendHead(statusCode, reason, varied);
      return;
    }
    const length = headerValue(headers, 'content-length');
    const knownLength = length === undefined ? undefined : Number(length);
    if (encoding === undefined || (knownLength !== undefined && knownLength < settings.minResponseBodyBytes)) {
      phase = { kind: 'passthrough' };
      sendHead(statusCode, reason, varied);
      return;
    }
    if (knownLength !== undefined || settings.minResponseBodyBytes === 0) {
      startCompressing(statusCode, reason, varied, encoding);
      return;
    }
    phase = { kind: 'buffering', statusCode, reason, headers: varied, chunks: [], size: 0 };
  };

  response.writeHead = function writeHeadWithCompression(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const current: Phase = phase;
    if ((current.kind === 'passthrough' || current.kind === 'compressing') && !this.headersSent) {
      // A middleware before this one (buffering) keeps back the header it was given, and lets a later one,
      // such as the forwarder's 502 for a server that failed mid-body, replace it. The body compressed for
      // the old header is dropped, and the new header is judged on its own.
      if (current.kind === 'compressing') current.body.destroy();
      phase = { kind: 'waiting' };
    } else if (current.kind === 'passthrough' || current.kind === 'compressing') {
      // A second status line is Node.js's error to raise, as without this middleware.
      return originalWriteHead.call(this, statusCode, ...(rest as []));
    }
    // A header still held back was never sent, so a later one (an error status, say) replaces it.
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    const given = (reason === undefined ? rest[0] : rest[1]) as OutgoingHttpHeaders | HeaderList | undefined;
    const headers = [...toList(this.getHeaders()), ...toList(given)];
    for (const name of this.getHeaderNames()) this.removeHeader(name);
    decideOnHeader(statusCode, reason, headers);
    return this;
  } as typeof originalWriteHead;

  response.write = function writeWithCompression(this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    const callback = rest.find((item): item is WriteCallback => typeof item === 'function');
    const encodingName = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
    if (phase.kind === 'waiting') this.writeHead(this.statusCode);
    const data = toBuffer(chunk, encodingName);

    const current: Phase = phase;
    if (current.kind === 'passthrough') return writeThrough(data, callback);
    if (current.kind === 'compressing') return current.body.write(data, callback);
    if (current.kind === 'buffering') {
      current.chunks.push(data);
      current.size += data.length;
      if (callback) process.nextTick(callback);
      if (current.size >= settings.minResponseBodyBytes && encoding !== undefined) return compressBuffered(current, encoding);
      startFlushTimer(current);
      return true;
    }
    return true;
  } as typeof originalWrite;

  response.end = function endWithCompression(this: ServerResponse, ...args: unknown[]): ServerResponse {
    const callback = args.find((item): item is () => void => typeof item === 'function');
    const chunk = typeof args[0] === 'function' ? undefined : args[0];
    const encodingName = typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined;
    if (phase.kind === 'waiting') this.writeHead(this.statusCode);
    const data = chunk === undefined || chunk === null ? undefined : toBuffer(chunk, encodingName);

    const current: Phase = phase;
    if (current.kind === 'buffering') {
      stopFlushTimer();
      const chunks = data === undefined ? current.chunks : [...current.chunks, data];
      const size = current.size + (data?.length ?? 0);
      if (size >= settings.minResponseBodyBytes && encoding !== undefined) {
        const body = startCompressing(current.statusCode, current.reason, current.headers, encoding);
        body.end(Buffer.concat(chunks), () => endThrough(callback));
      } else {
        phase = { kind: 'passthrough' };
        sendHead(current.statusCode, current.reason, current.headers);
        for (const bufferedChunk of chunks) writeThrough(bufferedChunk);
        endThrough(callback);
      }
      return this;
    }
    if (current.kind === 'compressing') {
      current.body.end(data, () => endThrough(callback));
      return this;
    }
    if (data !== undefined) writeThrough(data);
    endThrough(callback);
    return this;
  } as typeof originalEnd;

  // The response emits 'drain' once the socket or HTTP/2 stream has taken what was buffered. While
  // compressing, the writer may also have to wait for the compressor, so the compressed body holds
  // back a 'drain' that comes too early and emits one of its own later.
  response.emit = function emitWithCompression(this: ServerResponse, event: string | symbol, ...args: unknown[]): boolean {
    const current: Phase = phase;
    if (event === 'drain' && current.kind === 'compressing') {
      const writerMayResume = current.body.downstreamDrained();
      if (!writerMayResume) return this.listenerCount('drain') > 0;
    }
    return originalEmit.call(this, event, ...args);
  } as typeof response.emit;
}

/** Returns false for a response that must keep its body as the server sent it. */
function mayCompress(statusCode: number, headers: HeaderList, settings: CompressSettings): boolean {
  // 1xx, 204 and 304 responses never have content (RFC 9110 §6.4.1).
  if (statusCode < 200 || statusCode === 204 || statusCode === 304) return false;
  const contentEncoding = headerValue(headers, 'content-encoding');
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity' && contentEncoding.trim() !== '') return false;
  // A range refers to the bytes of the uncompressed representation (RFC 9110 §14.4).
  if (headerValue(headers, 'content-range') !== undefined) return false;
  // `no-transform` forbids intermediaries to change the content coding (RFC 9111 §5.2.2.6).
  const cacheControl = headerValue(headers, 'cache-control');
  if (cacheControl !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cacheControl)) return false;

  const contentType = headerValue(headers, 'content-type');
  const type = contentType === undefined ? undefined : mediaType(contentType);
  if (type !== undefined && NEVER_COMPRESSED.has(type)) return false;
  if (type !== undefined && settings.excludedContentTypes.has(type)) return false;
  if (settings.includedContentTypes.size > 0 && (type === undefined || !settings.includedContentTypes.has(type))) return false;
  return true;
}

/** Adds `Vary: Accept-Encoding` unless the response already varies on it or on everything. */
function withVary(headers: HeaderList): HeaderList {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() !== 'vary') continue;
    const names = (headers[i + 1] as string).split(',').map((name) => name.trim().toLowerCase());
    if (names.includes('*') || names.includes('accept-encoding')) return headers;
  }
  return [...headers, 'Vary', 'Accept-Encoding'];
}

/** Returns the header of a compressed response. */
function compressedHeaders(headers: HeaderList, encoding: CompressEncoding): HeaderList {
  let result = withoutHeader(headers, 'content-length');
  result = withoutHeader(result, 'content-encoding');
  // Ranges of the compressed bytes are not offered, because the forwarder requests ranges of the original ones.
  result = withoutHeader(result, 'accept-ranges');
  // A strong ETag names the exact bytes, which are now different, so it becomes weak (RFC 9110 §8.8.3).
  const etag = headerValue(result, 'etag');
  if (etag !== undefined && !etag.startsWith('W/')) {
    result = withoutHeader(result, 'etag');
    result.push('ETag', `W/${etag}`);
  }
  result.push('Content-Encoding', encoding);
  return result;
}

function headerValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === name) return headers[i + 1];
  }
  return undefined;
}
