// The errors middleware without a network: the settings, the page path, and the response it makes
// when a fake server and a fake page service write to a real ServerResponse.
import type { ServerResponse } from 'node:http';

import { describe, expect, it } from 'vitest';

import { decodeLabels } from '../../src/labels/decode.js';
import { middlewareSchema } from '../../src/labels/middleware-schemas.js';
import { createErrors, errorsSettings, goQueryEscape, pagePath, rewrittenStatus } from '../../src/middlewares/errors.js';
import type { MiddlewareBuildContext, RequestContext, ServiceCaller } from '../../src/middlewares/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { contextFor } from './header-context.js';
import { captureResponse } from './response-capture.js';

const SERVICES: MiddlewareBuildContext = {
  logger: silentLogger(),
  resolveService(name) {
    const qualified = name.includes('@') ? name : `${name}@docker`;
    if (qualified !== 'pages@docker') throw new Error(`service "${qualified}" does not exist; define it or fix the name`);
    return qualified;
  },
};

/** Returns a page service that responds 200 with `page <path>` and records the requests it gets. */
function pageService(seen: Array<{ service: string; url: string | undefined; method: string | undefined; headers: Record<string, unknown> }>): ServiceCaller {
  return async (service, context) => {
    seen.push({ service, url: context.request.url, method: context.request.method, headers: { ...context.request.headers } });
    const body = `page ${context.request.url ?? ''}`;
    context.response.writeHead(200, 'OK', ['Content-Type', 'text/html', 'Content-Length', String(body.length)]);
    context.response.end(body);
    return true;
  };
}

async function run(options: Record<string, unknown>, serverStatus: number, caller: ServiceCaller | undefined, url = '/app?x=1') {
  const context = contextFor({ method: 'POST', url, headers: [['Host', 'app.example.test'], ['Content-Length', '3'], ['X-Trace', 't1']] });
  if (caller !== undefined) context.callService = caller;
  const read = captureResponse(context.response);
  const middleware = createErrors(options, SERVICES);
  await middleware(context, async () => {
    context.response.writeHead(serverStatus, ['Content-Type', 'text/plain', 'X-Server', 'app']);
    context.response.write('server body');
    context.response.end();
  });
  return read();
}

describe('errors settings', () => {
  it('reads status list and ranges', () => {
    const settings = errorsSettings({ status: '500,502-504', service: 'pages' }, SERVICES);
    expect(settings.ranges).toEqual([
      [500, 500],
      [502, 504],
    ]);
    expect(settings.service).toBe('pages@docker');
    expect(settings.query).toBe('');
  });

  it('rejects missing status', () => {
    expect(() => errorsSettings({ service: 'pages' }, SERVICES)).toThrow('errors status is missing');
  });

  it('rejects bad status range', () => {
    expect(() => errorsSettings({ status: ['599-500'], service: 'pages' }, SERVICES)).toThrow('errors status "599-500" is invalid');
    expect(() => errorsSettings({ status: ['5xx'], service: 'pages' }, SERVICES)).toThrow('errors status "5xx" is invalid');
  });

  it('rejects missing service', () => {
    expect(() => errorsSettings({ status: '500' }, SERVICES)).toThrow('errors service is missing');
  });

  it('names unknown service', () => {
    expect(() => errorsSettings({ status: '500', service: 'nope' }, SERVICES)).toThrow('service "nope@docker" does not exist');
  });

  it('rejects bad rewrite target', () => {
    expect(() => errorsSettings({ status: '500', service: 'pages', statusRewrites: { '500': '700' } }, SERVICES)).toThrow('errors statusRewrites.500 "700" is invalid');
  });

  it('rejects query with spaces', () => {
    expect(() => errorsSettings({ status: '500', service: 'pages', query: '/a b.html' }, SERVICES)).toThrow('errors query "/a b.html" is invalid');
  });

  it('narrowest rewrite wins', () => {
    const settings = errorsSettings({ status: '400-599', service: 'pages', statusRewrites: { '500-599': '500', '503': '429' } }, SERVICES);
    expect(rewrittenStatus(503, settings)).toBe(429);
    expect(rewrittenStatus(502, settings)).toBe(500);
    expect(rewrittenStatus(404, settings)).toBe(404);
  });
});

describe('errors page path', () => {
  it('fills placeholders', () => {
    expect(pagePath('/{status}.html', 503, 503, '/a')).toBe('/503.html');
    expect(pagePath('{status}-{originalStatus}.html', 500, 418, '/a')).toBe('/500-418.html');
    expect(pagePath('', 500, 500, '/a')).toBe('/');
    expect(pagePath('/e?from={url}', 404, 404, '/a b?q=1&r=(x)')).toBe('/e?from=%2Fa+b%3Fq%3D1%26r%3D%28x%29');
  });

  it('escapes like Go QueryEscape', () => {
    expect(goQueryEscape("!*'()~-_. /")).toBe('%21%2A%27%28%29~-_.+%2F');
  });
});

describe('errors middleware', () => {
  it('replaces caught body with page', async () => {
    const seen: Parameters<typeof pageService>[0] = [];
    const response = await run({ status: '500-599', service: 'pages', query: '/{status}.html' }, 503, pageService(seen));
    expect(response.status).toBe(503);
    expect(response.body).toBe('page /503.html');
    expect(response.headers['content-type']).toBe('text/html');
    expect(response.headers['x-server']).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it('page request is GET without body fields', async () => {
    const seen: Parameters<typeof pageService>[0] = [];
    await run({ status: '503', service: 'pages' }, 503, pageService(seen));
    expect(seen[0]?.service).toBe('pages@docker');
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.url).toBe('/');
    expect(seen[0]?.headers.host).toBe('app.example.test');
    expect(seen[0]?.headers['x-trace']).toBe('t1');
    expect(seen[0]?.headers['content-length']).toBeUndefined();
  });

  it('passes other statuses through', async () => {
    const seen: Parameters<typeof pageService>[0] = [];
    const response = await run({ status: '500-599', service: 'pages' }, 404, pageService(seen));
    expect(response.status).toBe(404);
    expect(response.body).toContain('server body');
    expect(response.headers['x-server']).toBe('app');
    expect(seen).toHaveLength(0);
  });

  it('passes a 101 in its ranges', async () => {
    const context = contextFor({ method: 'GET', url: '/chat', headers: [['Host', 'app.example.test'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket']] });
    const seen: Parameters<typeof pageService>[0] = [];
    context.callService = pageService(seen);
    // Records the status lines that reach the response, in place of writing them.
    const written: number[] = [];
    context.response.writeHead = function recordStatus(this: ServerResponse, statusCode: number) {
      written.push(statusCode);
      return this;
    } as typeof context.response.writeHead;

    await createErrors({ status: '100-599', service: 'pages' }, SERVICES)(context, async () => {
      context.response.writeHead(101, ['Upgrade', 'websocket', 'Connection', 'Upgrade']);
    });

    // A 101 starts a tunnel, so no page may replace it.
    expect(written).toEqual([101]);
    expect(seen).toHaveLength(0);
  });

  it('applies status rewrite', async () => {
    const seen: Parameters<typeof pageService>[0] = [];
    const response = await run({ status: '418', service: 'pages', statusRewrites: { '418': 404 }, query: '/{status}/{originalStatus}' }, 418, pageService(seen));
    expect(response.status).toBe(404);
    expect(response.body).toBe('page /404/418');
  });

  it('unavailable page service sends plain status', async () => {
    const response = await run({ status: '500-599', service: 'pages' }, 502, async () => false);
    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toBe('502 Bad Gateway\n');
  });

  it('rewritten status in plain fallback', async () => {
    const response = await run({ status: '500-599', service: 'pages', statusRewrites: { '500-599': 503 } }, 500, async () => false);
    expect(response.status).toBe(503);
    expect(response.body).toBe('503 Service Unavailable\n');
  });

  it('page server error keeps caught status', async () => {
    const failing: ServiceCaller = async (_service, context) => {
      context.response.writeHead(502, { 'content-type': 'text/plain', 'content-length': 4 });
      context.response.end('oops');
      return true;
    };
    const response = await run({ status: '500-599', service: 'pages' }, 504, failing);
    expect(response.status).toBe(504);
    expect(response.body).toBe('oops');
  });

  it('without service caller sends plain status', async () => {
    const response = await run({ status: '500', service: 'pages' }, 500, undefined);
    expect(response.status).toBe(500);
    expect(response.body).toBe('500 Internal Server Error\n');
  });

  it('implicit status through end is caught', async () => {
    const seen: Parameters<typeof pageService>[0] = [];
    const context = contextFor({ url: '/x' });
    context.callService = pageService(seen);
    const read = captureResponse(context.response);
    await createErrors({ status: '500', service: 'pages' }, SERVICES)(context, async () => {
      context.response.statusCode = 500;
      context.response.end('server');
    });
    const response = read();
    expect(response.status).toBe(500);
    expect(response.body).toBe('page /');
  });

  it('failing next lets the 500 through', async () => {
    const context = contextFor();
    context.callService = pageService([]);
    const read = captureResponse(context.response);
    const middleware = createErrors({ status: '500', service: 'pages' }, SERVICES);
    await expect(
      middleware(context, async () => {
        throw new Error('later middleware failed');
      }),
    ).rejects.toThrow('later middleware failed');
    context.response.writeHead(500, { 'content-length': 4 });
    context.response.end('fail');
    expect(read().body).toBe('fail');
  });
});

describe('errors labels', () => {
  it('decodes status, rewrites, service and query', () => {
    const result = decodeLabels(
      middlewareSchema,
      {
        'errors.status': '500,501,503,505-599',
        'errors.statusrewrites.418': '404',
        'errors.statusRewrites.502-504': '500',
        'errors.service': 'pages',
        'errors.query': '/{status}.html',
      },
      'traefik.http.middlewares.m.',
    );
    expect(result.issues).toEqual([]);
    const options = (result.value as { errors: Record<string, unknown> }).errors;
    const settings = errorsSettings(options, SERVICES);
    expect(settings.ranges).toHaveLength(4);
    expect(rewrittenStatus(418, settings)).toBe(404);
    expect(rewrittenStatus(503, settings)).toBe(500);
    expect(settings.query).toBe('/{status}.html');
  });
});
