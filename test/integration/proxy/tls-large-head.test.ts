// An HTTP/1.1 request head over the 16 KiB limit on a TLS connection. Before the fix a head of more than
// 32 KiB got no 431, and the connection just closed. node:http reported the parse error again for the
// next TLS record, and the entry point destroyed the socket before its 431 was written.
import { once } from 'node:events';
import tls from 'node:tls';

import { afterEach, describe, expect, test } from 'vitest';

import { sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** Writes `text` on a new TLS connection that offers only HTTP/1.1, and returns all it receives until it closes. */
async function sendOverTls(port: number, text: string): Promise<string> {
  const socket = tls.connect({ port, host: LOOPBACK, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], servername: 'app.example.test' });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write(text);
  await new Promise((resolve) => socket.on('close', resolve));
  return received;
}

describe('request head over the limit', () => {
  for (const size of [20_000, 40_000, 100_000]) {
    test(`${size} bytes get 431 over TLS and plain`, async () => {
      const server = await startServer((_request, response) => response.end('ok'));
      running.push(server);
      const berth = await startInProcessBerth({ servers: [server.url.origin] });
      running.push(berth);
      const text = `GET / HTTP/1.1\r\nHost: app.example.test\r\nX-Big: ${'a'.repeat(size)}\r\nConnection: close\r\n\r\n`;

      const viaTls = await sendOverTls(berth.port, text);
      const plain = await sendRaw(berth.port, text);

      expect(viaTls.slice(0, 12)).toBe('HTTP/1.1 431');
      expect(plain.slice(0, 12)).toBe('HTTP/1.1 431');
    });
  }
});
