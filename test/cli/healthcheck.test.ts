// `berth healthcheck` against servers on loopback. Before, a Berth without `--ping` made the
// check fail with only "connect ECONNREFUSED" or "GET /ping: 404", with no word on how to
// enable the endpoint.
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { healthcheck } from '../../src/cli/healthcheck.js';
import { loadStaticConfig, type StaticConfig } from '../../src/config/index.js';
import { generateDefaultCertificate } from '../../src/tls/default-certificate.js';

let server: Pick<Server, 'close'> | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running) await new Promise((resolve) => running.close(resolve));
});

/** Starts a server on loopback that responds to every request with `status`, and returns its port. */
async function serve(status: number): Promise<number> {
  const listening = createServer((_request, response) => {
    response.writeHead(status);
    response.end(status === 200 ? 'OK' : 'not found');
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return (listening.address() as AddressInfo).port;
}

/** Returns a port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function configFor(port: number, extra: string[] = []): Promise<StaticConfig> {
  return loadStaticConfig({ argv: [`--entrypoints.berth.address=127.0.0.1:${port}`, ...extra], env: {}, cwd: process.cwd(), isTTY: false });
}

async function check(config: StaticConfig): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await healthcheck(config, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('berth healthcheck', () => {
  // Before, the check spoke plain HTTP, while /ping on an entry point with http.tls is served only over TLS.
  it('speaks HTTPS to a TLS ping entry point', async () => {
    const certificate = await generateDefaultCertificate();
    const secure = createTlsServer({ cert: certificate.certPem, key: certificate.keyPem }, (_request, response) => response.end('OK'));
    server = secure;
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    const { port } = secure.address() as AddressInfo;
    const argv = [`--entrypoints.websecure.address=127.0.0.1:${port}`, '--entrypoints.websecure.http.tls=true', '--ping.entrypoint=websecure'];
    const result = await check(await loadStaticConfig({ argv, env: {}, cwd: process.cwd(), isTTY: false }));

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('GET /ping: 200\n');
  });

  // Before, the check always went to the internal entry point, where /ping then did not respond.
  it('checks the ping entry point', async () => {
    const port = await serve(200);
    const config = await loadStaticConfig({ argv: [`--entrypoints.web.address=127.0.0.1:${port}`, '--ping.entrypoint=web'], env: {}, cwd: process.cwd(), isTTY: false });
    const result = await check(config);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('GET /ping: 200\n');
  });

  it('passes when /ping responds 200', async () => {
    const port = await serve(200);
    const result = await check(await configFor(port, ['--ping']));

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('GET /ping: 200\n');
    expect(result.stderr).toBe('');
  });

  it('explains a 404 from an API without ping', async () => {
    const port = await serve(404);
    const result = await check(await configFor(port));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`GET http://127.0.0.1:${port}/ping returned 404`);
    expect(result.stderr).toContain('/ping is not enabled: start Berth with --ping, or set BERTH_PING=true');
    expect(result.stderr).toContain('Ping is not enabled in the configuration this command read either.');
  });

  it('explains an unreachable entry point', async () => {
    const port = await closedPort();
    const result = await check(await configFor(port, ['--ping']));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`GET http://127.0.0.1:${port}/ping: connect ECONNREFUSED`);
    expect(result.stderr).toContain('The ping endpoint is disabled or not reachable: start Berth with --ping, or set BERTH_PING=true');
    expect(result.stderr).toContain('--entrypoints.berth.address (BERTH_ENTRYPOINTS_BERTH_ADDRESS)');
    expect(result.stderr).not.toContain('in the configuration this command read either');
  });

  it('names the address for another status', async () => {
    const port = await serve(503);
    const result = await check(await configFor(port, ['--ping']));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('returned 503');
    expect(result.stderr).toContain('names the internal entry point of Berth');
  });
});
