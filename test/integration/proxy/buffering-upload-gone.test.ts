// `buffering` with a client that leaves while its request body is being read, before anything is forwarded.
// Observed: an HTTP/1.1 client that closed its connection mid-upload left no line with status 499, because
// buffering dropped the request without logging and the forwarder never received it. HTTP/2 clients had one from
// the forwarder: with Node.js 20.20's client, stream.close() ends the request body before the reset arrives, so
// the body is complete and the forwarder then finds the client gone. Expected: nothing forwarded, 499 logged.
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

type Leave = 'h1' | 'h2 CANCEL' | 'h2 NO_ERROR';

/** The message of the 499 line: buffering's own on HTTP/1.1, the forwarder's after a complete HTTP/2 body. */
const MESSAGES: Record<Leave, string> = {
  h1: 'client closed the connection while buffering read its request body',
  'h2 CANCEL': 'client closed the connection before the response ended',
  'h2 NO_ERROR': 'client closed the connection before the response ended',
};

/** Sends the head and 1000 bytes of a POST body, then leaves before the body ends. */
async function uploadAndLeave(leave: Leave, port: number): Promise<void> {
  if (leave === 'h1') {
    const socket = net.connect(port, LOOPBACK);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(`POST /upload HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 5000\r\n\r\n${'u'.repeat(1000)}`);
    await sleep(200);
    socket.destroy();
    return;
  }

  const session = await connectHttp2(port);
  const stream = session.request({ ':authority': 'app.example.test', ':method': 'POST', ':path': '/upload' }, { endStream: false });
  stream.on('error', () => undefined);
  stream.write('u'.repeat(1000));
  await sleep(200);
  stream.close(leave === 'h2 CANCEL' ? http2.constants.NGHTTP2_CANCEL : http2.constants.NGHTTP2_NO_ERROR);
  // The session stays open, so only the reset stream shows Berth that the client left.
  running.push({ close: async () => void session.close() } as RunningServer);
}

describe.each<Leave>(['h1', 'h2 CANCEL', 'h2 NO_ERROR'])('buffering client gone during upload (%s)', (leave) => {
  test('nothing forwarded and 499 logged', async () => {
    let forwarded = 0;
    const app = await startServer((request, response) => {
      forwarded += 1;
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    running.push(app);
    const berth = await startInProcessBerth({
      servers: [app.url.origin],
      middlewares: { spool: { type: 'buffering', options: {} } },
    });
    running.push(berth);

    await uploadAndLeave(leave, berth.port);
    await sleep(300);

    expect(forwarded).toBe(0);
    const entries = berth.logs().filter((entry) => entry.status === 499);
    expect(entries.map((entry) => entry.msg)).toEqual([MESSAGES[leave]]);
  });
});
