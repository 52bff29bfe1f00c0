// Limits on the header list of an HTTP/2 request, compared with HTTP/1.1. Before the fix a list over
// the 16 KiB limit got RST_STREAM ENHANCE_YOUR_CALM where HTTP/1.1 gets 431. A request of more than 128
// fields, such as many cookies sent one per field, was reset although HTTP/1.1 accepted it.
import { once } from 'node:events';
import type { ClientHttp2Session, OutgoingHttpHeaders } from 'node:http2';

import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

interface Setup {
  berth: InProcessBerth;
  session: ClientHttp2Session;
  /** Number of requests the server received. */
  reached: () => number;
}

async function setUp(): Promise<Setup> {
  let count = 0;
  // The server accepts larger heads than Berth, so a 431 can only come from Berth.
  const server = await startServer(
    (_request, response) => {
      count += 1;
      response.end('ok');
    },
    { maxHeaderSize: 256 * 1024 },
  );
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const session = await connectHttp2(berth.port);
  running.push(session);
  // node:http2 applies its SETTINGS once the client acknowledged them, and the PING round trip ends after that.
  await new Promise<void>((resolve, reject) => session.ping((error) => (error === null ? resolve() : reject(error))));
  return { berth, session, reached: () => count };
}

interface Outcome {
  status: number | undefined;
  rstCode: number | undefined;
}

/** Sends a request and returns its status, or the RST_STREAM code when the stream was reset without one. */
async function outcome(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<Outcome> {
  const stream = session.request({ ':authority': 'app.example.test', ':path': '/', ...headers });
  let status: number | undefined;
  stream.on('response', (responseHeaders) => {
    status = Number(responseHeaders[':status']);
  });
  stream.on('error', () => undefined);
  stream.resume();
  await once(stream, 'close');
  return { status, rstCode: status === undefined ? stream.rstCode : undefined };
}

describe('HTTP/2 header list limits', () => {
  test('list over the limit gets 431', async () => {
    const { session, reached } = await setUp();

    const result = await outcome(session, { 'x-big': 'a'.repeat(20_000) });

    expect(result).toEqual({ status: 431, rstCode: undefined });
    expect(reached()).toBe(0);
    expect(session.destroyed).toBe(false);
  });

  test('HTTP/1.1 gets 431 for the same', async () => {
    const { berth } = await setUp();

    const response = await send(berth.port, { headers: { host: 'app.example.test', 'x-big': 'a'.repeat(20_000) } });

    expect(response.status).toBe(431);
  });

  test('list under the limit passes', async () => {
    const { session, reached } = await setUp();

    const result = await outcome(session, { 'x-big': 'a'.repeat(15_000) });

    expect(result.status).toBe(200);
    expect(reached()).toBe(1);
  });

  test('300 cookie fields pass', async () => {
    const { session, reached } = await setUp();
    const cookies = Array.from({ length: 300 }, (_, i) => `c${i}=v`);

    const result = await outcome(session, { cookie: cookies });

    expect(result.status).toBe(200);
    expect(reached()).toBe(1);
  });
});
