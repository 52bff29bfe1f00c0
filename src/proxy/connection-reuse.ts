// The connection undici wrote a request on, and whether an earlier request used it: what a relay
// needs to tell a stale keep-alive connection from a server that failed on this request.
//
// undici publishes `undici:client:sendHeaders` with the socket each time it writes a request head, on
// HTTP/1.1 and on h2c, where the socket is the one under the HTTP/2 session. It calls the handler's
// onRequestStart in the same synchronous step, right before, so a relay that registers from
// onRequestStart receives the socket of its own request. The method and path are compared as well,
// and a relay that receives nothing never counts its connection as stale.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

import { requestStream, type RequestStream } from './unprocessed-stream.js';

/** The connection a request was written on, as it was just before the request head. */
export interface RequestConnection {
  socket: Socket;
  /** True when an earlier request went out on the same connection. */
  reused: boolean;
  /** `socket.bytesRead` before the request head was written. */
  bytesReadBefore: number;
  /** The HTTP/2 stream of the request, undefined on HTTP/1.1. */
  stream: RequestStream | undefined;
}

/** Requests written on each connection, counted for every request undici sends. */
const REQUESTS_SENT = Symbol('berth.requestsSent');

interface CountedSocket extends Socket {
  [REQUESTS_SENT]?: number;
}

/** The part of undici's message that Berth reads. */
interface SendHeadersMessage {
  request: { method?: string; path?: string };
  socket: Socket;
}

interface Waiting {
  method: string;
  path: string;
  receive: (connection: RequestConnection) => void;
}

let waiting: Waiting | undefined;
let subscribed = false;

function onSendHeaders(message: unknown): void {
  const { request, socket } = message as SendHeadersMessage;
  const counted = socket as CountedSocket;
  const earlier = counted[REQUESTS_SENT] ?? 0;
  counted[REQUESTS_SENT] = earlier + 1;

  const current = waiting;
  waiting = undefined;
  if (current === undefined || request.method !== current.method || request.path !== current.path) return;
  current.receive({ socket, reused: earlier > 0, bytesReadBefore: socket.bytesRead, stream: requestStream(socket) });
}

/**
 * Registers `receive` for the connection of the request that undici is about to write, with `method`
 * and `path`. Call it from the handler's onRequestStart. `receive` runs before undici writes the head,
 * or never: for a request that undici abandons.
 */
export function awaitRequestConnection(method: string, path: string, receive: (connection: RequestConnection) => void): void {
  if (!subscribed) {
    diagnosticsChannel.subscribe('undici:client:sendHeaders', onSendHeaders);
    subscribed = true;
  }
  const entry = { method, path, receive };
  waiting = entry;
  // undici publishes in the same synchronous step, so an entry still here afterwards was not for it.
  queueMicrotask(() => {
    if (waiting === entry) waiting = undefined;
  });
}

/** Returns true when nothing arrived on the request's connection since its head was written. */
export function nothingReceived(connection: RequestConnection): boolean {
  return connection.socket.bytesRead === connection.bytesReadBefore;
}
