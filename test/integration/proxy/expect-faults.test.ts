// Odd server responses to a request with `Expect: 100-continue`, which goes through node:http instead of
// undici: each must reach the client as the same request without Expect does, never as silence or a 200.
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const running: Array<RawServer | InProcessBerth | RawClient> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/**
 * Starts Berth before a raw server that sends `response` as soon as it has the head of a request for `/odd`,
 * before any body, and a normal 200 with body `next` to any other request.
 */
async function berthWithServer(response: string, responseHeaderTimeoutMs = 0): Promise<InProcessBerth> {
  const answered = new WeakMap<RawConnection, number>();
  const server = await startRawServer((connection) => {
    let offset = answered.get(connection) ?? 0;
    for (;;) {
      const request = splitHead(connection.received.slice(offset));
      if (request === undefined) break;
      offset += request.head.length;
      if (request.head.includes(' /odd ')) {
        connection.socket.write(response, 'latin1');
      } else {
        connection.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext', 'latin1');
      }
    }
    answered.set(connection, offset);
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url], forwarder: { responseHeaderTimeoutMs } });
  running.push(berth);
  return berth;
}

async function rawClient(berth: InProcessBerth): Promise<RawClient> {
  const client = await RawClient.connect(berth.port);
  running.push(client);
  return client;
}

function oddRequest(expectContinue: boolean): string {
  const expectField = expectContinue ? 'Expect: 100-continue\r\n' : '';
  return `POST /odd HTTP/1.1\r\nHost: app.example.test\r\n${expectField}Content-Length: 5\r\n\r\n`;
}

/** Sends a request for `/odd`, its body after any 100 Continue, and waits until the client received `until`. */
async function exchange(berth: InProcessBerth, expectContinue: boolean, until: RegExp): Promise<RawClient> {
  const client = await rawClient(berth);
  client.write(oddRequest(expectContinue));
  if (!expectContinue) client.write('hello');
  else void client.waitFor(/100 Continue\r\n\r\n/, 10_000).then(() => client.write('hello'), () => undefined);
  await client.waitFor(until, 5_000);
  return client;
}

const STATUS_LINE = /HTTP\/1\.1 [2-9]\d\d [^]*?\r\n\r\n/;

/** Returns the logged failure of the request, as the dispatcher writes it once per request. */
function loggedFailure(berth: InProcessBerth): { type?: string; message?: string } | undefined {
  const line = berth.logs().find((entry) => entry.msg === 'forwarding failed');
  return line === undefined ? undefined : { type: line.errorType as string | undefined, message: line.reason as string | undefined };
}

const invalidResponses = [
  { name: '101 with Upgrade', response: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw-after-101', message: /^the server sent 101 Switching Protocols/ },
  { name: 'bare 101', response: 'HTTP/1.1 101 Switching Protocols\r\n\r\nraw-after-101', message: /^the server sent 101 Switching Protocols/ },
  { name: 'status 099', response: 'HTTP/1.1 099 Weird\r\nContent-Length: 2\r\n\r\nok', message: /invalid status code 99$/ },
  { name: 'status 600', response: 'HTTP/1.1 600 Weird\r\nContent-Length: 2\r\n\r\nok', message: /invalid status code 600$/ },
  { name: 'status 999', response: 'HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nok', message: /invalid status code 999$/ },
];

describe('invalid final response is 502', () => {
  for (const { name, response, message } of invalidResponses) {
    for (const expectContinue of [true, false]) {
      test(`${name}, ${expectContinue ? 'with' : 'without'} Expect`, async () => {
        const berth = await berthWithServer(response, 2_000);

        const started = performance.now();
        const { received } = await exchange(berth, expectContinue, STATUS_LINE);
        const elapsedMs = performance.now() - started;

        expect(received).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
        expect(received).not.toContain('100 Continue');
        expect(received).not.toContain('Weird');
        // Well before the 2 s response header timeout, which would make it a 504.
        expect(elapsedMs).toBeLessThan(1_500);
        await expect.poll(() => loggedFailure(berth)?.type).toBe('BadGatewayError');
        expect(loggedFailure(berth)?.message).toMatch(message);
      });
    }
  }
});

describe('204 with a body', () => {
  for (const expectContinue of [true, false]) {
    test(`relayed without Content-Length, ${expectContinue ? 'with' : 'without'} Expect`, async () => {
      const berth = await berthWithServer('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\nhello');

      const client = await exchange(berth, expectContinue, STATUS_LINE);
      const received = client.received;
      await sleep(100);

      expect(received).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
      expect(received).toMatch(/\r\nX-Kept: yes\r\n/);
      expect(received).not.toMatch(/content-length/i);
      // The body the server sent after the 204 never reaches the client.
      expect(client.received).toBe(received);
      expect(berth.logs().some((line) => line.msg === 'forwarding failed')).toBe(false);
    });
  }
});

describe('response header timeout with Expect', () => {
  test('102, then silence, is 504', async () => {
    const berth = await berthWithServer('HTTP/1.1 102 Processing\r\n\r\n', 300);

    const { received } = await exchange(berth, true, STATUS_LINE);

    expect(received).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 504 Gateway Timeout\r\n/);
  });
});
