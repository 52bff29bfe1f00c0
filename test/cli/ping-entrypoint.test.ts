// `--ping.entrypoint=web` was accepted and checked, and then /ping responded only on the internal
// entry point. These tests run Berth in-process with loopback entry points.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { loadStaticConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { run, type RunningBerth } from '../../src/cli/run.js';

/** Returns a loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function send(port: number, method: string, path: string): Promise<{ status: number; body: string; location?: string | undefined }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers: { host: 'app.example.test' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, location: response.headers.location }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'berth-ping-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function start(argv: string[]): Promise<RunningBerth> {
  const config = await loadStaticConfig({ argv, env: {}, cwd: folder, isTTY: false });
  return run(config, silentLogger());
}

describe('ping on a user entry point', () => {
  let berth: RunningBerth;
  let web: number;
  let internal: number;

  beforeAll(async () => {
    web = await freePort();
    internal = await freePort();
    // A router for every path, whose server refuses connections, shows which requests reach routing.
    const dynamic = join(folder, 'dynamic.yaml');
    await writeFile(
      dynamic,
      'http:\n  routers:\n    all:\n      rule: PathPrefix(`/`)\n      service: closed\n  services:\n    closed:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\n',
    );
    berth = await start([
      `--entrypoints.web.address=127.0.0.1:${web}`,
      `--entrypoints.berth.address=127.0.0.1:${internal}`,
      '--api.insecure',
      '--ping.entrypoint=web',
      `--providers.file.filename=${dynamic}`,
    ]);
  });

  afterAll(async () => {
    await berth.stop();
  });

  test.each(['GET', 'HEAD', 'POST'])('%s /ping before routers', async (method) => {
    const response = await send(web, method, '/ping');
    expect(response.status).toBe(200);
    expect(response.body).toBe(method === 'HEAD' ? '' : 'OK');
  });

  test('path prefix matches', async () => {
    expect((await send(web, 'GET', '/ping/extra?x=1')).status).toBe(200);
    expect((await send(web, 'GET', '/%70ing')).status).toBe(200);
  });

  test('other paths reach routers', async () => {
    expect((await send(web, 'GET', '/pong')).status).toBe(502);
  });

  test('internal entry point has no ping', async () => {
    expect((await send(internal, 'GET', '/ping')).status).toBe(404);
  });
});

describe('ping on a redirecting entry point', () => {
  let berth: RunningBerth;
  let web: number;

  beforeAll(async () => {
    web = await freePort();
    const websecure = await freePort();
    berth = await start([
      `--entrypoints.web.address=127.0.0.1:${web}`,
      `--entrypoints.websecure.address=127.0.0.1:${websecure}`,
      '--entrypoints.web.http.redirections.entrypoint.to=websecure',
      '--ping.entrypoint=web',
    ]);
  });

  afterAll(async () => {
    await berth.stop();
  });

  test('ping before redirection', async () => {
    const response = await send(web, 'GET', '/ping');
    expect(response.status).toBe(200);
    expect(response.body).toBe('OK');
  });

  test('other paths redirected', async () => {
    expect((await send(web, 'GET', '/other')).status).toBe(308);
  });
});
