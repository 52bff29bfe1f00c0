// `transport.keepAliveMaxRequests` was rejected as an unknown flag. Traefik v3 closes a client
// connection after that many requests, and so does the entry point now, on one raw socket.
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';

import { loadStaticConfig } from '../../src/config/index.js';
import { listenerSettings } from '../../src/entrypoints/from-config.js';
import { EntryPoint } from '../../src/entrypoints/server.js';

let entryPoint: EntryPoint | undefined;

afterEach(async () => {
  await entryPoint?.close(0);
  entryPoint = undefined;
});

/**
 * Sends three pipelined requests on one connection. Returns what was read, and whether the server
 * closed the connection, once it closes or all three responses are in. Idle connections never time out in these tests.
 */
async function threeRequests(port: number): Promise<{ text: string; closedByServer: boolean }> {
  const socket = connect(port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n'.repeat(3));
  let text = '';
  socket.setEncoding('utf8');
  return new Promise((resolve) => {
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.split('ok').length > 3) {
        resolve({ text, closedByServer: false });
        socket.destroy();
      }
    });
    socket.on('end', () => resolve({ text, closedByServer: true }));
  });
}

async function start(keepAliveMaxRequests: number): Promise<number> {
  entryPoint = new EntryPoint({
    name: 'web',
    address: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    keepAliveMaxRequests,
    timeouts: { idleTimeoutMs: 0 },
    handler: (_request, response) => {
      response.end('ok');
    },
  });
  return (await entryPoint.listen()).port;
}

describe('keepAliveMaxRequests', () => {
  test('limit of two closes after second', async () => {
    const { text, closedByServer } = await threeRequests(await start(2));

    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  test('zero sets no limit', async () => {
    const { text, closedByServer } = await threeRequests(await start(0));

    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    expect(closedByServer).toBe(false);
  });

  test('option read from flags', async () => {
    const config = await loadStaticConfig({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.keepalivemaxrequests=5'], env: {}, cwd: process.cwd(), isTTY: false });

    expect(listenerSettings(config.entryPoints.web!).keepAliveMaxRequests).toBe(5);
  });

  test('negative count rejected', async () => {
    const load = loadStaticConfig({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.keepalivemaxrequests=-1'], env: {}, cwd: process.cwd(), isTTY: false });

    await expect(load).rejects.toThrow('the value must be a whole number from 0 to');
  });

  test('keepAliveMaxTime named as unsupported', async () => {
    const load = loadStaticConfig({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.keepalivemaxtime=10s'], env: {}, cwd: process.cwd(), isTTY: false });

    await expect(load).rejects.toThrow('Berth does not close a connection after a maximum age yet');
  });
});
