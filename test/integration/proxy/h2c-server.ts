// An h2c server (HTTP/2 without TLS, prior knowledge) whose handling of each stream a test chooses: respond,
// refuse, reset, or send GOAWAY. It records every stream it receives and every request it responds to.
import { once } from 'node:events';
import http2, { type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';

import { LOOPBACK } from './harness.js';

/** One stream as the server received it. */
export interface SeenStream {
  /** Number of the session (TCP connection) it arrived on, from 1. */
  session: number;
  /** Stream identifier. */
  id: number;
  method: string;
  path: string;
}

/** What the server does with one stream. */
export type StreamAction =
  /** Responds 200 with the body `ok`. */
  | 'respond'
  /** Resets the stream with REFUSED_STREAM: the server did not process it (RFC 9113 §8.7). */
  | 'refuse'
  /** Resets the stream with INTERNAL_ERROR, after the request header was read. */
  | 'internal-error'
  /** Sends GOAWAY whose last-stream-id is the one before this stream, and never responds to it. */
  | 'goaway-below';

export interface H2cServer {
  /** `h2c://127.0.0.1:PORT` */
  url: string;
  /** Streams in the order they arrived. */
  seen: SeenStream[];
  /** Streams the server responded to with 200. */
  responded: SeenStream[];
  /** Number of sessions opened so far. */
  sessions(): number;
  close(): Promise<void>;
}

export interface H2cServerOptions {
  /** Closes a session (GOAWAY, then close) once it carried no stream for this many ms, as Go's IdleTimeout does. */
  idleCloseMs?: number;
  /** With `idleCloseMs`, destroys the TCP connection instead, with no GOAWAY. */
  abrupt?: boolean;
}

/** Starts an h2c server on the loopback address that handles each stream as `decide` returns. */
export async function startH2cServer(decide: (stream: SeenStream) => StreamAction, options: H2cServerOptions = {}): Promise<H2cServer> {
  const seen: SeenStream[] = [];
  const responded: SeenStream[] = [];
  const sockets = new Set<Socket>();
  const numbers = new WeakMap<Http2Session, number>();
  let sessionCount = 0;

  const server = http2.createServer();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('session', (session: Http2Session) => {
    sessionCount += 1;
    numbers.set(session, sessionCount);
    session.on('error', () => undefined);
    if (options.idleCloseMs === undefined) return;
    // session.socket refuses destroy(), so the abrupt close finds the TCP socket by the client's port.
    const socket = [...sockets].find((item) => item.remotePort === session.socket.remotePort);
    const close = options.abrupt === true && socket !== undefined ? () => socket.destroy() : () => session.close();
    closeWhenIdle(session, options.idleCloseMs, close);
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => undefined);
    const entry: SeenStream = {
      session: numbers.get(stream.session as Http2Session) ?? 0,
      id: stream.id ?? 0,
      method: String(headers[':method']),
      path: String(headers[':path']),
    };
    seen.push(entry);
    act(stream, entry, decide(entry), responded);
  });

  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `h2c://${LOOPBACK}:${port}`,
    seen,
    responded,
    sessions: () => sessionCount,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function act(stream: ServerHttp2Stream, entry: SeenStream, action: StreamAction, responded: SeenStream[]): void {
  switch (action) {
    case 'respond':
      // The body is drained so that a request with one completes.
      stream.resume();
      stream.respond({ ':status': 200 });
      stream.end('ok');
      responded.push(entry);
      return;
    case 'refuse':
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    case 'internal-error':
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    case 'goaway-below':
      // Node.js replaces a last-stream-id of 0 with the last stream it received, so only a stream
      // above 1 can get a GOAWAY below its own identifier.
      stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, entry.id - 2);
      return;
  }
}

/** Calls `close` once `session` carried no stream for `idleMs`. */
function closeWhenIdle(session: Http2Session, idleMs: number, close: () => void): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(close, idleMs);
  };
  session.on('stream', (stream: ServerHttp2Stream) => {
    open += 1;
    clearTimeout(timer);
    stream.on('close', () => {
      open -= 1;
      if (open === 0) arm();
    });
  });
  session.on('close', () => clearTimeout(timer));
  arm();
}
