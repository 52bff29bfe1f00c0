// The request line and body Berth sends to the server: the path as the client sent it, and the client's
// body streamed on demand, so that the body stays unread until a connection to the server is open.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

import { ClientClosedError } from '../errors.js';

/**
 * Builds the request target for the server from the client's target, byte for byte: `%2F`, `%25`, `;` and
 * `//` are kept because decoding or normalizing them changes what many servers route on. A path in the
 * server URL (`http://10.0.0.2:8080/base`) is put in front. Returns undefined for targets that have no
 * path to forward: the asterisk form `*` and the authority form of CONNECT (RFC 9112 §3.2.3, §3.2.4).
 */
export function upstreamPath(requestTarget: string | undefined, base: URL): string | undefined {
  const path = originForm(requestTarget);
  if (path === undefined) {
    return undefined;
  }

  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  return prefix === '' ? path : prefix + path;
}

/**
 * Returns the origin form (`/path?query`) of a request target. A server must accept the absolute form
 * `http://host/path` too (RFC 9112 §3.2.2), and its path and query are forwarded as received.
 */
function originForm(target: string | undefined): string | undefined {
  if (target === undefined || target === '') {
    return undefined;
  }
  if (target.startsWith('/')) {
    return target;
  }

  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (absolute === null) {
    return undefined;
  }
  const rest = target.slice(absolute[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * Largest response head read from a server, in bytes: the default of Go's Transport (10 MiB, the
 * `maxHeaderResponseSize` fallback in net/http's transport.go), which Traefik's servers transport keeps.
 * undici and node:http read 16 KiB by default, and a larger head, such as one with many Set-Cookie
 * fields, would end as a 502.
 */
export const MAX_RESPONSE_HEAD_BYTES = 10 * 1024 * 1024;

/**
 * Returns whether the request has a body, from the framing fields as they arrived (RFC 9112 §6.3):
 * `Transfer-Encoding`, or a `Content-Length` other than 0. `rawHeaders` is read because hop-by-hop
 * removal deletes `Transfer-Encoding` from `request.headers` when the request arrives.
 */
export function hasRequestBody(request: IncomingMessage): boolean {
  // An HTTP/2 request has no framing fields, so its stream shows whether DATA frames follow the headers.
  if (request.httpVersionMajor >= 2) {
    const stream = (request as { stream?: { endAfterHeaders?: boolean } }).stream;
    return stream?.endAfterHeaders !== true;
  }

  const raw = request.rawHeaders;
  let contentLength: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]?.toLowerCase();
    if (name === 'transfer-encoding') {
      return true;
    }
    if (name === 'content-length') {
      contentLength = raw[i + 1];
    }
  }
  return contentLength !== undefined && contentLength.trim() !== '0';
}

/**
 * A readable stream of the client's request body that reads from the client only when the consumer
 * (undici, once its connection to the server is open) requests data. A connection failure therefore
 * leaves the client's body untouched, so another server can be tried with it.
 *
 * Ending or destroying this stream never destroys the client's request. That matters because undici
 * destroys the body stream it was given when the exchange ends, and destroying an IncomingMessage would
 * close the client's connection before Berth could send its response.
 */
export class RequestBodyStream extends Readable {
  readonly #source: IncomingMessage;
  readonly #gate: ((open: () => void) => void) | undefined;
  #gateState: 'closed' | 'waiting' | 'open' = 'closed';
  #started = false;
  #sourceEnded = false;
  /** Set on the source's 'end' while the check for a reset HTTP/2 stream is pending. */
  #endPending = false;

  /**
   * With `gate`, the first read request calls `gate(open)` instead of reading, and reading starts once
   * `open` is called, or never. The forwarder uses it to hold an `Expect: 100-continue` body back.
   */
  constructor(source: IncomingMessage, gate?: (open: () => void) => void) {
    super();
    this.#source = source;
    this.#gate = gate;
  }

  /** True once the first byte was requested from the client, after which the body cannot be replayed. */
  get started(): boolean {
    return this.#started;
  }

  /** True once the client's whole body was read. */
  get sourceEnded(): boolean {
    return this.#sourceEnded;
  }

  override _read(): void {
    if (this.#gate !== undefined && this.#gateState !== 'open') {
      if (this.#gateState === 'closed') {
        this.#gateState = 'waiting';
        this.#gate(() => {
          this.#gateState = 'open';
          if (!this.destroyed) this._read();
        });
      }
      return;
    }
    if (!this.#started) {
      this.#started = true;
      this.#source.on('data', this.#onData);
      this.#source.on('end', this.#onEnd);
      this.#source.on('aborted', this.#onAborted);
      this.#source.on('error', this.#onError);
      this.#source.on('close', this.#onClose);
    }
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detach();

    // The rest of an unread body is discarded so that Node.js can parse the next request on a keep-alive
    // connection. Node.js does this itself only when no code has started reading the body.
    if (this.#started && !this.#sourceEnded) {
      this.#source.resume();
    }
    callback(error);
  }

  #onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) {
      this.#source.pause();
    }
  };

  /**
   * Ends the body, unless the client aborted it. Node.js 20 and 24 end an HTTP/2 request (Http2ServerRequest)
   * when the client resets its stream too, and only set `aborted` and emit 'aborted' after that 'end', in a
   * later callback of the same read from the socket. The check therefore waits for setImmediate, because
   * ending the body would make the server see a complete request.
   */
  #onEnd = (): void => {
    if (this.#source.httpVersionMajor < 2) {
      this.#finishEnd();
      return;
    }
    this.#endPending = true;
    setImmediate(this.#finishEnd);
  };

  #finishEnd = (): void => {
    this.#endPending = false;
    if (this.destroyed || this.#sourceEnded) {
      return;
    }
    if (wasAborted(this.#source)) {
      this.destroy(new ClientClosedError('the client reset the stream while sending the request body'));
      return;
    }
    this.#sourceEnded = true;
    this.push(null);
  };

  #onAborted = (): void => {
    if (!this.#sourceEnded) {
      this.destroy(new ClientClosedError('the client aborted the request while sending its body'));
    }
  };

  #onError = (error: Error): void => {
    this.destroy(new ClientClosedError('the client closed the connection while sending the request body', { cause: error }));
  };

  #onClose = (): void => {
    if (this.#endPending) {
      this.#finishEnd();
    } else if (!this.#sourceEnded) {
      this.destroy(new ClientClosedError('the client closed the connection while sending the request body'));
    }
  };

  #detach(): void {
    this.#source.off('data', this.#onData);
    this.#source.off('end', this.#onEnd);
    this.#source.off('aborted', this.#onAborted);
    this.#source.off('error', this.#onError);
    this.#source.off('close', this.#onClose);
  }
}

/** Returns whether the client aborted the request: a closed HTTP/1 connection, or an HTTP/2 stream reset with an error code. */
function wasAborted(source: IncomingMessage): boolean {
  if (source.aborted) {
    return true;
  }
  const stream = (source as { stream?: { aborted?: boolean; rstCode?: number } }).stream;
  return stream?.aborted === true || (stream?.rstCode !== undefined && stream.rstCode !== 0);
}
