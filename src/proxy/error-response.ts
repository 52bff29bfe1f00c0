// The short plain-text responses Berth sends when forwarding fails before the server's response began.
import { STATUS_CODES, type ServerResponse } from 'node:http';

/** Returns the body of an error response, such as `502 Bad Gateway`, followed by a newline. */
export function errorBody(status: number): string {
  const reason = STATUS_CODES[status] ?? 'Error';
  return `${status} ${reason}\n`;
}

/** Responses that `sendErrorResponse` wrote, because forwarding failed before the server's response began. */
const gatewayErrorResponses = new WeakSet<ServerResponse>();

/** Returns true when Berth wrote the response itself because forwarding failed, rather than relaying the server's. */
export function isGatewayErrorResponse(response: ServerResponse): boolean {
  return gatewayErrorResponses.has(response);
}

/**
 * Sends an error response on a ServerResponse that has not sent its headers. With `closeConnection`,
 * the response requests that the client close the connection. Berth does so when part of the request body is
 * still unread, because the next request on that connection would only start after the rest of the body.
 */
export function sendErrorResponse(response: ServerResponse, status: number, closeConnection: boolean): void {
  const body = errorBody(status);
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  // HTTP/2 forbids connection-specific fields (RFC 9113 section 8.2.2), and its streams end on their own.
  if (closeConnection && response.req.httpVersionMajor < 2) {
    headers.connection = 'close';
  }

  gatewayErrorResponses.add(response);
  response.writeHead(status, headers);
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
