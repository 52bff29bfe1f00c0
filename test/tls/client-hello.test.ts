import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';

import { describe, expect, it } from 'vitest';

import { readClientHello } from '../../src/tls/client-hello.js';

/** Captures the first bytes a Node.js TLS client sends, which contain its ClientHello. */
async function captureClientHello(servername: string | undefined, ALPNProtocols: string[] = []): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const captured = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      let bytes = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        if (readClientHello(bytes).status !== 'incomplete') {
          resolve(bytes);
          socket.destroy();
        }
      });
    });
  });
  const client = connect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), ALPNProtocols, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const bytes = await captured;
  client.destroy();
  server.close();
  return bytes;
}

/** Splits the handshake message of one TLS record into records of at most `size` bytes. */
function refragment(record: Buffer, size: number): Buffer {
  const message = record.subarray(5, 5 + record.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let offset = 0; offset < message.length; offset += size) {
    const fragment = message.subarray(offset, offset + size);
    const header = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    header.writeUInt16BE(fragment.length, 3);
    records.push(header, fragment);
  }
  return Buffer.concat(records);
}

describe('readClientHello', () => {
  it('reads the server name of a real ClientHello', async () => {
    const hello = await captureClientHello('Secure.Example.Test');
    expect(readClientHello(hello)).toEqual({ status: 'complete', serverName: 'secure.example.test', alpnProtocols: [] });
  });

  it('has no server name when the client sends none', async () => {
    // Node.js sends no SNI when connecting to an IP address without servername.
    const hello = await captureClientHello(undefined);
    expect(readClientHello(hello)).toEqual({ status: 'complete', alpnProtocols: [] });
  });

  it('reads the offered ALPN protocols', async () => {
    const hello = await captureClientHello('a.example.test', ['acme-tls/1']);
    expect(readClientHello(hello)).toEqual({ status: 'complete', serverName: 'a.example.test', alpnProtocols: ['acme-tls/1'] });
  });

  it('needs more bytes for every prefix', async () => {
    const hello = await captureClientHello('a.example.test');
    for (const length of [0, 1, 4, 5, 6, 40, hello.length - 1]) {
      expect(readClientHello(hello.subarray(0, length)).status).toBe('incomplete');
    }
  });

  it('joins a ClientHello split across records', async () => {
    const hello = await captureClientHello('split.example.test');
    expect(readClientHello(refragment(hello, 50))).toEqual({ status: 'complete', serverName: 'split.example.test', alpnProtocols: [] });
    expect(readClientHello(refragment(hello, 3))).toEqual({ status: 'complete', serverName: 'split.example.test', alpnProtocols: [] });
  });

  it('rejects bytes that are not a handshake', () => {
    expect(readClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toMatchObject({ status: 'invalid' });
  });

  it('rejects a handshake that is not a ClientHello', () => {
    expect(readClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]))).toMatchObject({ status: 'invalid', reason: 'the first handshake message is not a ClientHello' });
  });

  it('rejects lengths that run past the message', async () => {
    const hello = Buffer.from(await captureClientHello('a.example.test'));
    // Claim a session id longer than the rest of the message.
    hello[5 + 4 + 34] = 0xff;
    expect(readClientHello(hello)).toMatchObject({ status: 'invalid' });
  });

  it('rejects a ClientHello that claims to be huge', () => {
    expect(readClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff]))).toMatchObject({ status: 'invalid' });
  });
});
