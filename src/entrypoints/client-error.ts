// Responses to requests that node:http rejected before Berth saw them: malformed or ambiguous framing
// (a possible smuggling attempt), a request head above the size limit, or one that arrived too
// slowly. The connection is closed after the response, because the rest of its bytes cannot be
// trusted to start a new request (RFC 9112 section 11.2).
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import type { Logger } from '../observability/logger.js';

/** Returns the status line for a parse or timeout error of node:http. */
export function clientErrorStatus(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/**
 * Writes the error response on the client's socket and closes it, or drops a socket that can no longer
 * be written. When the error is in a request pipelined behind one whose response is still being written,
 * the error response follows that response instead of taking its place.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  logger.debug({ err: error }, 'rejected a malformed request');
  // ECONNRESET and similar mean the client is gone.
  if (error.code === 'ECONNRESET' || !socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }

  // A response in progress whose request was read completely belongs to an earlier request, so the
  // error is in a later one. An error in the body of the request being served gets its status at once.
  const current = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (current !== undefined && current !== null && !current.writableFinished && current.req.complete) {
    current.once('finish', () => {
      // A response that closes the connection is the last one: nothing follows it.
      if (current.shouldKeepAlive) endWithStatus(socket, error.code);
      else socket.end();
    });
    current.once('close', () => {
      if (!current.writableFinished) socket.destroy();
    });
    return;
  }
  // A response whose head was already written must not get a second status line.
  if (current?.headersSent === true) {
    socket.destroy();
    return;
  }
  endWithStatus(socket, error.code);
}

function endWithStatus(socket: Duplex, code: string | undefined): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${clientErrorStatus(code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
