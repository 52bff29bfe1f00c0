// Tells from the first bytes of a connection which protocol the client speaks, so one port can
// serve plain HTTP/1.1, TLS (HTTPS with HTTP/2 or HTTP/1.1) and, when enabled, h2c, as a Traefik
// entry point does. The bytes read are put back, so the protocol server parses them as usual.
import type { Socket } from 'node:net';

export type ConnectionProtocol = 'tls' | 'h2c' | 'http1';

/** First byte of a TLS record that carries a handshake message, such as the ClientHello (RFC 8446 section 5.1). */
const TLS_HANDSHAKE_RECORD = 0x16;

/** The client connection preface of HTTP/2 (RFC 9113 section 3.4), which h2c with prior knowledge starts with. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Classifies the bytes received so far, or returns undefined when more are needed: only a
 * prefix of the HTTP/2 preface is ambiguous, because `P` also starts `POST`, `PUT` and `PATCH`.
 */
export function classifyFirstBytes(bytes: Buffer, h2c: boolean): ConnectionProtocol | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === TLS_HANDSHAKE_RECORD) return 'tls';
  if (!h2c) return 'http1';

  const length = Math.min(bytes.length, HTTP2_PREFACE.length);
  if (!bytes.subarray(0, length).equals(HTTP2_PREFACE.subarray(0, length))) return 'http1';
  return length === HTTP2_PREFACE.length ? 'h2c' : undefined;
}

export interface SniffOptions {
  h2c: boolean;
  /** Time the client has to send its first bytes, in ms, where 0 waits without limit. */
  timeoutMs: number;
  /** Called once with the protocol, after the bytes were put back and the socket paused. */
  onProtocol(socket: Socket, protocol: ConnectionProtocol): void;
}

/**
 * Reads the first bytes of `socket` until the protocol is known, puts them back with `unshift`,
 * pauses the socket and calls `onProtocol`. A client that sends nothing within the timeout, or
 * closes first, is dropped: nothing was requested, so there is nothing to respond to.
 */
export function sniffProtocol(socket: Socket, options: SniffOptions): void {
  let received: Buffer = Buffer.alloc(0);

  const cleanUp = (): void => {
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('end', onEnd);
    socket.setTimeout(0);
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const protocol = classifyFirstBytes(received, options.h2c);
    if (protocol === undefined) return;

    cleanUp();
    socket.pause();
    socket.unshift(received);
    options.onProtocol(socket, protocol);
  };
  const onTimeout = (): void => {
    cleanUp();
    socket.destroy();
  };
  const onEnd = (): void => {
    cleanUp();
    socket.destroy();
  };

  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('timeout', onTimeout);
  if (options.timeoutMs > 0) socket.setTimeout(options.timeoutMs);
}
