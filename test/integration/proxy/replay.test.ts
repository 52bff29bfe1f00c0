// The replay of an idempotent request whose pooled keep-alive connection the server had closed: it goes
// out on a connection opened for it alone, never on another pooled one, and that connection is closed
// once the exchange ends.
import { webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import * as x509 from '@peculiar/x509';
import { afterEach, describe, expect, test, vi } from 'vitest';

import { createForwarder } from '../../../src/proxy/forwarder.js';
import { CONTEXT, send, startServer } from '../../proxy/harness.js';
import { startBerthChild } from './child.js';
import { OK, startClosingServer, type ClosingServer, type ClosingServerAction, type ClosingServerOptions } from './closing-server.js';
import { LOOPBACK, startInProcessBerth } from './harness.js';

const running: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const HOST = { host: 'app.example.test' };

/** A response the server never sends, so the connection stays silent. */
const NEVER = new Promise<ClosingServerAction>(() => {});

/** Time within which a one-shot connection must close, well below the pool's 1 s idle timeout. */
const CLOSED_WITHIN_MS = 500;

/**
 * Starts a server that responds to two `GET /warm` together once both have arrived, so Berth's pool keeps
 * two idle connections. Any later request on a connection that served one before is dropped without a
 * response. The first request on a new connection gets `respondFresh()`.
 */
async function startTwoConnectionServer(respondFresh: () => ClosingServerAction, options: ClosingServerOptions = {}): Promise<ClosingServer> {
  let release: (action: ClosingServerAction) => void = () => {};
  const bothWarm = new Promise<ClosingServerAction>((resolve) => (release = resolve));
  let warm = 0;
  return startClosingServer((line, nth) => {
    if (line.startsWith('GET /warm')) {
      warm += 1;
      if (warm === 2) release(OK);
      return { later: bothWarm };
    }
    return nth === 1 ? respondFresh() : undefined;
  }, options);
}

/** Sends two concurrent `GET /warm` to Berth, which opens two connections to the server for them. */
async function warmTwoConnections(port: number): Promise<void> {
  const responses = await Promise.all([send(port, { path: '/warm', headers: HOST }), send(port, { path: '/warm', headers: HOST })]);
  expect(responses.map((response) => response.status)).toEqual([200, 200]);
}

describe('replay after a stale connection', () => {
  test('2,000 concurrent GETs, 30 % dropped', { timeout: 60_000 }, async () => {
    // Before the fix, the replay went through the pool and often met another dropped connection: 502s.
    let reused = 0;
    let dropped = 0;
    const server = await startClosingServer((_line, nth) => {
      if (nth === 1) return OK;
      reused += 1;
      // Three of every ten reused requests: 30 %.
      if (reused % 10 >= 3) return OK;
      dropped += 1;
      return undefined;
    });
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const statuses = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) => send(berth.port, { agent, path: `/r${i}`, headers: HOST }).then((response) => response.status, () => 0)),
    );
    agent.destroy();

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(dropped).toBeGreaterThan(100);
    expect(server.seen.length).toBe(2_000 + dropped);
    const replays = berth.logs().filter((entry) => entry.msg === 'forwarding failed; trying again');
    expect(replays.length).toBe(dropped);
  });

  test('replay on an unseen connection', async () => {
    // Before the fix, the replay took the first idle pooled connection, which the server dropped too.
    // Berth's pool contains two: /hold occupies the first, /two goes out on the second, and the server
    // responds to /hold before it drops /two, so the first is idle again when the replay is sent.
    let releaseHold: (action: ClosingServerAction) => void = () => {};
    const holdAction = new Promise<ClosingServerAction>((resolve) => (releaseHold = resolve));
    let twoCount = 0;
    let warm = 0;
    let releaseWarm: (action: ClosingServerAction) => void = () => {};
    const bothWarm = new Promise<ClosingServerAction>((resolve) => (releaseWarm = resolve));
    const server = await startClosingServer((line, nth) => {
      if (line.startsWith('GET /warm')) {
        warm += 1;
        if (warm === 2) releaseWarm(OK);
        return { later: bothWarm };
      }
      if (line.startsWith('GET /hold')) return { later: holdAction };
      if (line.startsWith('GET /two') && nth > 1 && ++twoCount === 1) {
        releaseHold(OK);
        return { later: sleep(50).then(() => undefined) };
      }
      return nth === 1 ? OK : undefined;
    });
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);
    await warmTwoConnections(berth.port);
    expect(server.accepted()).toBe(2);

    const hold = send(berth.port, { path: '/hold', headers: HOST });
    await vi.waitFor(() => expect(server.seen).toContain('GET /hold HTTP/1.1'), { timeout: 2_000 });
    const response = await send(berth.port, { path: '/two', headers: HOST });

    expect((await hold).status).toBe(200);
    expect(response.status).toBe(200);
    const attempts = server.requests.filter((request) => request.line === 'GET /two HTTP/1.1');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.nth).toBe(2);
    expect(attempts[1]).toEqual({ line: 'GET /two HTTP/1.1', nth: 1, connection: 3 });
    expect(server.accepted()).toBe(3);
  });

  test.each([
    { desc: 'complete response', action: () => OK, status: 200, forwarder: {} },
    { desc: 'response header timeout', action: () => ({ later: NEVER }), status: 504, forwarder: { responseHeaderTimeoutMs: 200 } },
    { desc: 'invalid response', action: () => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', status: 502, forwarder: {} },
  ])('replay connection closed after $desc', async ({ action, status, forwarder }) => {
    const server = await startTwoConnectionServer(action);
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url], forwarder });
    running.push(berth);
    await warmTwoConnections(berth.port);

    const response = await send(berth.port, { path: '/two', headers: HOST });

    expect(response.status).toBe(status);
    expect(server.accepted()).toBe(3);
    await vi.waitFor(() => expect(server.openConnections()).not.toContain(3), { timeout: CLOSED_WITHIN_MS });
  });

  test('replay connection closed when client leaves', async () => {
    const server = await startTwoConnectionServer(() => ({ later: NEVER }));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);
    await warmTwoConnections(berth.port);

    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/two', headers: HOST, agent: false });
    request.on('error', () => undefined);
    await vi.waitFor(() => expect(server.openConnections()).toContain(3), { timeout: 2_000 });
    request.destroy();

    await vi.waitFor(() => expect(server.openConnections()).not.toContain(3), { timeout: CLOSED_WITHIN_MS });
    await vi.waitFor(() => expect(berth.logs().some((entry) => entry.status === 499)).toBe(true), { timeout: CLOSED_WITHIN_MS });
  });

  test('https replay on an unseen connection', async () => {
    // Berth verifies the server's certificate, so a child process trusts a test certificate for the Host.
    const { certPem, keyPem } = await selfSignedCertificate(HOST.host);
    const folder = await mkdtemp(join(tmpdir(), 'berth-replay-'));
    running.push({ close: () => rm(folder, { recursive: true, force: true }) });
    const caFile = join(folder, 'ca.pem');
    await writeFile(caFile, certPem);

    const server = await startTwoConnectionServer(() => OK, { tls: { cert: certPem, key: keyPem } });
    running.push(server);
    const berth = await startBerthChild(server.url, { NODE_EXTRA_CA_CERTS: caFile });
    running.push({ close: async () => void (await berth.stop()) });
    await warmTwoConnections(berth.port);
    expect(server.accepted()).toBe(2);

    const response = await send(berth.port, { path: '/two', headers: HOST });

    expect(response.status).toBe(200);
    const attempts = server.requests.filter((request) => request.line === 'GET /two HTTP/1.1');
    expect(attempts.map((request) => request.connection)).toHaveLength(2);
    expect(attempts[1]).toEqual({ line: 'GET /two HTTP/1.1', nth: 1, connection: 3 });
    await vi.waitFor(() => expect(server.openConnections()).not.toContain(3), { timeout: CLOSED_WITHIN_MS });
  });
});

describe('newConnection forward option', () => {
  test.each(['http', 'h2c'] as const)('one connection per request over %s', async (protocol) => {
    // Counts connections (HTTP/1.1) or sessions (h2c) server-side, and those still open.
    let accepted = 0;
    let open = 0;
    const count = (closable: { once(event: 'close', listener: () => void): unknown }): void => {
      accepted += 1;
      open += 1;
      closable.once('close', () => (open -= 1));
    };
    let url: URL;
    if (protocol === 'http') {
      const server = await startServer((_request, response) => response.end('ok'));
      server.server.on('connection', count);
      running.push(server);
      url = server.url;
    } else {
      const server = http2.createServer((_request, response) => response.end('ok'));
      server.on('session', count);
      server.listen(0, LOOPBACK);
      await once(server, 'listening');
      running.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
      url = new URL(`h2c://${LOOPBACK}:${(server.address() as { port: number }).port}`);
    }

    const forwarder = createForwarder();
    const proxy = await startServer((request, response) => void forwarder.forward(request, response, { url, passHostHeader: true }, CONTEXT, { newConnection: true }));
    running.push({ close: async () => (await proxy.close(), await forwarder.close()) });

    const statuses = [(await send(proxy.port, { path: '/one' })).status, (await send(proxy.port, { path: '/two' })).status];

    expect(statuses).toEqual([200, 200]);
    expect(accepted).toBe(2);
    await vi.waitFor(() => expect(open).toBe(0), { timeout: CLOSED_WITHIN_MS });
  });
});

/** Generates a self-signed ECDSA certificate and key for `host`. */
async function selfSignedCertificate(host: string): Promise<{ certPem: string; keyPem: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${host}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END PRIVATE KEY-----\n`;
  return { certPem: certificate.toString('pem'), keyPem };
}
