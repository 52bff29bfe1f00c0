// `buffering` with a client that leaves while the stored response is sent to it. Before the fix, the
// flush waited for a 'drain' that never came, so the temporary file and its two descriptors stayed
// open for the life of the process, on HTTP/1.1 and HTTP/2.
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

/** Larger than the socket and HTTP/2 flow-control buffers, so a client that reads nothing stalls the flush. */
const BODY_BYTES = 8 * 1024 * 1024;

/** Paths of the temporary files of buffered bodies that this process has open. */
function openSpoolFiles(): string[] {
  const paths: string[] = [];
  for (const descriptor of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${descriptor}`);
      if (target.includes('berth-buffer-')) paths.push(target);
    } catch {
      // The descriptor of the directory listing itself is closed by now.
    }
  }
  return paths;
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes, and returns its last result. */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

async function startBufferingBerth(): Promise<InProcessBerth> {
  const server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    response.end(Buffer.alloc(BODY_BYTES, 'z'));
  });
  running.push(server);
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    middlewares: { buffer: { type: 'buffering', options: { memResponseBodyBytes: 1024 } } },
  });
  running.push(berth);
  return berth;
}

describe('buffering client gone', () => {
  test('HTTP/1.1 close removes file', async () => {
    const berth = await startBufferingBerth();
    const client = await RawClient.connect(berth.port);
    client.write('GET /big HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    await client.waitFor(/^HTTP\/1\.1 200 /);
    client.socket.pause();

    expect(await eventually(() => openSpoolFiles().length > 0, 2_000)).toBe(true);
    const [spoolFile] = openSpoolFiles();
    client.close();

    expect(await eventually(() => openSpoolFiles().length === 0, 2_000)).toBe(true);
    expect(await eventually(() => !existsSync(spoolFile ?? ''), 2_000)).toBe(true);
  });

  test('HTTP/2 reset removes file', async () => {
    const berth = await startBufferingBerth();
    const session = await connectHttp2(berth.port);
    try {
      const stream = session.request({ ':authority': 'app.example.test', ':path': '/big' });
      stream.on('error', () => undefined);
      await once(stream, 'response');
      // Reading nothing lets HTTP/2 flow control stall the flush.
      stream.pause();

      expect(await eventually(() => openSpoolFiles().length > 0, 2_000)).toBe(true);
      const [spoolFile] = openSpoolFiles();
      stream.close(http2.constants.NGHTTP2_CANCEL);

      expect(await eventually(() => openSpoolFiles().length === 0, 2_000)).toBe(true);
      expect(await eventually(() => !existsSync(spoolFile ?? ''), 2_000)).toBe(true);
    } finally {
      session.destroy();
    }
  });
});
