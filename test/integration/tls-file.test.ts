// TLS from the file provider, end to end through the built `bin/berth`. A dynamic configuration
// file brings a static certificate, TLS options and TLS routers. The tests cover HTTPS with SNI,
// plain HTTP kept away from TLS routers, the redirection from `web` to `websecure`, and reloads.

import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { CertificateDirectory, type TestCertificate } from '../tls/openssl.js';
import { apiGet, type BerthProcess, printBerthLogsOnFailure, startBerth } from './harness/berth.js';
import { freePort } from './harness/containers.js';
import { httpRequest } from './harness/http.js';
import { waitFor } from './harness/wait.js';

const HOST = 'secure.example.test';
const STRICT_HOST = 'strict.example.test';

const certificates = new CertificateDirectory();
const configDirectory = mkdtempSync(join(tmpdir(), 'berth-tls-file-'));
const dynamicFile = join(configDirectory, 'dynamic.yml');
let certificate: TestCertificate;
let backend: Server;
let backendPort = 0;
let securePort = 0;
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

function dynamicConfig(extraRouters = ''): string {
  return [
    'http:',
    '  routers:',
    '    secure:',
    `      rule: Host(\`${HOST}\`)`,
    '      service: backend',
    '      tls: {}',
    '    strict:',
    `      rule: Host(\`${STRICT_HOST}\`)`,
    '      service: backend',
    '      tls:',
    '        options: modern',
    extraRouters,
    '  services:',
    '    backend:',
    '      loadBalancer:',
    '        servers:',
    `          - url: http://127.0.0.1:${backendPort}`,
    'tls:',
    '  certificates:',
    `    - certFile: ${certificate.certFile}`,
    `      keyFile: ${certificate.keyFile}`,
    '  options:',
    '    default:',
    '      sniStrict: true',
    '    modern:',
    '      minVersion: VersionTLS13',
    '',
  ].join('\n');
}

/** Sends a GET over TLS to the websecure entry point with `serverName` as SNI and Host, trusting the test certificate. */
function httpsGet(path: string, serverName = HOST, options: { host?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const tlsVersion = options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion };
    const request = httpsRequest(
      { host: '127.0.0.1', port: securePort, path, servername: serverName, headers: { host: options.host ?? serverName }, ca: certificate.certPem, agent: false, timeout: 5_000, ...tlsVersion },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${path} over TLS timed out`)));
    request.on('error', reject);
    request.end();
  });
}

beforeAll(async () => {
  certificate = certificates.create({ commonName: HOST, dnsNames: [HOST, STRICT_HOST] });
  backend = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`backend ${request.url}`);
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  backendPort = (backend.address() as AddressInfo).port;
  writeFileSync(dynamicFile, dynamicConfig());

  securePort = await freePort();
  berth = await startBerth({
    dockerSocket: inject('dockerSocket'),
    args: [
      `--entrypoints.websecure.address=127.0.0.1:${securePort}`,
      '--entrypoints.web.http.redirections.entrypoint.to=websecure',
      `--providers.file.filename=${dynamicFile}`,
    ],
  });
  await waitFor(async () => (await httpsGet('/')).status === 200, { timeoutMs: 10_000, intervalMs: 100, description: `HTTPS for ${HOST} returning 200` });
});

afterAll(async () => {
  await berth?.stop();
  backend?.close();
  certificates.remove();
  rmSync(configDirectory, { recursive: true, force: true });
});

printBerthLogsOnFailure(() => berth);

describe('TLS router from the file provider', () => {
  it('serves HTTPS with the static certificate', async () => {
    const response = await httpsGet('/hello?x=1');
    expect(response.status).toBe(200);
    expect(response.body).toBe('backend /hello?x=1');
  });

  it('keeps plain HTTP away from the TLS router', async () => {
    const response = await httpRequest(`http://127.0.0.1:${securePort}/`, { headers: { host: HOST } });
    expect(response.status).toBe(404);
  });

  it('redirects web to websecure with 308, keeping the path', async () => {
    const response = await httpRequest(`${running().webUrl}/app/x?y=1`, { method: 'POST', headers: { host: `${HOST}:${running().webPort}` }, body: 'data' });
    expect(response.status).toBe(308);
    expect(response.headers.location).toBe(`https://${HOST}:${securePort}/app/x?y=1`);
  });

  it('lists the certificate in the API without its key', async () => {
    const body = JSON.stringify(await apiGet(running(), '/api/certificates'));
    expect(body).toContain(HOST);
    expect(body).not.toContain('PRIVATE KEY');
    const router = await apiGet<{ tls?: unknown; status: string }>(running(), '/api/http/routers/secure@file');
    expect(router).toMatchObject({ status: 'enabled', tls: {} });
  });
});

describe('TLS options from the file provider', () => {
  it('minVersion of a host rejects older clients', async () => {
    await expect(httpsGet('/', STRICT_HOST, { maxVersion: 'TLSv1.2' })).rejects.toThrow();
    expect((await httpsGet('/', STRICT_HOST)).status).toBe(200);
    expect((await httpsGet('/', HOST, { maxVersion: 'TLSv1.2' })).status).toBe(200);
  });

  it('sniStrict of the default options rejects unknown server names', async () => {
    await expect(httpsGet('/', 'unknown.example.test')).rejects.toThrow();
  });

  it('sniStrict of the default options rejects a handshake without SNI', async () => {
    // Node.js sends no server name when it is an empty string.
    await expect(httpsGet('/', '')).rejects.toThrow();
  });

  it('a Host with other TLS options than the server name gets 421', async () => {
    const response = await httpsGet('/', HOST, { host: STRICT_HOST });
    expect(response.status).toBe(421);
  });
});

describe('file provider reloads', () => {
  it('applies a new router without a restart', async () => {
    writeFileSync(dynamicFile, dynamicConfig(['    other:', '      rule: Host(`other.example.test`)', '      service: backend', '      tls: {}'].join('\n')));
    await waitFor(async () => (await httpRequest(`${running().apiUrl}/api/http/routers/other@file`)).status === 200, {
      timeoutMs: 5_000,
      intervalMs: 50,
      description: 'router other@file in the API',
    });
  });

  it('keeps the last good configuration when the file breaks, and shows the error', async () => {
    writeFileSync(dynamicFile, 'http:\n  routers: [\n');
    const status = await waitFor(
      async () => {
        const overview = await apiGet<{ providerStatus?: { file?: { errors: string[] } } }>(running(), '/api/overview');
        const errors = overview.providerStatus?.file?.errors ?? [];
        return errors.length > 0 ? errors : false;
      },
      { timeoutMs: 5_000, intervalMs: 50, description: 'the file provider error in the API' },
    );
    expect(status[0]).toContain('is not valid YAML');
    expect((await httpsGet('/still')).status).toBe(200);

    writeFileSync(dynamicFile, dynamicConfig());
    await waitFor(
      async () => ((await apiGet<{ providerStatus?: { file?: { errors: string[] } } }>(running(), '/api/overview')).providerStatus?.file?.errors ?? ['x']).length === 0,
      { timeoutMs: 5_000, intervalMs: 50, description: 'the file provider error cleared' },
    );
  });

  it('logs the broken file once at error level', () => {
    const entries = running().logEntries().filter((entry) => entry.msg === 'dynamic configuration problem' && String(entry.problem).includes('is not valid YAML'));
    expect(entries).toHaveLength(1);
    expect(entries[0]?.level).toBe(50);
  });
});
