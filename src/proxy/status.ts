// The one mapping from an upstream failure to the error class, and so the status, that Berth responds with.
// Keep every case here so that logs, retries and the client all agree on what a failure means.
import {
  BadGatewayError,
  BerthError,
  ClientClosedError,
  UpstreamConnectError,
  UpstreamResetError,
  UpstreamTimeoutError,
} from '../errors.js';
import { Fields } from '../observability/fields.js';

/**
 * Classifies a failure raised while forwarding (an undici error, a Node.js socket error or a Berth error)
 * as a Berth error whose `status` is the status to respond with: 502 by default, 504 for timeouts,
 * 499 when the client went away. A `BerthError` is returned unchanged, so 503 `NoAvailableServerError` passes through.
 */
export function classifyUpstreamError(error: unknown): BerthError {
  if (error instanceof BerthError) {
    return error;
  }

  const code = errorCode(error);
  if (isUnrequestedUpgrade(error)) {
    return new BadGatewayError('the server sent 101 Switching Protocols in response to a request without an Upgrade field', { cause: error });
  }

  switch (code) {
    // Waiting for the TCP or TLS handshake took longer than the dial timeout. A gateway timeout
    // (RFC 9110 §15.6.5) even though no request byte was sent, which keeps the request safe to retry.
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new UpstreamTimeoutError('connecting to the server timed out', { cause: error });

    // The server accepted the request but sent no complete response header in time.
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new UpstreamTimeoutError('the server sent no response header in time', { cause: error });

    // The server stopped sending the body for longer than the body timeout.
    case 'UND_ERR_BODY_TIMEOUT':
      return new UpstreamTimeoutError('the server stopped sending the response body', { cause: error });

    // Nothing listens on the port, or the address cannot be reached or resolved. The server is then down
    // or gone, which is a bad gateway (RFC 9110 §15.6.3) and not a timeout.
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
      return new UpstreamConnectError(`connecting to the server failed (${code})`, { cause: error });

    // The server closed or reset the connection mid-exchange, for example because it crashed or
    // closed an idle keep-alive connection just as the request was written.
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return new UpstreamResetError(`the server closed the connection (${code})`, { cause: error });

    // undici aborts a request with UND_ERR_ABORTED when its abort callback runs without a reason, and
    // Berth only aborts that way because the client went away.
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return new ClientClosedError('the client closed the connection', { cause: error });

    // The response was malformed, too large, or shorter than its Content-Length (RFC 9112 §6.3),
    // so it cannot be forwarded faithfully.
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new BadGatewayError(`the server sent an invalid response (${code})`, { cause: error });

    default:
      break;
  }

  // llhttp reports parse errors of the response with codes such as HPE_INVALID_CHUNK_SIZE.
  if (code?.startsWith('HPE_') === true) {
    return new BadGatewayError(`the server sent an invalid response (${code})`, { cause: error });
  }

  // Anything else, including undici's UND_ERR_CLOSED and UND_ERR_DESTROYED during shutdown,
  // is a generic bad gateway so that no unknown failure is reported as the client's fault.
  return new BadGatewayError(code === undefined ? 'forwarding to the server failed' : `forwarding to the server failed (${code})`, {
    cause: error,
  });
}

/**
 * Returns whether undici 7 failed because a response switched protocols on a request without Upgrade. It
 * raises a SocketError `bad upgrade` when the response carries Upgrade, and for a bare 101 it fails
 * `assert(upgrade)` in Parser.onUpgrade (lib/dispatcher/client-h1.js of 7.30.3).
 */
export function isUnrequestedUpgrade(error: unknown): boolean {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : '';
  return (code === 'UND_ERR_SOCKET' && message === 'bad upgrade') || (code === 'ERR_ASSERTION' && message.includes('assert(upgrade)'));
}

/**
 * Reads the `code` of an error. Node.js reports a failed connection to a host with several addresses
 * as an AggregateError whose first inner error carries the code, so that one is used when the outer has none.
 */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) {
    return undefined;
  }

  const code: unknown = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    return code;
  }

  if (error instanceof AggregateError) {
    const inner: unknown = error.errors[0];
    return errorCode(inner);
  }
  return undefined;
}

/**
 * Returns the log fields that describe a failed forward. A failure that Berth classified is logged by
 * its class and message, which names the cause (`connecting to the server failed (ECONNREFUSED)`).
 * A stack trace on every refused connection would flood the log while a service restarts. Any other
 * error keeps its stack, since it points to a fault in Berth.
 */
export function failureLogFields(error: Error): Record<string, unknown> {
  return error instanceof BerthError ? { [Fields.errorType]: error.constructor.name, [Fields.reason]: error.message } : { err: error };
}
