// A headers middleware with a header name or value that Node.js cannot send disables the routers
// that use it, and the other routers keep serving through the real dispatcher and forwarder.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mergeProviders } from '../../src/dynamic/merged.js';
import { silentLogger } from '../../src/observability/logger.js';
import { toProviderConfig } from '../../src/providers/file/build.js';
import { parseDynamicText } from '../../src/providers/file/read.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import { Dispatcher } from '../../src/routing/dispatch.js';
import { buildRuntime, type Runtime } from '../../src/routing/runtime.js';
import { runtimeOf } from './helpers.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends a GET with `host` to `port` on loopback and reads the whole reply. */
async function get(port: number, host: string): Promise<Reply> {
  const request = http.get({ host: '127.0.0.1', port, path: '/', headers: { host } });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) body += chunk as string;
  return { status: response.statusCode ?? 0, headers: response.headers, body };
}

async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function runtimeWithHeaders(backendUrl: string): Runtime {
  return runtimeOf({
    routers: {
      good: { rule: 'Host(`good.test`)', service: 'app', middlewares: ['greet@docker'] },
      coffee: { rule: 'Host(`coffee.test`)', service: 'app', middlewares: ['coffee@docker'] },
      spaced: { rule: 'Host(`spaced.test`)', service: 'app', middlewares: ['spaced@docker'] },
    },
    services: { app: [backendUrl] },
    middlewares: {
      greet: { type: 'headers', options: { customResponseHeaders: { 'X-Greeting': 'café', Server: '' }, customRequestHeaders: { 'X-Env': 'prod' } } },
      coffee: { type: 'headers', options: { customResponseHeaders: { 'X-Greeting': 'coffee ☕' } } },
      spaced: { type: 'headers', options: { customRequestHeaders: { 'Bad Name': 'x' } } },
    },
  });
}

describe('headers middleware with invalid fields', () => {
  let backend: http.Server;
  let berth: http.Server;
  let forwarder: ReturnType<typeof createForwarder>;
  let runtime: Runtime;
  let port: number;

  beforeAll(async () => {
    backend = http.createServer((request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json', Server: 'backend/1.0' });
      response.end(JSON.stringify(request.headers));
    });
    const backendPort = await listen(backend);

    runtime = runtimeWithHeaders(`http://127.0.0.1:${backendPort}`);
    forwarder = createForwarder({ logger: silentLogger() });
    const dispatcher = new Dispatcher(runtime, forwarder, silentLogger());
    berth = http.createServer((request, response) => {
      void dispatcher.handle(request, response, { entryPoint: 'web', scheme: 'http', serverName: 'berth-test' });
    });
    port = await listen(berth);
  });

  afterAll(async () => {
    await close(berth);
    await forwarder.close();
    await close(backend);
  });

  it('disables the middleware with the value in the error', () => {
    expect(runtime.config.middlewares.get('coffee@docker')?.errors).toEqual([
      'container coffee: headers customResponseHeaders value "coffee ☕" of header "X-Greeting" is invalid (U+2615 at index 7): ' +
        'a header value may contain only tab, space, visible ASCII and Latin-1 characters (U+0080 to U+00FF), with no CR, LF, NUL or other control characters',
    ]);
    expect(runtime.config.middlewares.get('spaced@docker')?.errors.join('\n')).toContain('headers customRequestHeaders header name "Bad Name" is invalid');
    expect(runtime.config.middlewares.get('greet@docker')?.errors).toEqual([]);
  });

  it('disables only the routers that use it', () => {
    expect(runtime.config.routers.get('coffee@docker')?.errors.join('\n')).toContain('middleware "coffee@docker" is disabled: container coffee: headers customResponseHeaders value');
    expect(runtime.config.routers.get('spaced@docker')?.errors.join('\n')).toContain('middleware "spaced@docker" is disabled');
    expect(runtime.config.routers.get('good@docker')?.errors).toEqual([]);
    expect(runtime.tables.get('web')?.routes.map((route) => route.name)).toEqual(['good@docker']);
  });

  it('other router still serves its headers', async () => {
    const reply = await get(port, 'good.test');

    expect(reply.status).toBe(200);
    expect(reply.headers['x-greeting']).toBe('café');
    expect(reply.headers['server']).toBeUndefined();
    expect((JSON.parse(reply.body) as Record<string, string>)['x-env']).toBe('prod');
  });

  it('disabled routers answer 404', async () => {
    expect((await get(port, 'coffee.test')).status).toBe(404);
    expect((await get(port, 'spaced.test')).status).toBe(404);
  });
});

describe('headers middleware from the file provider', () => {
  it('reports a CR in a YAML value', () => {
    const yaml = [
      'http:',
      '  routers:',
      '    app: { rule: "Host(`app.test`)", service: app, middlewares: [split] }',
      '    other: { rule: "Host(`other.test`)", service: app, middlewares: [remove] }',
      '  services:',
      '    app: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }',
      '  middlewares:',
      '    split: { headers: { customResponseHeaders: { X-Split: "a\\rb" } } }',
      '    remove:',
      '      headers:',
      '        customResponseHeaders:',
      '          Server:',
    ].join('\n');
    const parsed = parseDynamicText(yaml, '/etc/berth/dynamic.yml');
    if (parsed.items === undefined) throw new Error(parsed.error);

    const runtime = buildRuntime(mergeProviders(new Map([['file', toProviderConfig(parsed.items)]])), { entryPoints: ['web'], generation: 1 });

    expect(runtime.config.middlewares.get('split@file')?.errors.join('\n')).toContain(
      'headers customResponseHeaders value "a\\rb" of header "X-Split" is invalid (U+000D at index 1)',
    );
    expect(runtime.config.middlewares.get('remove@file')?.errors).toEqual([]);
    expect(runtime.tables.get('web')?.routes.map((route) => route.name)).toEqual(['other@file']);
  });
});
