// Request handler of the internal entry point: `/ping` and, with `api.insecure`, the JSON API
// under `/api/`. Every response is built from the current runtime, never from a cached copy.
import { DASHBOARD_HTML } from './dashboard.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ForwardedHeadersOptions } from '../entrypoints/forwarded-trust.js';
import type { PingEntryPoint } from '../entrypoints/ping.js';
import type { Runtime } from '../routing/runtime.js';
import { VERSION } from '../version.js';
import type { ResolverStatus } from '../tls/acme/manager.js';
import type { CertificateInfo } from '../tls/types.js';
import { certificatesJson } from './certificates.js';
import { explainFromQuery } from './explain.js';
import { NEXT_PAGE_HEADER, paginate } from './pagination.js';
import { middlewareJson, overviewJson, redactSecrets, routerJson, serviceJson, tlsOptionsJson } from './views.js';

export interface ApiOptions {
  api: boolean;
  /** Serve the dashboard page at `/dashboard/` (with the API only). */
  dashboard?: boolean;
  ping: boolean;
  runtime: () => Runtime;
  /** Status of each provider by name, for the overview. */
  providers: () => Record<string, unknown>;
  startedAt: Date;
  /** Certificates the TLS entry points serve, without keys. */
  certificates?: () => CertificateInfo[];
  /** State of every ACME certificate resolver. */
  acme?: () => ResolverStatus[];
  /** Every entry point, the internal one included, with its configured address. */
  entryPoints?: Array<{ name: string; address: string }>;
  /** The forwardedHeaders settings of each entry point, which explain applies to the described client. */
  forwardedHeaders?: ReadonlyMap<string, ForwardedHeadersOptions>;
  /** The user entry point that serves /ping before its routers, which explain reports. */
  pingEntryPoint?: PingEntryPoint;
}

type Handler = (url: URL) => unknown;
type ListHandler = (url: URL) => readonly unknown[];

export function createApiHandler(options: ApiOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const routes = new Map<string, Handler>([
    ['/api/version', () => ({ Version: VERSION, Codename: 'berth', startDate: options.startedAt.toISOString() })],
    ['/api/overview', () => overviewJson(options.runtime(), options.providers())],
    ['/api/rawdata', () => rawData(options.runtime(), options.providers())],
    ['/api/certificates', () => certificatesJson(options.certificates?.() ?? [], options.acme?.() ?? [])],
    ['/api/certificateresolvers', () => options.acme?.() ?? []],
  ]);
  // Lists take `page` and `per_page`, and respond with the X-Next-Page header, as Traefik's do.
  const lists = new Map<string, ListHandler>([
    ['/api/entrypoints', () => entryPointList(options)],
    // Berth has no TCP or UDP routing yet; empty lists keep Traefik clients working.
    ['/api/tcp/routers', () => []],
    ['/api/tcp/services', () => []],
    ['/api/tcp/middlewares', () => []],
    ['/api/udp/routers', () => []],
    ['/api/udp/services', () => []],
    ['/api/http/routers', (url) => listRouters(options.runtime(), url)],
    ['/api/http/services', (url) => listServices(options.runtime(), url)],
    ['/api/http/middlewares', (url) => listMiddlewares(options.runtime(), url)],
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
    if (options.api && options.dashboard) {
      if (url.pathname === '/' || url.pathname === '/dashboard') {
        response.writeHead(302, { location: '/dashboard/' });
        response.end();
        return;
      }
      if (url.pathname === '/dashboard/') {
        // The page builds its DOM from API data with textContent only, so a label cannot inject markup.
        response.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
          'cache-control': 'no-store',
        });
        response.end(DASHBOARD_HTML);
        return;
      }
    }
    if (!options.api || !url.pathname.startsWith('/api/')) {
      sendJson(response, 404, { message: 'not found' });
      return;
    }

    // Explain responds 400 to an invalid description, so it does not fit the 200-only route table.
    if (url.pathname.replace(/\/$/, '') === '/api/explain') {
      const explainOptions = {
        ...(options.forwardedHeaders === undefined ? {} : { forwardedHeaders: options.forwardedHeaders }),
        ...(options.pingEntryPoint === undefined ? {} : { ping: options.pingEntryPoint }),
      };
      const result = explainFromQuery(options.runtime(), url, request.socket.remoteAddress ?? '', explainOptions);
      sendJson(response, result.status, result.body);
      return;
    }

    const path = url.pathname.replace(/\/$/, '');
    const list = lists.get(path);
    if (list) {
      const page = paginate(list(url), url.searchParams);
      if (page.ok) sendJson(response, 200, page.items, { [NEXT_PAGE_HEADER]: String(page.nextPage) });
      else sendJson(response, 400, { message: page.message });
      return;
    }
    const handler = routes.get(path);
    if (handler) {
      sendJson(response, 200, handler(url));
      return;
    }
    const item = findItem(options.runtime(), url.pathname, options);
    if (item === undefined) sendJson(response, 404, { message: `${url.pathname} not found` });
    else sendJson(response, 200, item);
  };
}

function entryPointList(options: ApiOptions): Array<{ name: string; address: string }> {
  const known = options.entryPoints ?? [...options.runtime().tables.keys()].map((name) => ({ name, address: '' }));
  return [...known].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Decodes an item name from the path, or returns undefined when its escapes are not UTF-8 (such as
 * `%C0`), which no name can match. decodeURIComponent throws a URIError for those.
 */
function decodeName(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Serves `/api/http/{routers,services,middlewares}/{name}` and `/api/entrypoints/{name}`. */
function findItem(runtime: Runtime, path: string, options?: ApiOptions): unknown {
  const entryPoint = /^\/api\/entrypoints\/(.+)$/.exec(path);
  if (entryPoint && options) {
    const name = decodeName(entryPoint[1] ?? '');
    return entryPointList(options).find((item) => item.name === name);
  }
  const match = /^\/api\/http\/(routers|services|middlewares)\/(.+)$/.exec(path);
  if (!match) return undefined;
  const name = decodeName(match[2] ?? '');
  if (name === undefined) return undefined;
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
    tlsOptions: byName([...runtime.config.tlsOptions.values()].map((options) => tlsOptionsJson(options))),
    skippedContainers: runtime.config.skipped,
    providers: redactSecrets(providers),
    generation: runtime.generation,
    builtAt: runtime.builtAt.toISOString(),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
