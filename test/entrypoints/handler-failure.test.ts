// A request whose handler fails gets 500, or a closed connection when even the 500 cannot be
// written, and the entry point keeps serving other requests.
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { afterEach, expect, test } from 'vitest';

import { EntryPoint, type RequestHandler } from '../../src/entrypoints/server.js';
import { silentLogger } from '../../src/observability/logger.js';

let entryPoint: EntryPoint | undefined;

afterEach(async () => {
  await entryPoint?.close(0);
  entryPoint = undefined;
});

async function serve(handler: RequestHandler): Promise<number> {
  entryPoint = new EntryPoint({ name: 'web', address: '127.0.0.1:0', logger: silentLogger(), handler });
  return (await entryPoint.listen()).port;
}

/** Sends GET `path` on a new connection and returns the status, or the error code when the connection closed first. */
function get(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    request.end();
  });
}

/** Returns a handler that responds 200 to `/ok` and fails every other path in the way `fail` does. */
function failingHandler(fail: (response: Parameters<RequestHandler>[1]) => unknown): RequestHandler {
  return (request, response) => {
    if (request.url === '/ok') {
      response.end('ok');
      return;
    }
    return fail(response) as void;
  };
}

test('handler throwing synchronously gets 500', async () => {
  const port = await serve(
    failingHandler(() => {
      throw new Error('synchronous failure');
    }),
  );

  expect(await get(port, '/fail')).toBe(500);
  expect(await get(port, '/ok')).toBe(200);
});

test('rejected handler gets 500', async () => {
  const port = await serve(failingHandler(() => Promise.reject(new Error('asynchronous failure'))));

  expect(await get(port, '/fail')).toBe(500);
  expect(await get(port, '/ok')).toBe(200);
});

test('failing 500 closes the connection', async () => {
  // As a headers middleware does, the handler wraps writeHead, and here the wrapper always throws.
  const port = await serve(
    failingHandler((response) => {
      response.writeHead = () => {
        throw new TypeError('Invalid character in header content ["x-greeting"]');
      };
      return Promise.reject(new Error('asynchronous failure'));
    }),
  );

  expect(await get(port, '/fail')).toBe('ECONNRESET');
  expect(await get(port, '/ok')).toBe(200);
});

test('failure after the end keeps the connection', async () => {
  const port = await serve(
    failingHandler((response) => {
      response.end('done');
      throw new Error('failure after the response ended');
    }),
  );
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write('GET /fail HTTP/1.1\r\nHost: a.test\r\n\r\nGET /ok HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
  await once(socket, 'close');

  expect(received.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
});
