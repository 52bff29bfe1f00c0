// Detection of requests to an h2c server that the server never processed. RFC 9113 §8.7 names two signals: a stream
// reset with REFUSED_STREAM, and a GOAWAY whose last-stream-id is below the stream's identifier. Such a
// request can be sent again whatever its method, as long as no byte of its body was read from the client.
//
// undici 7.30.3 reports neither signal in the error it passes to the handler. A GOAWAY fails every
// request in flight on the session with the same SocketError (`HTTP/2: "GOAWAY" frame received with
// code N`) whatever their stream identifiers, because undici then destroys the socket. So Berth reads
// the stream identifier and the GOAWAY from the ClientHttp2Session that undici keeps on the socket.
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** The GOAWAY state of one HTTP/2 session, shared by the streams it carries. */
interface SessionState {
  /** The lowest last-stream-id of the GOAWAY frames received, undefined before the first one. */
  goawayLastStreamId: number | undefined;
}

/** The HTTP/2 stream that a request went out on. */
export interface RequestStream {
  /** Stream identifier of the request's HEADERS frame. */
  id: number;
  session: SessionState;
  /** Resets the stream, unless it is closed already, so that the server stops waiting for the request body. */
  reset(error: Error): void;
}

// NOTE: the session sits on the socket under `kHTTP2Session` of undici's lib/core/symbols.js, an
// internal module, so this depends on the exact undici version that package.json pins (7.30.3). When
// a later version moves it, requestStream returns undefined: a GOAWAY then counts as an ordinary
// failure and only REFUSED_STREAM is recognized, which the unit test of this module catches.
const undiciSymbols = createRequire(import.meta.url)('undici/lib/core/symbols.js') as { kHTTP2Session?: unknown };
const SESSION_KEY = typeof undiciSymbols.kHTTP2Session === 'symbol' ? undiciSymbols.kHTTP2Session : undefined;

const sessions = new WeakMap<ClientHttp2Session, SessionState>();

/**
 * Returns the stream that undici is about to open on the HTTP/2 session of `socket`, or undefined for
 * a socket without one (HTTP/1.1). Call it from `undici:client:sendHeaders`, which undici publishes
 * right before `session.request()`, so the session's next stream identifier is the request's own.
 */
export function requestStream(socket: Socket): RequestStream | undefined {
  const session = SESSION_KEY === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[SESSION_KEY];
  if (!isSession(session)) return undefined;
  const id = session.state.nextStreamID;
  if (id === undefined) return undefined;

  let state = sessions.get(session);
  if (state === undefined) {
    const created: SessionState = { goawayLastStreamId: undefined };
    // Prepended, because undici's own listener fails the requests in flight before it returns.
    session.prependListener('goaway', (_errorCode: number, lastStreamId: number) => {
      created.goawayLastStreamId = Math.min(lastStreamId, created.goawayLastStreamId ?? lastStreamId);
    });
    sessions.set(session, created);
    state = created;
  }

  let opened: ClientHttp2Stream | undefined;
  captureNextStream(session, (stream) => (opened = stream));
  // NOTE: with Node.js 20.20, close(code) on a stream whose body is still being piped sends no frame, so the
  // server's stream stays open, and undici 7.30.3 aborts with close(). destroy(error) sends RST_STREAM with INTERNAL_ERROR.
  const reset = (error: Error): void => {
    if (opened !== undefined && !opened.closed && !opened.destroyed) opened.destroy(error);
  };
  return { id, session: state, reset };
}

/** Calls `receive` with the stream that the next `session.request()` opens, which undici calls right after `undici:client:sendHeaders`. */
function captureNextStream(session: ClientHttp2Session, receive: (stream: ClientHttp2Stream) => void): void {
  const hadOwn = Object.hasOwn(session, 'request');
  const original = session.request;
  const restore = (): void => {
    if (hadOwn) session.request = original;
    else delete (session as Partial<ClientHttp2Session>).request;
  };
  session.request = function requestOnce(this: ClientHttp2Session, ...args: Parameters<ClientHttp2Session['request']>): ClientHttp2Stream {
    restore();
    const stream = original.apply(this, args);
    receive(stream);
    return stream;
  } as ClientHttp2Session['request'];
  // undici calls request() in the same synchronous step, so a wrapper still in place afterwards was not for it.
  queueMicrotask(() => {
    if (session.request !== original) restore();
  });
}

/**
 * Returns true when `error`, which ended a request before its response header, shows that the server
 * did not process the request (RFC 9113 §8.7). That is so when the stream was refused, or when the session
 * received a GOAWAY whose last-stream-id is below the stream's identifier. `stream` is undefined when it is unknown, and
 * then only a refused stream counts.
 */
export function requestNotProcessed(stream: RequestStream | undefined, error: unknown): boolean {
  if (isRefusedStream(error)) return true;
  const lastStreamId = stream?.session.goawayLastStreamId;
  return stream !== undefined && lastStreamId !== undefined && stream.id > lastStreamId;
}

/**
 * Returns whether `error` is Node.js's error for a stream reset with REFUSED_STREAM. undici 7 passes it
 * unchanged, and Node.js 20 and 24 name the code only in the message: `Stream closed with error code
 * NGHTTP2_REFUSED_STREAM` (ERR_HTTP2_STREAM_ERROR). nghttp2 also closes streams above a GOAWAY's
 * last-stream-id with that code.
 */
export function isRefusedStream(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { code?: unknown }).code === 'ERR_HTTP2_STREAM_ERROR' && error.message.endsWith('NGHTTP2_REFUSED_STREAM');
}

function isSession(value: unknown): value is ClientHttp2Session {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<ClientHttp2Session>;
  return typeof candidate.prependListener === 'function' && typeof candidate.state === 'object';
}
