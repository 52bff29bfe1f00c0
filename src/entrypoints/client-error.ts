// Responses to requests that node:http rejected before Berth saw them: malformed or ambiguous framing
// (a possible smuggling attempt), a request head above the size limit, or one that arrived too
// slowly. The connection is closed after the response, because the rest of its bytes cannot be
// trusted to start a new request (RFC 9112 section 11.2).
import type { Duplex } from 'node:stream';

import type { Logger } from '../observability/logger.js';

/** Returns the status line for a parse or timeout error of node:http. */
export function clientErrorStatus(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** Writes the error response on the client's socket and closes it, or drops a socket that can no longer be written. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  logger.debug({ err: error }, 'rejected a malformed request');
  // ECONNRESET and similar mean the client is gone, and a socket with a response already written
  // must not get a second status line.
  const written = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || written || !socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${clientErrorStatus(error.code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
