// HTTP/1.1 pipelining: requests that a client sends on one connection before the earlier responses
// arrived are served one at a time, in order, as Go's server (and so Traefik) serves them.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Maximum number of requests waiting behind the one being served on a connection. node:http parses
 * every pipelined request it has received and keeps them all, so without a limit a client could make
 * Berth keep any number of requests. Browsers do not pipeline, and tools that do rarely go this deep.
 */
export const MAX_WAITING_REQUESTS = 32;

const BUSY = Symbol('berth.pipelineBusy');
const WAITING = Symbol('berth.pipelineWaiting');

interface PipelinedSocket extends Socket {
  [BUSY]?: boolean;
  [WAITING]?: Array<() => void>;
}

/** The outcome of `servePipelined` for one request. */
export type PipelineTurn = 'started' | 'waiting' | 'rejected';

/**
 * Calls `start` for a request on `connection` once every earlier request there has its response
 * closed, and returns whether it started now, waits, or was dropped. node:http emits each
 * pipelined request as soon as it is parsed, and forwarding them all at once would let one
 * connection send any number of concurrent requests to a server. A waiting request is dropped
 * without a response when its connection ends first, for example because the response before it
 * carried `Connection: close` during a graceful shutdown, so the server never receives it. With more
 * than `MAX_WAITING_REQUESTS` waiting, the connection is closed.
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

  const begin = (): void => {
    socket[BUSY] = true;
    response?.once('close', () => startNext(socket));
    start();
  };
  if (socket[BUSY] !== true) {
    begin();
    return 'started';
  }

  const waiting = (socket[WAITING] ??= []);
  if (waiting.length >= MAX_WAITING_REQUESTS) {
    waiting.length = 0;
    socket.destroy();
    return 'rejected';
  }
  waiting.push(begin);
  return 'waiting';
}

/** Starts the next waiting request of `socket`, unless the connection is ending. */
function startNext(socket: PipelinedSocket): void {
  socket[BUSY] = false;
  const next = socket[WAITING]?.shift();
  if (next === undefined) return;
  if (socket.destroyed || socket.writableEnded) {
    // node:http ends the connection after a response that carried `Connection: close`.
    socket[WAITING] = [];
    return;
  }
  next();
}
