// The sniffer keeps a TLS connection until its whole ClientHello arrived, and the entry point then
// runs the handshake with the TLS options of the server name. Real sockets on 127.0.0.1.
import { once } from 'node:events';
import { connect as connectTcp, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';

import { MAX_CLIENT_HELLO_BYTES, sniffProtocol, type ClientHelloInfo, type ConnectionProtocol } from '../../src/entrypoints/protocol-sniffer.js';
import { TlsOptionsServers, tlsServerOptions } from '../../src/entrypoints/tls-handshake.js';
import { DEFAULT_TLS_OPTIONS, type TlsOptions } from '../../src/tls/options.js';
import { MemoryCertificateStore } from '../../src/tls/store.js';

interface Sniffed {
  protocol: ConnectionProtocol;
  hello: ClientHelloInfo | undefined;
  /** Bytes put back on the socket, read after the sniffer handed it over. */
  putBack: Buffer;
}

const servers: Server[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** Starts a TCP server that sniffs each connection and passes it to `onSniffed`. */
async function listen(onSniffed: (socket: Socket, protocol: ConnectionProtocol, hello: ClientHelloInfo | undefined) => void, clientHelloTimeoutMs = 2_000): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    sniffProtocol(socket, { h2c: false, timeoutMs: 5_000, readClientHello: true, clientHelloTimeoutMs, onProtocol: onSniffed });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Starts a sniffing server and resolves with what the sniffer reported for the first connection and the bytes it put back. */
async function sniffOnce(clientHelloTimeoutMs?: number): Promise<{ port: number; sniffed: Promise<Sniffed> }> {
  let report: (sniffed: Sniffed) => void = () => undefined;
  const sniffed = new Promise<Sniffed>((resolve) => (report = resolve));
  const port = await listen((socket, protocol, hello) => {
    let putBack = Buffer.alloc(0);
    // Waits a moment, so a hand-over before the client stopped sending shows as missing bytes.
    socket.on('data', (chunk: Buffer) => (putBack = Buffer.concat([putBack, chunk])));
    socket.resume();
    setTimeout(() => {
      report({ protocol, hello, putBack });
      socket.destroy();
    }, 50);
  }, clientHelloTimeoutMs);
  return { port, sniffed };
}

/** Captures the ClientHello that a Node.js TLS client sends for `servername` and `alpn`. */
async function captureClientHello(servername: string | undefined, alpn: string[] = []): Promise<Buffer> {
  const server = createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const captured = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => socket.once('data', (chunk: Buffer) => {
      resolve(chunk);
      socket.destroy();
    }));
  });
  const client = connectTls({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ...(servername === undefined ? {} : { servername }), ALPNProtocols: alpn, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await captured;
  client.destroy();
  return hello;
}

/** Sends `chunks` to `port` one by one, each after a pause, so each arrives as its own TCP read. */
async function sendInChunks(port: number, chunks: Buffer[], pauseMs = 20): Promise<Socket> {
  const socket = connectTcp(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return socket;
}

describe('ClientHello buffering', () => {
  test('reads a ClientHello split across TCP reads', async () => {
    const hello = await captureClientHello('split.example.test', ['h2', 'http/1.1']);
    const { port, sniffed } = await sniffOnce();
    const chunks = [hello.subarray(0, 1), hello.subarray(1, 7), hello.subarray(7, 60), hello.subarray(60)];
    const client = await sendInChunks(port, chunks);

    const result = await sniffed;
    client.destroy();
    expect(result.protocol).toBe('tls');
    expect(result.hello).toEqual({ serverName: 'split.example.test', alpnProtocols: ['h2', 'http/1.1'] });
    expect(result.putBack.equals(hello)).toBe(true);
  });

  test('reports no server name when the client sent none', async () => {
    const hello = await captureClientHello(undefined);
    const { port, sniffed } = await sniffOnce();
    const client = await sendInChunks(port, [hello]);

    const result = await sniffed;
    client.destroy();
    expect(result.hello).toEqual({ alpnProtocols: [] });
  });

  test('falls back on a handshake that is no ClientHello', async () => {
    const garbage = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0xaa]);
    const { port, sniffed } = await sniffOnce();
    const client = await sendInChunks(port, [garbage]);

    const result = await sniffed;
    client.destroy();
    expect(result.protocol).toBe('tls');
    expect(result.hello).toBeUndefined();
    expect(result.putBack.equals(garbage)).toBe(true);
  });

  test('falls back on a ClientHello larger than the limit', async () => {
    // One full record whose handshake message claims 32 KiB, so the hello cannot end within the limit.
    const oversized = Buffer.alloc(MAX_CLIENT_HELLO_BYTES + 100, 0x41);
    Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x80, 0x00]).copy(oversized);
    const { port, sniffed } = await sniffOnce();
    const client = await sendInChunks(port, [oversized.subarray(0, 8_000), oversized.subarray(8_000)]);

    const result = await sniffed;
    client.destroy();
    expect(result.protocol).toBe('tls');
    expect(result.hello).toBeUndefined();
    expect(result.putBack.length).toBeGreaterThanOrEqual(MAX_CLIENT_HELLO_BYTES);
  });

  test('falls back when the rest of the ClientHello is late', async () => {
    const hello = await captureClientHello('slow.example.test');
    const { port, sniffed } = await sniffOnce(100);
    const client = await sendInChunks(port, [hello.subarray(0, 20)]);

    const result = await sniffed;
    client.destroy();
    expect(result.protocol).toBe('tls');
    expect(result.hello).toBeUndefined();
    expect(result.putBack.equals(hello.subarray(0, 20))).toBe(true);
  });

  test('passes plain HTTP on at once', async () => {
    const { port, sniffed } = await sniffOnce();
    const client = await sendInChunks(port, [Buffer.from('GET / HTTP/1.1\r\n\r\n')]);

    const result = await sniffed;
    client.destroy();
    expect(result.protocol).toBe('http1');
    expect(result.hello).toBeUndefined();
  });
});

describe('TlsOptionsServers', () => {
  let store: MemoryCertificateStore;
  let target: TlsServer;
  const strictDefault: TlsOptions = { ...DEFAULT_TLS_OPTIONS, alpnProtocols: [...DEFAULT_TLS_OPTIONS.alpnProtocols], sniStrict: true };
  const modern: TlsOptions = { ...DEFAULT_TLS_OPTIONS, alpnProtocols: [...DEFAULT_TLS_OPTIONS.alpnProtocols], name: 'modern@file', minVersion: 'TLSv1.3' };

  beforeAll(async () => {
    store = await MemoryCertificateStore.create();
    // Only its 'secureConnection' and 'tlsClientError' events are used; it never runs a handshake.
    target = createTlsServer();
  });

  afterAll(() => target.close());

  /** Starts a sniffing server whose TLS connections go to `TlsOptionsServers` with `optionsFor`. */
  async function listenTls(optionsFor: (serverName: string | undefined) => TlsOptions | undefined): Promise<number> {
    const tlsServers = new TlsOptionsServers({ store, optionsFor }, target, 5_000);
    return listen((socket, protocol, hello) => {
      if (protocol === 'tls' && hello !== undefined) tlsServers.handOver(socket, hello);
      else socket.destroy();
    });
  }

  /** Connects with TLS and resolves with the negotiated version, or rejects with the handshake error. */
  function handshake(port: number, options: { servername?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const client = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
        resolve(client.getProtocol());
        client.destroy();
      });
      client.on('error', reject);
      client.on('close', () => reject(new Error('the connection closed before the handshake finished')));
    });
  }

  test('applies minVersion of the server name', async () => {
    const port = await listenTls((serverName) => (serverName === 'modern.example.test' ? modern : DEFAULT_TLS_OPTIONS));
    const secured = once(target, 'secureConnection') as Promise<[TLSSocket]>;

    await expect(handshake(port, { servername: 'modern.example.test', maxVersion: 'TLSv1.2' })).rejects.toThrow();
    expect(await handshake(port, { servername: 'modern.example.test' })).toBe('TLSv1.3');
    expect(await handshake(port, { servername: 'other.example.test', maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    const [socket] = await secured;
    expect((socket as TLSSocket & { server: unknown }).server).toBe(target);
  });

  test('rejects a handshake without SNI when the default options set sniStrict', async () => {
    const port = await listenTls(() => strictDefault);
    await expect(handshake(port, {})).rejects.toThrow(/missing extension/i);
  });

  test('serves a handshake without SNI when sniStrict is off', async () => {
    const port = await listenTls(() => DEFAULT_TLS_OPTIONS);
    expect(await handshake(port, {})).toBe('TLSv1.3');
  });

  test('fallback server rejects hosts with stricter options', async () => {
    // The fallback server handles ClientHellos that could not be read in advance; it must not let a
    // client reach a TLS 1.3-only host over TLS 1.2 that way.
    const optionsFor = (serverName: string | undefined) => (serverName === 'modern.example.test' ? modern : DEFAULT_TLS_OPTIONS);
    const fallback = createTlsServer(tlsServerOptions({ store, optionsFor }));
    await new Promise<void>((resolve) => fallback.listen(0, '127.0.0.1', resolve));
    const port = (fallback.address() as { port: number }).port;
    try {
      await expect(handshake(port, { servername: 'modern.example.test' })).rejects.toThrow();
      expect(await handshake(port, { servername: 'other.example.test', maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    } finally {
      fallback.close();
    }
  });

  test('rejects a handshake whose options are invalid', async () => {
    const port = await listenTls(() => undefined);
    await expect(handshake(port, { servername: 'broken.example.test' })).rejects.toThrow(/handshake failure/i);
  });
});
