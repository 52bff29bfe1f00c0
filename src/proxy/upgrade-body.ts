// The body of an upgrade request. node:http hands an upgrade request over with every byte that follows
// its head, so a body that the request announces with Content-Length, such as the JSON of Docker's
// `POST /exec/{id}/start` with `Upgrade: tcp`, arrives as the first bytes of the tunnel. Go's
// ReverseProxy, and so Traefik, sends it to the server as the request's body, which the server reads
// before it responds. Berth does the same, and only the bytes after the body go through the tunnel.
import type { IncomingMessage } from 'node:http';
import { Readable, type Duplex } from 'node:stream';

import { BadRequestError, ClientClosedError } from '../errors.js';

export interface UpgradeRequestParts {
  /**
   * The request body: the bytes themselves when `head` contains all of it, a stream that reads the
   * rest from the client's socket, or null for a request without a body.
   */
  body: Buffer | UpgradeBodyStream | null;
  /** The bytes of `head` after the body, which belong to the tunnel. */
  tunnelHead: Buffer;
}

/**
 * Splits what the client sent after the head of an upgrade request into the request body, by its
 * Content-Length, and the first bytes of the tunnel. Throws BadRequestError for a body sent with
 * Transfer-Encoding, because its chunks have not been parsed: node:http stops parsing at the head of
 * an upgrade request.
 */
export function splitUpgradeRequest(request: IncomingMessage, socket: Duplex, head: Buffer): UpgradeRequestParts {
  // The framing fields as received: `request.headers` has lost Transfer-Encoding, a hop-by-hop field, by now.
  let length = 0;
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === 'transfer-encoding') throw new BadRequestError('an upgrade request with a chunked body is not supported');
    // node:http accepts only one Content-Length, of digits alone.
    if (name === 'content-length') length = Number(raw[i + 1]);
  }

  if (length === 0) return { body: null, tunnelHead: head };
  if (head.length >= length) return { body: head.subarray(0, length), tunnelHead: head.subarray(length) };
  return { body: new UpgradeBodyStream(socket, head, length - head.length), tunnelHead: Buffer.alloc(0) };
}

/**
 * The part of an upgrade request's body that is still to come from the client's socket. It reads
 * exactly that many bytes, and puts back anything after them, for the tunnel.
 */
export class UpgradeBodyStream extends Readable {
  readonly #socket: Duplex;
  #remaining: number;
  #attached = false;
  /** Set while the consumer wants more data, so that a 'readable' from the socket is read. */
  #wanted = false;

  /** `first` is the part of the body that arrived with the head, and `remaining` the bytes still to read. */
  constructor(socket: Duplex, first: Buffer, remaining: number) {
    super();
    this.#socket = socket;
    this.#remaining = remaining;
    if (first.length > 0) this.push(first);
  }

  /** True once the whole body was read from the client. */
  get complete(): boolean {
    return this.#remaining === 0;
  }

  override _read(): void {
    this.#wanted = true;
    if (!this.#attached) {
      this.#attached = true;
      this.#socket.on('readable', this.#pump);
      this.#socket.on('end', this.#onEnd);
      this.#socket.on('close', this.#onEnd);
    }
    this.#pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detach();
    callback(error);
  }

  #pump = (): void => {
    while (this.#wanted && this.#remaining > 0) {
      const chunk = this.#socket.read() as Buffer | null;
      if (chunk === null) return;
      let part = chunk;
      if (chunk.length > this.#remaining) {
        this.#socket.unshift(chunk.subarray(this.#remaining));
        part = chunk.subarray(0, this.#remaining);
      }
      this.#remaining -= part.length;
      this.#wanted = this.push(part);
    }
    if (this.#remaining === 0 && this.#attached) {
      this.#detach();
      this.push(null);
    }
  };

  #onEnd = (): void => {
    if (this.#remaining > 0) this.destroy(new ClientClosedError('the client closed the connection while sending the body of an upgrade request'));
  };

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#socket.off('readable', this.#pump);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
  }
}
