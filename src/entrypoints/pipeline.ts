// HTTP/1.1 pipelining: requests that a client sends on one connection before the earlier responses
// arrived are served one at a time, in order, as Go's server (and so Traefik) serves them.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Number of waiting requests at which Berth stops reading the connection, until the queue is shorter
 * again. node:http parses every pipelined request it has received and keeps them all, so reading on
 * would let a client make Berth keep any number of requests.
 */
export const PAUSE_AT_WAITING_REQUESTS = 16;

/**
 * Maximum number of requests waiting behind the one being served on a connection. Pausing stops
 * further reads, but node:http still parses all the requests of the data already read, which can
 * hold thousands of small ones. Requests beyond this many are dropped unsent, and the connection
 * closes after the response to the last one kept, so the client can send the others again.
 */
export const MAX_WAITING_REQUESTS = 256;

const BUSY = Symbol('berth.pipelineBusy');
const SERVING = Symbol('berth.pipelineServing');
const WAITING = Symbol('berth.pipelineWaiting');
const PAUSED = Symbol('berth.pipelinePaused');

/** A request, or the error response to a malformed one, waiting for its turn. */
interface Turn {
  begin: () => void;
  /** Set on the last request kept when later ones were dropped: its response closes the connection. */
  closeAfter: boolean;
  /** The request's response, or undefined for a turn that takes the connection over or ends it. */
  response: ServerResponse | undefined;
}

interface PipelinedSocket extends Socket {
  [BUSY]?: boolean;
  /** The turn that started last. */
  [SERVING]?: Turn;
  [WAITING]?: Turn[];
  /** Set while this module keeps the connection paused. */
  [PAUSED]?: boolean;
}

/** The outcome of `servePipelined` for one request. */
export type PipelineTurn = 'started' | 'waiting' | 'rejected';

/**
 * Calls `start` for a request on `connection` once every earlier request there has its response
 * closed, and returns whether it started now, waits, or was dropped. node:http emits each
 * pipelined request as soon as it is parsed, and forwarding them all at once would let one
 * connection send any number of concurrent requests to a server. A waiting request is dropped
 * without a response when its connection ends first, for example because the response before it
 * carried `Connection: close` during a graceful shutdown, so the server never receives it. With
 * `PAUSE_AT_WAITING_REQUESTS` waiting, the connection is no longer read until fewer wait. A request
 * beyond `MAX_WAITING_REQUESTS` waiting is dropped unsent, and the connection closes after the
 * response before it.
 *
 * `response` is the request's response, whose close lets the next request start. An upgrade or
 * CONNECT request has none, because it takes the connection over, and node:http parses nothing
 * after it.
 */
export function servePipelined(connection: Socket | null, response: ServerResponse | undefined, start: () => void): PipelineTurn {
  const socket = connection as PipelinedSocket | null;
  if (socket === null) {
    start();
    return 'started';
  }
  if (response === undefined) {
    readAfterUpgrade(socket);
    if (socket[BUSY] === true) return enqueue(socket, response, relayDrainUntil(socket, start));
  }
  return enqueue(socket, response, start);
}

/**
 * Passes the socket's 'drain' on to the responses still being written before an upgrade, and stops
 * when the upgrade's turn comes, then calls `start`. node:http removes its own 'drain' listener when
 * it hands the socket to the upgrade, so a large response before it would otherwise wait forever.
 */
function relayDrainUntil(socket: PipelinedSocket, start: () => void): () => void {
  const relay = (): void => {
    const current = socket[SERVING]?.response;
    if (current !== undefined && !current.writableFinished) current.emit('drain');
  };
  socket.on('drain', relay);
  return () => {
    socket.removeListener('drain', relay);
    start();
  };
}

/**
 * Calls `start`, which sends the error response to a request that node:http rejected as malformed on
 * `connection` and ends the connection, after the responses to every earlier request there, as
 * RFC 9112 section 9.3.2 requires. No request after the malformed one is served.
 *
 * The malformed request is the newest one node:http parsed. When its head was valid and the error is
 * in its body, it has a turn already. If that request is being served, `start` runs at once, because
 * its response may wait for the rest of a body that will never arrive. If it waits, it is dropped
 * unsent and the error response takes its turn.
 */
export function serveMalformed(connection: Socket, start: () => void): PipelineTurn {
  const socket = connection as PipelinedSocket;
  const waiting = socket[WAITING] ?? [];
  const newest = waiting.at(-1);
  if (newest !== undefined && isReadingBody(newest)) {
    waiting.pop();
  } else if (waiting.length === 0 && socket[BUSY] === true && socket[SERVING] !== undefined && isReadingBody(socket[SERVING])) {
    start();
    return 'started';
  }
  return enqueue(socket, undefined, start);
}

/** Returns true when the request of `turn` has a response and node:http has not read its whole body yet. */
function isReadingBody(turn: Turn): boolean {
  return turn.response !== undefined && !turn.response.req.complete;
}

function enqueue(socket: PipelinedSocket, response: ServerResponse | undefined, start: () => void): PipelineTurn {
  const turn: Turn = {
    begin: () => {
      socket[BUSY] = true;
      socket[SERVING] = turn;
      response?.once('close', () => startNext(socket));
      // `shouldKeepAlive` is how node:http decides to send `Connection: close` and end the connection.
      if (turn.closeAfter && response !== undefined) (response as { shouldKeepAlive?: boolean }).shouldKeepAlive = false;
      start();
    },
    closeAfter: false,
    response,
  };
  if (socket[BUSY] !== true) {
    turn.begin();
    return 'started';
  }

  const waiting = (socket[WAITING] ??= []);
  if (waiting.length >= MAX_WAITING_REQUESTS) {
    const last = waiting.at(-1);
    if (last !== undefined) last.closeAfter = true;
    return 'rejected';
  }
  waiting.push(turn);
  // node:http parses no request after an upgrade, CONNECT or malformed request, which have no
  // response here, so pausing would only stop the tunnel or the end of the connection being read.
  // A connection that is ending must go on reading until the client's side ends.
  if (waiting.length >= PAUSE_AT_WAITING_REQUESTS && socket[PAUSED] !== true && response !== undefined && !socket.writableEnded) {
    socket[PAUSED] = true;
    socket.pause();
  }
  return 'waiting';
}

/** Starts the next waiting request of `socket`, unless the connection is ending. */
function startNext(socket: PipelinedSocket): void {
  socket[SERVING] = undefined;
  if (socket.destroyed || socket.writableEnded) {
    // node:http ends the connection after a response that carried `Connection: close`. The connection
    // stays busy, so that no request parsed before it closes starts. Reading goes on, because the
    // connection closes only once the end of the client's side is read.
    socket[WAITING] = [];
    resumeReading(socket);
    return;
  }
  socket[BUSY] = false;
  const waiting = socket[WAITING];
  const next = waiting?.shift();
  if (next === undefined) return;
  if ((waiting?.length ?? 0) < PAUSE_AT_WAITING_REQUESTS) resumeReading(socket);
  next.begin();
}

/** Resumes reading `socket` if this module paused it. */
function resumeReading(socket: PipelinedSocket): void {
  if (socket[PAUSED] !== true) return;
  socket[PAUSED] = false;
  socket.resume();
}

/**
 * Restarts reading a connection whose upgrade or CONNECT request node:http just parsed. This module,
 * or node:http itself while the client read responses slowly, may have paused it, and node:http's
 * 'pause' listener stops reading at the handle. Its 'resume' listener, which would start it again, is
 * gone once node:http hands the socket over, so `socket.resume()` would leave the handle stopped and
 * the tunnel would never receive what the client sends. The stream stays in the state node:http left
 * it (`readableFlowing` null): what arrives is buffered until the upgrade handler reads it, and
 * reading stops again at the stream's high-water mark.
 */
function readAfterUpgrade(socket: PipelinedSocket): void {
  socket[PAUSED] = false;
  // NOTE: relies on internals of Node.js, checked with 20.20. `Readable.read()` calls `_read` only
  // while no read is pending, and the read that node:http stopped at the handle stays pending. So
  // `_read` is called directly: net.Socket's `_read` starts reading at the handle unless it reads already.
  (socket as unknown as { _read?: (size: number) => void })._read?.(0);
}
