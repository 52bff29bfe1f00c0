// SIGTERM to a Berth process with a slow request in flight: the entry point stops accepting
// connections, the request finishes, then the process exits.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { startBerthChild, type BerthChild } from './child.js';
import { LOOPBACK } from './harness.js';

const running: Array<RunningServer | BerthChild> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => ('close' in item ? item.close() : item.stop())));
});

function connects(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, LOOPBACK);
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
  });
}

test('SIGTERM lets slow request finish', async () => {
  const server = await startServer((_request, response) => {
    setTimeout(() => response.end('finished after SIGTERM'), 1_500).unref();
  });
  running.push(server);
  const berth = await startBerthChild(server.url.origin, { BERTH_FIXTURE_GRACE_MS: '10000' });
  running.push(berth);

  const inFlight = send(berth.port, { headers: { host: 'app.example.test' } });
  await sleep(300);
  berth.process.kill('SIGTERM');
  await sleep(200);

  expect(await connects(berth.port)).toBe('ECONNREFUSED');
  const response = await inFlight;
  const code = await berth.exited;

  expect(response.status).toBe(200);
  expect(response.body).toBe('finished after SIGTERM');
  expect(code).toBe(0);
  const stopped = berth.messages.find((message) => 'stoppedAfterMs' in message)?.stoppedAfterMs as number;
  // The process waited for the response (about 1.2 s after the signal), not for the whole grace time.
  expect(stopped).toBeGreaterThan(900);
  expect(stopped).toBeLessThan(5_000);
});

test('SIGTERM grace deadline ends stuck requests', async () => {
  const server = await startServer(() => {
    // Never answers.
  });
  running.push(server);
  const berth = await startBerthChild(server.url.origin, { BERTH_FIXTURE_GRACE_MS: '1000' });
  running.push(berth);

  const inFlight = send(berth.port, { headers: { host: 'app.example.test' } }).catch((error: NodeJS.ErrnoException) => error.code);
  await sleep(300);
  const started = performance.now();
  berth.process.kill('SIGTERM');
  const code = await berth.exited;

  expect(code).toBe(0);
  expect(performance.now() - started).toBeLessThan(3_000);
  expect(await inFlight).toBe('ECONNRESET');
});
