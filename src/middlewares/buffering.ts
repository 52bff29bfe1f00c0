// The `buffering` middleware (Traefik's): reads the whole request body before forwarding it, so the
// server gets it with a Content-Length, and keeps the whole response back until it ends. Bodies
// beyond the `mem*` thresholds go to a temporary file. A request body over `maxRequestBodyBytes`
// gets 413, and a response body over `maxResponseBodyBytes` gets 500, as Traefik's documentation states.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

import { ClientClosedError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { abortResponse } from '../proxy/abort-response.js';
import { drainUnlessClientGone, isClientGone } from '../proxy/client-gone.js';
import { sendErrorResponse } from '../proxy/error-response.js';
import { hasRequestBody } from '../proxy/upstream-request.js';
import { BodySpool, type SpoolFileErrorListener } from './body-spool.js';
import { throttledLog } from './log-throttle.js';
import { integerOption, option } from './options.js';
import { ReplayRequest } from './replay-request.js';
import { toBuffer, toList, withoutHeader, type HeaderList } from './response-headers.js';
import type { Middleware, RequestContext } from './types.js';

/** Traefik's default for `memRequestBodyBytes` and `memResponseBodyBytes`: 1 MiB. */
const DEFAULT_MEMORY_BYTES = 1_048_576;

export interface BufferingSettings {
  /** 0 means no limit, as in Traefik. */
  maxRequestBodyBytes: number;
  memRequestBodyBytes: number;
  /** 0 means no limit, as in Traefik. */
  maxResponseBodyBytes: number;
  memResponseBodyBytes: number;
}

export function createBuffering(options: Record<string, unknown>, logger: Logger = silentLogger()): Middleware {
  const settings = bufferingSettings(options);
  // A full disk fails the file of every large body, so each kind of failure is throttled.
  const logWriteFailed = throttledLog(logger, 'warn');
  const logRemoveFailed = throttledLog(logger, 'warn');

  return async (context, next) => {
    const onFileError: SpoolFileErrorListener = (error, operation, path) => {
      const fields = { [Fields.router]: context.router, [Fields.path]: path, err: error };
      if (operation === 'write') logWriteFailed(fields, 'writing a buffered body to a temporary file failed, so the request failed');
      else logRemoveFailed(fields, 'removing the temporary file of a buffered body failed');
    };
    let requestSpool: BodySpool | undefined;
    if (hasRequestBody(context.request)) {
      requestSpool = await bufferRequestBody(context, settings, onFileError, logger);
      if (requestSpool === undefined) return;
    }
    const heldResponse = bufferResponse(context.request, context.response, settings, onFileError);
    try {
      await next();
      // Middlewares before this one, such as `errors`, see the response only once it is written.
      await heldResponse.written();
    } finally {
      heldResponse.release();
      // The forwarder has read what it needs of the body once the service call returned.
      await requestSpool?.dispose();
    }
  };
}

/** Reads and checks the options; throws an Error naming the bad option. */
export function bufferingSettings(options: Record<string, unknown>): BufferingSettings {
  const retryExpression = option(options, 'retryExpression');
  if (retryExpression !== undefined && String(retryExpression).trim() !== '') {
    throw new Error('buffering retryExpression is not supported yet: remove it, and add a retry middleware to retry failed requests');
  }
  const read = (name: string, fallback: number, example: number): number => integerOption(options, 'buffering', name, { fallback, min: 0, example });
  return {
    maxRequestBodyBytes: read('maxRequestBodyBytes', 0, 2_000_000),
    memRequestBodyBytes: read('memRequestBodyBytes', DEFAULT_MEMORY_BYTES, DEFAULT_MEMORY_BYTES),
    maxResponseBodyBytes: read('maxResponseBodyBytes', 0, 2_000_000),
    memResponseBodyBytes: read('memResponseBodyBytes', DEFAULT_MEMORY_BYTES, DEFAULT_MEMORY_BYTES),
  };
}

/**
 * Reads the request body into a spool and puts a request that replays it, with a Content-Length, on
 * `context`. Returns undefined when the middleware responded itself: 413 for a body over the limit,
 * or nothing for a client that went away.
 */
async function bufferRequestBody(context: RequestContext, settings: BufferingSettings, onFileError: SpoolFileErrorListener, logger: Logger): Promise<BodySpool | undefined> {
  const { request, response } = context;
  const max = settings.maxRequestBodyBytes;
  const declared = Number(request.headers['content-length']);
  if (max > 0 && Number.isFinite(declared) && declared > max) {
    // The body stays unread, so the connection closes after the response.
    sendErrorResponse(response, 413, true);
    return undefined;
  }

  // The entry point leaves `100 Continue` to Berth, and the client sends nothing before it.
  if (expectsContinue(request)) response.writeContinue();

  const spool = new BodySpool(settings.memRequestBodyBytes, onFileError);
  const result = await readInto(request, spool, max);
  if (result !== 'complete') {
    await spool.dispose();
    if (result === 'too-large') {
      sendErrorResponse(response, 413, true);
    } else {
      // The request is never forwarded, so the 499 line that the forwarder writes for a client that left is written here.
      const error = new ClientClosedError('the client closed the connection while sending the request body');
      logger.debug({ [Fields.router]: context.router, [Fields.status]: error.status, err: error }, 'client closed the connection while buffering read its request body');
      abortResponse(response);
    }
    return undefined;
  }

  context.request = new ReplayRequest(request, { method: request.method ?? 'POST', url: request.url ?? '/', headers: request.headers, body: spool.reader(), bodyLength: spool.size });
  return spool;
}

function expectsContinue(request: IncomingMessage): boolean {
  const http11OrLater = request.httpVersionMajor >= 2 || (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1);
  return http11OrLater && /(?:^|\W)100-continue(?:$|\W)/i.test(request.headers.expect ?? '');
}

/**
 * Reads `request` into `spool`, pausing the client while a chunk goes to the file. Stops reading at
 * the first chunk that takes the body over `max` (0 for no limit), leaving the rest unread.
 */
function readInto(request: IncomingMessage, spool: BodySpool, max: number): Promise<'complete' | 'too-large' | 'aborted'> {
  return new Promise((resolve, reject) => {
    const finish = (result: 'complete' | 'too-large' | 'aborted'): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      request.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      if (max > 0 && spool.size + chunk.length > max) {
        request.pause();
        finish('too-large');
        return;
      }
      if (spool.append(chunk)) return;
      request.pause();
      spool.flushed().then(() => request.resume(), reject);
    };
    const onEnd = (): void => {
      request.off('close', onClose);
      spool.flushed().then(() => finish(request.aborted ? 'aborted' : 'complete'), reject);
    };
    const onAborted = (): void => finish('aborted');
    const onClose = (): void => finish('aborted');

    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
    request.on('close', onClose);
    request.resume();
  });
}

type WriteCallback = (error?: Error | null) => void;

/** The wrapped response's progress. */
type Phase =
  | { kind: 'waiting' }
  | { kind: 'buffering'; statusCode: number; reason: string | undefined; headers: HeaderList; spool: BodySpool }
  /** The buffered response is being written to the client, or a 500 replaced it, so later writes are dropped. */
  | { kind: 'sent' }
  /** The middleware is done, and a middleware before it (`errors`, say) may write another response. */
  | { kind: 'released' };

interface HeldResponse {
  /**
   * Resolves once the held response was passed on: at once when nothing was held, else after its
   * end (which an inner middleware may call late) or the client's going away.
   */
  written(): Promise<void>;
  /** Passes every later call straight to the response. */
  release(): void;
}

/**
 * Replaces the response's writeHead, write and end so that the header and body are held until the
 * end and then written at once, with a Content-Length when the server sent none. A body over
 * `maxResponseBodyBytes` is dropped and replaced by 500 at once.
 */
function bufferResponse(request: IncomingMessage, response: ServerResponse, settings: BufferingSettings, onFileError: SpoolFileErrorListener): HeldResponse {
  const originalWriteHead = response.writeHead;
  const originalWrite = response.write;
  const originalEnd = response.end;
  const max = settings.maxResponseBodyBytes;
  let phase: Phase = { kind: 'waiting' };
  let flushing: Promise<void> | undefined;
  let endCalled: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    endCalled = resolve;
  });

  // A client that leaves before the held response was written gets nothing, so its spool file goes now.
  response.once('close', () => {
    if (phase.kind !== 'buffering') return;
    void phase.spool.dispose();
    phase = { kind: 'sent' };
  });

  const writeThrough = (chunk: Buffer): boolean => (originalWrite as (chunk: Buffer) => boolean).call(response, chunk);
  const sendHead = (statusCode: number, reason: string | undefined, headers: HeaderList): void => {
    if (reason === undefined) originalWriteHead.call(response, statusCode, headers);
    else (originalWriteHead as (code: number, reason: string, headers: HeaderList) => ServerResponse).call(response, statusCode, reason, headers);
  };

  // NOTE: the server's remaining body is still read and dropped after the 500, because the
  // middleware cannot abort the forwarder's exchange, and nothing logs the overflow.
  const overflow = (): void => {
    if (phase.kind === 'buffering') void phase.spool.dispose();
    phase = { kind: 'sent' };
    const body = `500 ${STATUS_CODES[500] ?? ''}\n`;
    sendHead(500, undefined, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))]);
    (originalEnd as (chunk: string) => ServerResponse).call(response, body);
  };

  const append = (chunk: Buffer): boolean => {
    if (phase.kind !== 'buffering') return true;
    if (max > 0 && phase.spool.size + chunk.length > max) {
      overflow();
      return true;
    }
    return phase.spool.append(chunk);
  };

  const flush = async (current: Extract<Phase, { kind: 'buffering' }>, callback: (() => void) | undefined): Promise<void> => {
    phase = { kind: 'sent' };
    try {
      await current.spool.flushed();
      sendHead(current.statusCode, current.reason, withContentLength(request, current.statusCode, current.headers, current.spool.size));
      for await (const chunk of current.spool.reader()) {
        if (!writeThrough(chunk as Buffer) && !(await drainUnlessClientGone(response))) return;
        if (isClientGone(response)) return;
      }
      (originalEnd as (callback?: () => void) => ServerResponse).call(response, callback);
    } catch (error) {
      abortResponse(response, error instanceof Error ? error : undefined);
    } finally {
      await current.spool.dispose();
    }
  };

  response.writeHead = function writeHeadWithBuffer(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (phase.kind === 'released') return originalWriteHead.call(this, statusCode, ...(rest as []));
    if (phase.kind === 'sent') return this;
    // A header still held back was never sent, so a later one (an error status, say) replaces it with its body.
    if (phase.kind === 'buffering') void phase.spool.dispose();
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    const passedHeaders = (reason === undefined ? rest[0] : rest[1]) as OutgoingHttpHeaders | HeaderList | undefined;
    const headers = [...toList(this.getHeaders()), ...toList(passedHeaders)];
    for (const name of this.getHeaderNames()) this.removeHeader(name);

    phase = { kind: 'buffering', statusCode, reason, headers, spool: new BodySpool(settings.memResponseBodyBytes, onFileError) };
    const declared = Number(headerValue(headers, 'content-length'));
    if (max > 0 && request.method !== 'HEAD' && Number.isFinite(declared) && declared > max) overflow();
    return this;
  } as typeof originalWriteHead;

  response.write = function writeWithBuffer(this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    if (phase.kind === 'released') return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    if (phase.kind === 'waiting') this.writeHead(this.statusCode);
    const callback = rest.find((item): item is WriteCallback => typeof item === 'function');
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
    const buffer = toBuffer(chunk, encoding);
    // An empty chunk adds nothing to wait for, so it returns true. Returning false and then emitting
    // 'drain' made a writer that writes again on 'drain' loop forever once the spool was on disk.
    if (buffer.length === 0) {
      if (callback) process.nextTick(callback);
      return true;
    }
    const stored = append(buffer);
    const current = phase;
    if (stored || current.kind !== 'buffering') {
      if (callback) process.nextTick(callback);
      return true;
    }
    // The forwarder pauses the server until 'drain', which is emitted once the file write is done.
    current.spool.flushed().then(
      () => {
        callback?.();
        this.emit('drain');
      },
      (error: unknown) => this.destroy(error instanceof Error ? error : undefined),
    );
    return false;
  } as typeof originalWrite;

  response.end = function endWithBuffer(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (phase.kind === 'released') return (originalEnd as (...args: unknown[]) => ServerResponse).call(this, ...args);
    endCalled();
    if (phase.kind === 'waiting') this.writeHead(this.statusCode);
    const callback = args.find((item): item is () => void => typeof item === 'function');
    const chunk = typeof args[0] === 'function' ? undefined : args[0];
    const encoding = typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined;
    if (chunk !== undefined && chunk !== null) append(toBuffer(chunk, encoding));

    const current = phase;
    if (current.kind === 'buffering') flushing = flush(current, callback);
    return this;
  } as typeof originalEnd;

  const written = async (): Promise<void> => {
    if (phase.kind === 'buffering' && flushing === undefined) {
      let onClose: () => void = () => {};
      const closed = new Promise<void>((resolve) => {
        onClose = resolve;
        response.once('close', onClose);
      });
      await Promise.race([ended, closed]);
      response.off('close', onClose);
    }
    await flushing;
  };
  const release = (): void => {
    phase = { kind: 'released' };
  };
  return { written, release };
}

/** Adds the Content-Length of the buffered body to a response that has a body and no Content-Length. */
function withContentLength(request: IncomingMessage, statusCode: number, headers: HeaderList, size: number): HeaderList {
  const bodiless = request.method === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304;
  if (bodiless || headerValue(headers, 'content-length') !== undefined) return headers;
  // Node.js sends trailer fields only in a chunked response, so their announcement goes too.
  const unchunked = withoutHeader(withoutHeader(headers, 'transfer-encoding'), 'trailer');
  return [...unchunked, 'content-length', String(size)];
}

function headerValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === name) return headers[i + 1];
  }
  return undefined;
}
