// Request handler of the internal entry point: `/ping` and, with `api.insecure`, the JSON API
// under `/api/`. Every answer is read from the current runtime, never from a cached copy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../routing/runtime.js';
import { VERSION } from '../version.js';
import { middlewareJson, overviewJson, redactSecrets, routerJson, serviceJson } from './views.js';

export interface ApiOptions {
  api: boolean;
  ping: boolean;
  runtime: () => Runtime;
  /** Status of each provider by name, for the overview. */
  providers: () => Record<string, unknown>;
  startedAt: Date;
}

type Handler = (url: URL) => unknown;

export function createApiHandler(options: ApiOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const routes = new Map<string, Handler>([
    ['/api/version', () => ({ Version: VERSION, Codename: 'berth', startDate: options.startedAt.toISOString() })],
    ['/api/overview', () => overviewJson(options.runtime(), options.providers())],
    ['/api/entrypoints', () => [...options.runtime().tables.keys()].map((name) => ({ name }))],
    ['/api/http/routers', (url) => listRouters(options.runtime(), url)],
    ['/api/http/services', (url) => listServices(options.runtime(), url)],
    ['/api/http/middlewares', (url) => listMiddlewares(options.runtime(), url)],
    ['/api/rawdata', () => rawData(options.runtime(), options.providers())],
  ]);

  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://internal');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 405, { message: `method ${request.method} is not allowed; the API is read-only` });
      return;
    }

    if (url.pathname === '/ping' && options.ping) {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('OK');
      return;
    }
    if (!options.api || !url.pathname.startsWith('/api/')) {
      sendJson(response, 404, { message: 'not found' });
      return;
    }

    const handler = routes.get(url.pathname.replace(/\/$/, ''));
    if (handler) {
      sendJson(response, 200, handler(url));
      return;
    }
    const item = findItem(options.runtime(), url.pathname);
    if (item === undefined) sendJson(response, 404, { message: `${url.pathname} not found` });
    else sendJson(response, 200, item);
  };
}

/** Serves `/api/http/{routers,services,middlewares}/{name}`. */
function findItem(runtime: Runtime, path: string): unknown {
  const match = /^\/api\/http\/(routers|services|middlewares)\/(.+)$/.exec(path);
  if (!match) return undefined;
  const name = decodeURIComponent(match[2] ?? '');
  switch (match[1]) {
    case 'routers': {
      const router = runtime.config.routers.get(name);
      return router ? routerJson(runtime, router) : undefined;
    }
    case 'services': {
      const service = runtime.config.services.get(name);
      return service ? serviceJson(runtime, service) : undefined;
    }
    default: {
      const middleware = runtime.config.middlewares.get(name);
      return middleware ? middlewareJson(runtime, middleware) : undefined;
    }
  }
}

/** Applies Traefik's list filters: `search` (substring of the name) and `status`. */
function filterList<T extends { name: string; status: string }>(items: T[], url: URL): T[] {
  const search = url.searchParams.get('search')?.toLowerCase() ?? '';
  const status = url.searchParams.get('status') ?? '';
  return items
    .filter((item) => item.name.toLowerCase().includes(search))
    .filter((item) => status === '' || item.status === status)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function listRouters(runtime: Runtime, url: URL) {
  return filterList([...runtime.config.routers.values()].map((router) => routerJson(runtime, router)), url);
}

function listServices(runtime: Runtime, url: URL) {
  return filterList([...runtime.config.services.values()].map((service) => serviceJson(runtime, service)), url);
}

function listMiddlewares(runtime: Runtime, url: URL) {
  return filterList([...runtime.config.middlewares.values()].map((middleware) => middlewareJson(runtime, middleware)), url);
}

function rawData(runtime: Runtime, providers: Record<string, unknown>) {
  const byName = <T extends { name: string }>(items: T[]) => Object.fromEntries(items.map((item) => [item.name, item]));
  return {
    routers: byName([...runtime.config.routers.values()].map((router) => routerJson(runtime, router))),
    services: byName([...runtime.config.services.values()].map((service) => serviceJson(runtime, service))),
    middlewares: byName([...runtime.config.middlewares.values()].map((middleware) => middlewareJson(runtime, middleware))),
    skippedContainers: runtime.config.skipped,
    providers: redactSecrets(providers),
    generation: runtime.generation,
    builtAt: runtime.builtAt.toISOString(),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
