// Error classes that carry a stable `code` for logs and the API, and the HTTP status the proxy responds with.
// Every constructor accepts `{ cause }`, so the original error (often one of undici's) stays attached.

/** Options shared by every Berth error. `cause` is the error that led to this one. */
export interface BerthErrorOptions {
  cause?: unknown;
}

/** Base class of Berth's errors, with a constant `code` per class and the HTTP status to respond with. */
export abstract class BerthError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;

  constructor(message: string, options?: BerthErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The service has no server in rotation, or none of its servers is available. */
export class NoAvailableServerError extends BerthError {
  readonly code = 'BERTH_NO_AVAILABLE_SERVER';
  readonly status = 503;

  constructor(message = 'no available server', options?: BerthErrorOptions) {
    super(message, options);
  }
}

/** The connection to the server could not be opened (refused, unreachable, name not found). No request byte was sent. */
export class UpstreamConnectError extends BerthError {
  readonly code = 'BERTH_UPSTREAM_CONNECT';
  readonly status = 502;

  constructor(message = 'connecting to the server failed', options?: BerthErrorOptions) {
    super(message, options);
  }
}

/** The server closed or reset the connection before the response was complete. */
export class UpstreamResetError extends BerthError {
  readonly code = 'BERTH_UPSTREAM_RESET';
  readonly status = 502;

  constructor(message = 'the server closed the connection', options?: BerthErrorOptions) {
    super(message, options);
  }
}

/** Connecting to the server, or waiting for its response, took longer than the configured timeout. */
export class UpstreamTimeoutError extends BerthError {
  readonly code = 'BERTH_UPSTREAM_TIMEOUT';
  readonly status = 504;

  constructor(message = 'the server did not respond in time', options?: BerthErrorOptions) {
    super(message, options);
  }
}

/**
 * The client closed its connection before the response was complete.
 * 499 is nginx's non-standard status for this case. It is recorded in logs and never sent.
 */
export class ClientClosedError extends BerthError {
  readonly code = 'BERTH_CLIENT_CLOSED';
  readonly status = 499;

  constructor(message = 'the client closed the connection', options?: BerthErrorOptions) {
    super(message, options);
  }
}

/** The server sent a response Berth cannot forward (malformed, too large, wrong length), or forwarding failed otherwise. */
export class BadGatewayError extends BerthError {
  readonly code = 'BERTH_BAD_GATEWAY';
  readonly status = 502;

  constructor(message = 'forwarding to the server failed', options?: BerthErrorOptions) {
    super(message, options);
  }
}

/** The client's request cannot be forwarded as received, for example an asterisk-form request target. */
export class BadRequestError extends BerthError {
  readonly code = 'BERTH_BAD_REQUEST';
  readonly status = 400;

  constructor(message = 'the request cannot be forwarded', options?: BerthErrorOptions) {
    super(message, options);
  }
}
