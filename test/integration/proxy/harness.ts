// Berth's request path in the test process: an entry point, the dispatcher, a runtime built from a
// plain provider configuration, and the forwarder, with the servers the tests start. Everything
// listens on 127.0.0.1 with ephemeral ports.
import { once } from 'node:events';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders as Http2Headers } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';

import { pino } from 'pino';

import { HealthRegistry } from '../../../src/balancer/health-registry.js';
import type { ServerHealth } from '../../../src/balancer/server-health.js';
import type { MiddlewareConfig, ProviderConfig } from '../../../src/dynamic/model.js';
import { ConfigurationStore } from '../../../src/dynamic/store.js';
import { tlsOptionsFor } from '../../../src/entrypoints/from-config.js';
import { EntryPoint, type EntryPointOptions } from '../../../src/entrypoints/server.js';
import { createForwarder, type ForwarderOptions } from '../../../src/proxy/forwarder.js';
import { Dispatcher } from '../../../src/routing/dispatch.js';
import { MemoryCertificateStore } from '../../../src/tls/store.js';

export const LOOPBACK = '127.0.0.1';

export interface InProcessOptions {
  /** Server URLs of the one service, such as `http://127.0.0.1:8080`. */
  servers: string[];
  /** Further services by name, with their server URLs, for middlewares that call a service. */
  services?: Record<string, string[]>;
  /** Middlewares by name, all applied to the router in this order, unless `hostRouters` lists them. */
  middlewares?: Record<string, Pick<MiddlewareConfig, 'type' | 'options'>>;
  /** Routers `Host(host)` (plain and TLS) to the one service, by host, each with only the middlewares named here. */
  hostRouters?: Record<string, string[]>;
  /** Gives the one service Traefik's default passive health check. */
  passiveHealthCheck?: boolean;
  /** Provider configuration used in place of the one built from the options above, such as one decoded from labels. */
  providerConfig?: ProviderConfig;
  entryPoint?: Partial<Omit<EntryPointOptions, 'name' | 'address' | 'handler' | 'upgradeHandler' | 'logger' | 'tls'>>;
  forwarder?: ForwarderOptions;
}

export interface InProcessBerth {
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  entryPoint: EntryPoint;
  certificates: MemoryCertificateStore;
  /** JSON log lines written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Returns the health of the server `url` of the one service (`app@test`), which includes its requests in flight. */
  serverHealth(url: string): ServerHealth | undefined;
  close(graceMs?: number): Promise<void>;
}

let certificates: Promise<MemoryCertificateStore> | undefined;

/** Starts an entry point named `web` whose routers (`PathPrefix(/)`, plain and TLS) forward to `servers`. */
export async function startInProcessBerth(options: InProcessOptions): Promise<InProcessBerth> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const logger = pino({ level: 'debug', base: undefined }, sink);

  // Generating the default certificate takes a few ms; one store serves every test of a file.
  certificates ??= MemoryCertificateStore.create();
  const store = await certificates;
  const forwarder = createForwarder({ logger, keepForwardedHeaders: true, ...options.forwarder });

  let dispatcher: Dispatcher | undefined;
  // Shared server health, as in `berth run`, so passive health checks count failures.
  const health = new HealthRegistry({ logger });
  const configuration = new ConfigurationStore({ entryPoints: ['web'], logger, health, onRuntime: (runtime) => dispatcher?.swap(runtime) });
  dispatcher = new Dispatcher(configuration.initialRuntime(), forwarder, logger);
  configuration.update('test', options.providerConfig ?? providerConfig(options));
  const active = dispatcher;

  const entryPoint = new EntryPoint({
    name: 'web',
    address: `${LOOPBACK}:0`,
    logger,
    ...options.entryPoint,
    tls: { store, optionsFor: (serverName) => tlsOptionsFor(active.runtime, 'web', serverName) },
    handler: (request, response, scheme) => active.handle(request, response, { entryPoint: 'web', scheme, serverName: 'berth-test' }),
    upgradeHandler: (request, socket, head, scheme) => active.handleUpgrade(request, socket, head, { entryPoint: 'web', scheme, serverName: 'berth-test' }),
  });
  const address: AddressInfo = await entryPoint.listen();

  return {
    port: address.port,
    url: `http://${LOOPBACK}:${address.port}`,
    entryPoint,
    certificates: store,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    serverHealth: (url) => health.get('app@test', url),
    async close(graceMs = 0) {
      await entryPoint.close(graceMs);
      await forwarder.close();
      await health.close();
    },
  };
}

function providerConfig(options: InProcessOptions): ProviderConfig {
  const sources = [{ provider: 'test', origin: 'test' }];
  const middlewares: ProviderConfig['middlewares'] = {};
  for (const [name, middleware] of Object.entries(options.middlewares ?? {})) {
    middlewares[name] = { ...middleware, errors: [], warnings: [], sources };
  }
  const hostMiddlewares = new Set(Object.values(options.hostRouters ?? {}).flat());
  const catchAllMiddlewares = Object.keys(middlewares).filter((name) => !hostMiddlewares.has(name));
  const router = { rule: 'PathPrefix(`/`)', entryPoints: ['web'], service: 'app', middlewares: catchAllMiddlewares, errors: [], warnings: [], sources };
  const service = (servers: string[]) => ({ loadBalancer: { servers: servers.map((url) => ({ url, weight: 1 })), passHostHeader: true }, errors: [], warnings: [], sources });
  const services: ProviderConfig['services'] = { app: service(options.servers) };
  if (options.passiveHealthCheck === true && services.app !== undefined) services.app.loadBalancer.passiveHealthCheck = {};
  for (const [name, servers] of Object.entries(options.services ?? {})) services[name] = service(servers);
  const routers: ProviderConfig['routers'] = { app: router, 'app-tls': { ...router, tls: {} } };
  for (const [host, names] of Object.entries(options.hostRouters ?? {})) {
    routers[`host-${host}`] = { ...router, rule: `Host(\`${host}\`)`, middlewares: names };
    routers[`host-${host}-tls`] = { ...router, rule: `Host(\`${host}\`)`, middlewares: names, tls: {} };
  }
  return {
    routers,
    services,
    middlewares,
    skipped: [],
  };
}

export interface Http2Response {
  status: number;
  headers: Http2Headers;
  body: string;
  elapsedMs: number;
}

/** Opens an HTTP/2 session to Berth over TLS (ALPN h2) that accepts the self-signed default certificate. */
export async function connectHttp2(port: number, options: { h2c?: boolean } = {}): Promise<ClientHttp2Session> {
  const authority = options.h2c === true ? `http://${LOOPBACK}:${port}` : `https://${LOOPBACK}:${port}`;
  const session = http2.connect(authority, { rejectUnauthorized: false, servername: 'app.example.test' });
  session.on('error', () => undefined);
  await once(session, 'connect');
  return session;
}

/** Sends one request on an HTTP/2 session and reads the whole response. */
export async function requestHttp2(session: ClientHttp2Session, headers: Http2Headers, body?: string): Promise<Http2Response> {
  const started = performance.now();
  const stream = session.request({ ':authority': 'app.example.test', ...headers }, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  const [responseHeaders] = (await once(stream, 'response')) as [Http2Headers];
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return {
    status: Number(responseHeaders[':status']),
    headers: responseHeaders,
    body: Buffer.concat(chunks).toString('utf8'),
    elapsedMs: performance.now() - started,
  };
}
