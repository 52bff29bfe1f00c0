// One-shot undici clients, for a request that must go out on a connection that no earlier request used:
// the replay of an idempotent request after the server closed the pooled keep-alive connection it was
// sent on. Sent through the pool again, the replay could take another idle connection that the server
// had closed as well, and fail the same way.
import { Client, H2CClient, type Dispatcher } from 'undici';

export interface FreshConnectionOptions {
  /** Options of the pool's HTTP/1.1 clients, for `http:` and `https:` origins. */
  http1: Client.Options;
  /** Options of the pool's h2c clients. */
  h2c: H2CClient.Options;
}

/**
 * Opens a new connection for each request it dispatches, through a client of its own with the pool's
 * options (dial timeout, idle timeout, undici's header and body timers off), and destroys that client
 * once the request's exchange has ended. An https client verifies the server as the pool's clients do,
 * but keeps its own TLS session cache, so it cannot resume a session of a pooled connection.
 */
export class FreshConnections {
  readonly #options: FreshConnectionOptions;
  readonly #clients = new Set<Dispatcher>();

  constructor(options: FreshConnectionOptions) {
    this.#options = options;
  }

  /**
   * Dispatches one request on a new connection to `options.origin`, over h2c when `h2c` is true.
   * `ended` must settle once the handler is done with the exchange: after the response, a failure, a
   * timeout or the client leaving. The client is destroyed then, which also closes a connection still
   * open or still connecting. Throws when the client cannot be created, with nothing left open.
   */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, h2c: boolean, ended: Promise<unknown>): void {
    const origin = options.origin;
    if (origin === undefined) {
      throw new TypeError('missing origin for a request on a new connection');
    }
    const client = h2c ? new H2CClient(origin, this.#options.h2c) : new Client(origin, this.#options.http1);
    this.#clients.add(client);

    const release = (): void => {
      this.#clients.delete(client);
      // destroy() fails a request still in flight with ClientDestroyedError, which the handler has
      // already settled. Its promise resolves once the socket is closed and never rejects.
      void client.destroy();
    };
    ended.then(release, release);

    client.dispatch(options, handler);
  }

  /** Waits for the requests in flight on the clients still open, then closes them. */
  async close(): Promise<void> {
    await Promise.all([...this.#clients].map((client) => client.close()));
  }

  /** Closes the clients still open at once, which fails the requests in flight on them. */
  async destroy(): Promise<void> {
    await Promise.all([...this.#clients].map((client) => client.destroy()));
  }
}
