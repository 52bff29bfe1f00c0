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
const WAITING = Symbol('berth.pipelineWaiting');
const PAUSED = Symbol('berth.pipelinePaused');

/** A request waiting for its turn. */
interface Turn {
  begin: () => void;
  /** Set on the last request kept when later ones were dropped: its response closes the connection. */
  closeAfter: boolean;
}

interface PipelinedSocket extends Socket {
  [BUSY]?: boolean;
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
 * `response` is the request's response, whose close lets the next request start. An upgrade request
 * has none, because it takes the connection over.
 */
export function servePipelined(connection: Socket | null, response: ServerResponse | undefined, start: () => void): PipelineTurn {
  const socket = connection as PipelinedSocket | null;
  if (socket === null) {
    start();
    return 'started';
  }

  const turn: Turn = {
    begin: () => {
      socket[BUSY] = true;
      response?.once('close', () => startNext(socket));
      // `shouldKeepAlive` is how node:http decides to send `Connection: close` and end the connection.
      if (turn.closeAfter && response !== undefined) (response as { shouldKeepAlive?: boolean }).shouldKeepAlive = false;
      start();
    },
    closeAfter: false,
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
  if (waiting.length >= PAUSE_AT_WAITING_REQUESTS && socket[PAUSED] !== true) {
    socket[PAUSED] = true;
    socket.pause();
  }
  return 'waiting';
}

/** Starts the next waiting request of `socket`, unless the connection is ending. */
function startNext(socket: PipelinedSocket): void {
  socket[BUSY] = false;
  const waiting = socket[WAITING];
  const next = waiting?.shift();
  if (next === undefined) return;
  if (socket.destroyed || socket.writableEnded) {
    // node:http ends the connection after a response that carried `Connection: close`.
    socket[WAITING] = [];
    return;
  }
  if (socket[PAUSED] === true && (waiting?.length ?? 0) < PAUSE_AT_WAITING_REQUESTS) {
    socket[PAUSED] = false;
    socket.resume();
  }
  next.begin();
}
