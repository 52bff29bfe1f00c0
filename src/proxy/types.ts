// The interface between routing and forwarding.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One upstream server, with the settings the forwarder uses for it. */
export interface Upstream {
  /** Base URL such as `http://127.0.0.1:8080`; a path in it is prefixed to the request path. */
  url: URL;
  passHostHeader: boolean;
}

/** Facts about the entry point and the connection that the forwarder needs for X-Forwarded-* headers. */
export interface ForwardContext {
  entryPoint: string;
  /** `http` or `https`, from the listener, never from a header. */
  scheme: 'http' | 'https';
  /** Name the X-Forwarded-Server header carries. */
  serverName: string;
}

/** Per-call choices of the caller. */
export interface ForwardOptions {
  /**
   * When false, a failure that is safe to retry writes nothing, so the caller can try another
   * server on the same response. Defaults to true.
   */
  writeRetryableError?: boolean;
  /**
   * When true, a request with an idempotent method (RFC 9110 §9.2.2) and no body is also safe to
   * retry after it reached the server, as long as no response byte went to the client. Defaults to false.
   */
  retryIdempotent?: boolean;
  /**
   * When true, an idempotent request without a body is safe to retry when the server closed or reset
   * a connection that had served an earlier request, after the request was sent and before any
   * response byte. Most often the server closed an idle keep-alive connection as the request
   * arrived. It also reports an h2c request that the server did not process in `notProcessed`.
   * Defaults to false.
   */
  replayAfterReset?: boolean;
  /**
   * When true, the request goes out on a new connection opened for it alone, never on a pooled one,
   * and that connection is closed once the exchange ends. NOTE: a request with `Expect: 100-continue`
   * and a body to an HTTP/1.1 server ignores it, because it goes through node:http's pool, but a
   * replay never has a body. Defaults to false.
   */
  newConnection?: boolean;
}

export interface Forwarder {
  /** Forwards one request and its body to `upstream`, streaming both ways; writes the error status itself on failure. */
  forward(request: IncomingMessage, response: ServerResponse, upstream: Upstream, context: ForwardContext, options?: ForwardOptions): Promise<ForwardOutcome>;
  /**
   * Waits for the requests in flight, then closes the connections to servers. After `timeoutMs`, when given,
   * it closes the connections of requests still in flight, which fails them.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** The result of one forwarded request, for balancers, logs and retries. */
export interface ForwardOutcome {
  /** Status sent to the client; 499 when the client went away first. */
  status: number;
  /**
   * True when a retry is safe: the failure happened before any byte of the request reached the
   * server, or, with `retryIdempotent`, an idempotent request without a body got no response.
   */
  safeToRetry: boolean;
  /**
   * True when an idempotent request is safe to retry because its connection closed or reset before
   * any response byte. A new connection to the same server may then succeed.
   */
  staleConnection?: boolean;
  /**
   * True when an h2c server did not process the request (RFC 9113 §8.7): it refused the stream with
   * REFUSED_STREAM, or sent GOAWAY with a last-stream-id below the request's stream. The request is
   * then safe to retry whatever its method, and a new connection to the same server may succeed.
   */
  notProcessed?: boolean;
  error?: Error;
}
