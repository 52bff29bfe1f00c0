// Responses to requests that node:http rejected before Berth saw them: malformed or ambiguous framing
// (a possible smuggling attempt), a request head above the size limit, or one that arrived too
// slowly. The connection is closed after the response, because the rest of its bytes cannot be
// trusted to start a new request (RFC 9112 section 11.2).
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import type { Logger } from '../observability/logger.js';
import { serveMalformed } from './pipeline.js';

/** Returns the status line for a parse or timeout error of node:http. */
export function clientErrorStatus(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/**
 * State of the error response to each socket's first parse error. node:http parses each read on its
 * own and reports the error again for every read that follows, as for a head over the limit that
 * spans several TLS records of up to 16 KiB each.
 */
const errorResponseStates = new WeakMap<Duplex, 'started' | 'closing'>();

/**
 * Writes the error response on the client's socket and closes it, or drops a socket that can no longer
 * be written. When the malformed request is pipelined behind others, the error response follows
 * their responses, as `serveMalformed` describes.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  // ECONNRESET and similar mean the client is gone.
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    socket.destroy();
    return;
  }
  // The response to the first report may still be queued or on its way, and destroying the socket at
  // once would discard it, so the socket is destroyed only once the response was written.
  const state = errorResponseStates.get(socket);
  if (state !== undefined) {
    if (state === 'closing') return;
    errorResponseStates.set(socket, 'closing');
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
    return;
  }

  logger.debug({ err: error }, 'rejected a malformed request');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  errorResponseStates.set(socket, 'started');
  // node:http emits 'clientError' with the connection's own socket, a net.Socket or a tls.TLSSocket.
  serveMalformed(socket as Socket, () => sendErrorResponse(socket, error.code));
}

function sendErrorResponse(socket: Duplex, code: string | undefined): void {
  // A response whose head was already written must not get a second status line. That response
  // belongs to the request being served, whose body had the error.
  const current = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (current?.headersSent === true && !current.writableFinished) {
    socket.destroy();
    return;
  }
  // A response that closes the connection, such as Berth's 400 to an ambiguous request, is the last
  // one: nothing follows it, not even the status for the rest of its bytes.
  if (current?.headersSent === true && current.shouldKeepAlive === false) {
    socket.end();
    return;
  }
  endWithStatus(socket, code);
}

function endWithStatus(socket: Duplex, code: string | undefined): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${clientErrorStatus(code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
