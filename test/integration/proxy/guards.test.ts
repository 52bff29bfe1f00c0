// basicAuth, ipAllowList, rateLimit and inFlightReq on the real request path: a client, Berth's
// entry point and forwarder, and a server behind it, all on 127.0.0.1.
import http from 'node:http';
import { once } from 'node:events';

import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

/** `openssl passwd -apr1 -salt H6uskkkW test`: user `test`, password `test`. */
const TEST_USER = 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/';

const HOST = 'app.example.test';

/** Starts a server that responds `app` and records the request headers it receives. */
async function appServer(): Promise<{ server: RunningServer; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = await startServer((request, response) => {
    seen.push(request.headers);
    response.end('app');
  });
  running.push(server);
  return { server, seen };
}

async function berthWith(server: RunningServer, middlewares: Parameters<typeof startInProcessBerth>[0]['middlewares'], entryPoint: Parameters<typeof startInProcessBerth>[0]['entryPoint'] = {}): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares, entryPoint });
  running.push(berth);
  return berth;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('basicAuth through Berth', () => {
  test('401 then 200 with credentials', async () => {
    const { server, seen } = await appServer();
    const berth = await berthWith(server, { auth: { type: 'basicauth', options: { users: [TEST_USER], realm: 'Staff', headerField: 'X-WebAuth-User', removeHeader: true } } });

    const anonymous = await send(berth.port, { headers: { host: HOST } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="Staff"');
    expect(seen).toHaveLength(0);

    const wrong = await send(berth.port, { headers: { host: HOST, authorization: basic('test', 'wrong') } });
    expect(wrong.status).toBe(401);
    expect(seen).toHaveLength(0);

    const allowed = await send(berth.port, { headers: { host: HOST, authorization: basic('test', 'test') } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toBe('app');
    expect(seen[0]?.['x-webauth-user']).toBe('test');
    expect(seen[0]?.authorization).toBeUndefined();
  });

  test('bad users disable the router', async () => {
    const { server, seen } = await appServer();
    const berth = await berthWith(server, { auth: { type: 'basicauth', options: { users: ['alice:plaintext'] } } });

    const response = await send(berth.port, { headers: { host: HOST } });
    expect(response.status).toBe(404);
    expect(seen).toHaveLength(0);
    const logged = JSON.stringify(berth.logs());
    expect(logged).toContain('has no supported password hash');
    expect(logged).not.toContain('plaintext');
  });
});

describe('ipAllowList through Berth', () => {
  test('peer outside sourceRange gets 403', async () => {
    const { server, seen } = await appServer();
    const berth = await berthWith(server, { lan: { type: 'ipallowlist', options: { sourceRange: ['10.0.0.0/8'] } } });

    const response = await send(berth.port, { headers: { host: HOST } });
    expect(response.status).toBe(403);
    expect(response.body).toBe('Forbidden');
    expect(seen).toHaveLength(0);
  });

  test('peer inside sourceRange passes', async () => {
    const { server } = await appServer();
    const berth = await berthWith(server, { local: { type: 'ipallowlist', options: { sourceRange: ['127.0.0.1/32', '::1'] } } });

    const response = await send(berth.port, { headers: { host: HOST } });
    expect(response.status).toBe(200);
  });

  test('untrusted X-Forwarded-For is ignored', async () => {
    const { server } = await appServer();
    const berth = await berthWith(server, { lan: { type: 'ipallowlist', options: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1 } } } });

    const response = await send(berth.port, { headers: { host: HOST, 'x-forwarded-for': '10.1.2.3' } });
    expect(response.status).toBe(403);
  });

  test('trusted X-Forwarded-For is read with depth', async () => {
    const { server } = await appServer();
    const berth = await berthWith(
      server,
      { lan: { type: 'ipallowlist', options: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1 } } } },
      { forwardedHeaders: { trustedIPs: ['127.0.0.0/8'], insecure: false } },
    );

    const inside = await send(berth.port, { headers: { host: HOST, 'x-forwarded-for': '192.0.2.1, 10.1.2.3' } });
    expect(inside.status).toBe(200);
    const outside = await send(berth.port, { headers: { host: HOST, 'x-forwarded-for': '10.1.2.3, 192.0.2.1' } });
    expect(outside.status).toBe(403);
  });
});

describe('rateLimit through Berth', () => {
  test('429 with Retry-After after the burst', async () => {
    const { server, seen } = await appServer();
    const berth = await berthWith(server, { limit: { type: 'ratelimit', options: { average: 1, period: '10s', burst: 2 } } });

    expect((await send(berth.port, { headers: { host: HOST } })).status).toBe(200);
    expect((await send(berth.port, { headers: { host: HOST } })).status).toBe(200);
    const limited = await send(berth.port, { headers: { host: HOST } });

    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(9);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(limited.headers['x-retry-in']).toMatch(/^\d+(\.\d+)?(s|ms)$/);
    expect(limited.body).toBe('Too Many Requests');
    expect(seen).toHaveLength(2);
  });
});

describe('inFlightReq through Berth', () => {
  test('429 while a slow request is in flight', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
    const server = await startServer((request, response) => {
      if (request.url !== '/slow') {
        response.end('fast');
        return;
      }
      arrived();
      void released.then(() => response.end('slow'));
    });
    running.push(server);
    const berth = await berthWith(server, { one: { type: 'inflightreq', options: { amount: 1 } } });

    const slow = http.get({ host: LOOPBACK, port: berth.port, path: '/slow', headers: { host: HOST }, agent: false });
    await slowArrived;

    const blocked = await send(berth.port, { path: '/fast', headers: { host: HOST } });
    expect(blocked.status).toBe(429);
    const otherHost = await send(berth.port, { path: '/fast', headers: { host: 'other.example.test' } });
    expect(otherHost.status).toBe(200);

    release();
    const [slowResponse] = (await once(slow, 'response')) as [http.IncomingMessage];
    slowResponse.resume();
    await once(slowResponse, 'end');
    expect(slowResponse.statusCode).toBe(200);

    const after = await send(berth.port, { path: '/fast', headers: { host: HOST } });
    expect(after.status).toBe(200);
  });

  test('client gone releases the slot', async () => {
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
    const server = await startServer((request, response) => {
      if (request.url === '/slow') {
        arrived();
        return;
      }
      response.end('fast');
    });
    running.push(server);
    const berth = await berthWith(server, { one: { type: 'inflightreq', options: { amount: 1 } } });

    const slow = http.get({ host: LOOPBACK, port: berth.port, path: '/slow', headers: { host: HOST }, agent: false });
    slow.on('error', () => undefined);
    await slowArrived;
    expect((await send(berth.port, { path: '/fast', headers: { host: HOST } })).status).toBe(429);

    slow.destroy();
    // Berth detects the closed connection a moment later, so the test polls.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await send(berth.port, { path: '/fast', headers: { host: HOST } })).status;
    }
    expect(status).toBe(200);
  });
});
