// A request that a middleware builds in place of the client's, for the forwarder: the `errors`
// middleware's GET for an error page, or the `buffering` middleware's request with the body it
// read. It keeps the client's connection (for X-Forwarded-For) and HTTP version, and its body
// comes from a stream the middleware supplies.
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface ReplayInit {
  method: string;
  url: string;
  /** Header fields as in `request.headers`; a Content-Length of the body is set from `bodyLength`. */
  headers: IncomingHttpHeaders;
  /** The body, or undefined for a request without one. */
  body?: Readable;
  /** Length of `body` in bytes. */
  bodyLength?: number;
}

/**
 * An IncomingMessage whose body is read from `init.body`. Destroying it never touches the client's
 * connection, because undici destroys the body stream it was given when an exchange ends.
 */
export class ReplayRequest extends IncomingMessage {
  readonly #body: Readable | undefined;
  #attached = false;

  constructor(original: IncomingMessage, init: ReplayInit) {
    super(original.socket);
    this.#body = init.body;
    this.method = init.method;
    this.url = init.url;
    this.httpVersionMajor = original.httpVersionMajor;
    this.httpVersionMinor = original.httpVersionMinor;
    this.httpVersion = original.httpVersion;

    const headers: IncomingHttpHeaders = { ...init.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    // The body is complete, so there is nothing left for the client to wait on.
    delete headers.expect;
    if (init.body !== undefined) headers['content-length'] = String(init.bodyLength ?? 0);
    this.headers = headers;
    // The forwarder reads an HTTP/1 request's framing fields from `rawHeaders`, and an HTTP/2 one's from its stream.
    this.rawHeaders = init.body === undefined ? [] : ['content-length', String(init.bodyLength ?? 0)];
    if (original.httpVersionMajor >= 2) {
      Object.defineProperty(this, 'stream', { value: { endAfterHeaders: init.body === undefined } });
    }

    if (init.body === undefined) {
      this.complete = true;
      this.push(null);
    }
  }

  override _read(): void {
    const body = this.#body;
    if (body === undefined) return;
    if (!this.#attached) {
      this.#attached = true;
      body.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) body.pause();
      });
      body.once('end', () => {
        this.complete = true;
        this.push(null);
      });
      body.once('error', (error) => this.destroy(error));
    }
    body.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#body?.destroy();
    callback(error);
  }
}
