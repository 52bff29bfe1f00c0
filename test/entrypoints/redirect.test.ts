import { once } from 'node:events';
import { createServer, IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { EntryPointRedirectionConfig } from '../../src/config/types.js';
import { mergeProviders } from '../../src/dynamic/merged.js';
import type { ProviderConfig } from '../../src/dynamic/model.js';
import { chainRequestHandlers, chainUpgradeHandlers } from '../../src/entrypoints/handler-chain.js';
import { createRedirectClaims, redirectLocation, requestTarget } from '../../src/entrypoints/redirect.js';
import { buildRuntime, type Runtime } from '../../src/routing/runtime.js';

const TO_HTTPS: EntryPointRedirectionConfig = { to: 'websecure', port: 443, scheme: 'https', permanent: true, priority: Number.MAX_SAFE_INTEGER - 1 };

function requestWith(url: string, headers: Record<string, string>): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.url = url;
  request.headers = headers;
  return request;
}

describe('redirectLocation', () => {
  const cases: Array<{ desc: string; url: string; host?: string; redirection?: Partial<EntryPointRedirectionConfig>; expected: string | undefined }> = [
    { desc: 'keeps path and query exactly', url: '/app/x?y=1&z=%2F', host: 'example.test', expected: 'https://example.test/app/x?y=1&z=%2F' },
    { desc: 'drops the port of the Host header', url: '/', host: 'example.test:8080', expected: 'https://example.test/' },
    { desc: 'adds a port that is not the default', url: '/a', host: 'example.test', redirection: { port: 8443 }, expected: 'https://example.test:8443/a' },
    { desc: 'http on port 80 has no port', url: '/a', host: 'example.test', redirection: { scheme: 'http', port: 80 }, expected: 'http://example.test/a' },
    { desc: 'https on port 80 keeps it', url: '/a', host: 'example.test', redirection: { port: 80 }, expected: 'https://example.test:80/a' },
    { desc: 'IPv6 literal keeps its brackets', url: '/', host: '[::1]:8080', expected: 'https://[::1]/' },
    { desc: 'IPv4 address', url: '/', host: '127.0.0.1:8080', expected: 'https://127.0.0.1/' },
    { desc: 'dot segments are not normalized', url: '/a/../b//c', host: 'example.test', expected: 'https://example.test/a/../b//c' },
    { desc: 'absolute-form target keeps its path', url: 'http://example.test:80/p?q', host: 'example.test', expected: 'https://example.test/p?q' },
    { desc: 'absolute-form authority over Host', url: 'http://a.example.test:8080/p', host: 'b.example.test', expected: 'https://a.example.test/p' },
    { desc: 'empty authority takes Host', url: 'http:///p', host: 'b.example.test', expected: 'https://b.example.test/p' },
    { desc: 'missing Host header', url: '/', expected: undefined },
    { desc: 'Host header with a path', url: '/', host: 'evil.test/x', expected: undefined },
    { desc: 'Host header with credentials', url: '/', host: 'user@evil.test', expected: undefined },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const request = requestWith(testCase.url, testCase.host === undefined ? {} : { host: testCase.host });
      expect(redirectLocation(request, { ...TO_HTTPS, ...testCase.redirection })).toBe(testCase.expected);
    });
  }
});

describe('requestTarget', () => {
  it('handles every request target form', () => {
    expect(requestTarget('/a?b')).toBe('/a?b');
    expect(requestTarget('http://h')).toBe('/');
    expect(requestTarget('http://h?x=1')).toBe('/?x=1');
    expect(requestTarget('*')).toBe('/');
  });
});

describe('redirect claims on a server', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  function runtimeWith(routers: Record<string, number>): Runtime {
    const source = [{ provider: 'docker', origin: 'test' }];
    const config: ProviderConfig = { routers: {}, services: {}, middlewares: {}, skipped: [] };
    for (const [name, priority] of Object.entries(routers)) {
      config.routers[name] = { rule: 'PathPrefix(`/`)', entryPoints: [], service: 's', middlewares: [], priority, sources: source, errors: [], warnings: [] };
    }
    config.services.s = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9', weight: 1 }], passHostHeader: true }, sources: source, errors: [], warnings: [] };
    return buildRuntime(mergeProviders(new Map([['docker', config]])), { entryPoints: ['web'], generation: 1 });
  }

  async function listen(redirection: EntryPointRedirectionConfig, runtime: Runtime, scheme: 'http' | 'https' = 'http'): Promise<number> {
    const claims = createRedirectClaims({ entryPoint: 'web', redirection, runtime: () => runtime });
    const handler = chainRequestHandlers([claims.request], (_request, response) => {
      response.writeHead(200);
      response.end('routed');
    });
    const upgrade = chainUpgradeHandlers([claims.upgrade], (_request, socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
    });
    server = createServer((request, response) => void handler(request, response, scheme));
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => void upgrade(request, socket, head, scheme));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('POST gets 308 and the same path', async () => {
    const port = await listen(TO_HTTPS, runtimeWith({}));
    // fetch cannot set the Host header, so this request goes over a raw socket.
    const socket = connect(port, '127.0.0.1');
    socket.write('POST /app/x?y=1 HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndata');
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    await once(socket, 'end');
    expect(text).toMatch(/^HTTP\/1\.1 308 Permanent Redirect\r\n/);
    expect(text).toContain('location: https://example.test/app/x?y=1\r\n');
  });

  it('temporary redirect is 307', async () => {
    const port = await listen({ ...TO_HTTPS, permanent: false, port: 8443 }, runtimeWith({}));
    const response = await fetch(`http://127.0.0.1:${port}/a`, { redirect: 'manual' });
    expect(response.status).toBe(307);
    expect(response.headers.get('location')).toBe(`https://127.0.0.1:8443/a`);
  });

  it('router with a higher priority is served', async () => {
    const port = await listen({ ...TO_HTTPS, priority: 100 }, runtimeWith({ high: 101, low: 50 }));
    expect((await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).status).toBe(200);
  });

  it('router with a lower priority is redirected', async () => {
    const port = await listen({ ...TO_HTTPS, priority: 100 }, runtimeWith({ low: 100 }));
    expect((await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).status).toBe(308);
  });

  it('requests over TLS are not redirected', async () => {
    const port = await listen(TO_HTTPS, runtimeWith({}), 'https');
    expect((await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).status).toBe(200);
  });

  it('upgrade request gets the redirect on its socket', async () => {
    const port = await listen(TO_HTTPS, runtimeWith({}));
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /ws?room=1 HTTP/1.1\r\nHost: chat.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    await once(socket, 'end');
    expect(text).toContain('HTTP/1.1 308 Permanent Redirect\r\n');
    expect(text).toContain('location: https://chat.example.test/ws?room=1\r\n');
  });

  it('invalid Host header gets 400', async () => {
    const port = await listen(TO_HTTPS, runtimeWith({}));
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n');
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    await once(socket, 'end');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
  });
});
