// Tells from the first bytes of a connection which protocol the client speaks, so one port can
// serve plain HTTP/1.1, TLS (HTTPS with HTTP/2 or HTTP/1.1) and, when enabled, h2c, as a Traefik
// entry point does. The bytes read are put back, so the protocol server parses them as usual.
import type { Socket } from 'node:net';

import { readClientHello } from '../tls/client-hello.js';

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

/** Server name and ALPN list of a TLS connection's ClientHello, read before any TLS library reads it. */
export interface ClientHelloInfo {
  /** Lower-case server name (SNI), absent when the client sent none. */
  serverName?: string;
  /** Application protocols the client offers (ALPN), in its order. */
  alpnProtocols: string[];
}

/**
 * Maximum bytes buffered while waiting for a whole ClientHello: one full TLS record of 2^14 bytes
 * (RFC 8446 section 5.1) with its 5-byte header. A larger hello takes the fallback path. Browsers
 * and TLS libraries send a few kilobytes at most, even with post-quantum key shares (an estimate).
 */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024 + 5;

/** Default time the rest of a ClientHello has to arrive after its first byte, in ms. */
export const DEFAULT_CLIENT_HELLO_TIMEOUT_MS = 2_000;

export interface SniffOptions {
  h2c: boolean;
  /** Time the client has to send its first bytes, in ms, where 0 waits without limit. */
  timeoutMs: number;
  /**
   * Whether a TLS connection is held until its whole ClientHello arrived, so `onProtocol` gets
   * its server name and ALPN list.
   */
  readClientHello?: boolean;
  /** Time the rest of the ClientHello has to arrive, in ms, or `DEFAULT_CLIENT_HELLO_TIMEOUT_MS` when not given. */
  clientHelloTimeoutMs?: number;
  /**
   * Called once with the protocol, after the bytes were put back and the socket paused. `hello`
   * is set for a TLS connection whose ClientHello was read, and undefined when it was not
   * requested, was unreadable, larger than `MAX_CLIENT_HELLO_BYTES` or too slow to arrive.
   */
  onProtocol(socket: Socket, protocol: ConnectionProtocol, hello?: ClientHelloInfo): void;
}

/**
 * Reads the first bytes of `socket` until the protocol is known, puts them back with `unshift`,
 * pauses the socket and calls `onProtocol`. A client that sends nothing within the timeout, or
 * closes first, is dropped: nothing was requested, so there is nothing to respond to.
 */
export function sniffProtocol(socket: Socket, options: SniffOptions): void {
  let received: Buffer = Buffer.alloc(0);
  let helloTimer: NodeJS.Timeout | undefined;

  const cleanUp = (): void => {
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('end', onEnd);
    socket.setTimeout(0);
    clearTimeout(helloTimer);
  };
  const handOver = (protocol: ConnectionProtocol, hello?: ClientHelloInfo): void => {
    cleanUp();
    socket.pause();
    socket.unshift(received);
    options.onProtocol(socket, protocol, hello);
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const protocol = classifyFirstBytes(received, options.h2c);
    if (protocol === undefined) return;
    if (protocol !== 'tls' || options.readClientHello !== true) {
      handOver(protocol);
      return;
    }

    const result = readClientHello(received);
    if (result.status === 'complete') {
      handOver('tls', result.serverName === undefined ? { alpnProtocols: result.alpnProtocols } : { serverName: result.serverName, alpnProtocols: result.alpnProtocols });
    } else if (result.status === 'invalid' || received.length >= MAX_CLIENT_HELLO_BYTES) {
      // The TLS server reads these bytes with the default options and rejects what it cannot parse.
      handOver('tls');
    } else if (helloTimer === undefined) {
      helloTimer = setTimeout(() => {
        // A reset emits 'close' without 'end', so the connection may be gone by now.
        if (socket.destroyed) cleanUp();
        else handOver('tls');
      }, options.clientHelloTimeoutMs ?? DEFAULT_CLIENT_HELLO_TIMEOUT_MS);
    }
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
