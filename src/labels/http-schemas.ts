// Schemas of the HTTP router and service labels (`<prefix>.http.routers.<name>.*` and
// `<prefix>.http.services.<name>.*`), with option names as in Traefik v3's dynamic configuration.
// Some options are known but not used yet, so labels written for Traefik decode without errors.

import { middlewareSchema } from './middleware-schemas.js';
import { field } from './schema.js';
import type { Infer } from './schema.js';

export const routerSchema = field.object({
  rule: field.string(),
  entryPoints: field.list(),
  service: field.string(),
  // Traefik treats 0 as "not set", so the rule length decides; negative values are rejected.
  priority: field.integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer'),
  middlewares: field.list(),
  ruleSyntax: field.oneOf('v2', 'v3'),
  tls: field.object(
    {
      certResolver: field.string(),
      options: field.string(),
      domains: field.array(field.object({ main: field.string(), sans: field.list() })),
    },
    { flag: true },
  ),
  observability: field.object({
    accessLogs: field.bool(),
    metrics: field.bool(),
    tracing: field.bool(),
    traceVerbosity: field.oneOf('minimal', 'detailed'),
  }),
});

const healthCheck = field.object({
  scheme: field.oneOf('http', 'https', 'h2c'),
  mode: field.oneOf('http', 'grpc'),
  path: field.string(),
  method: field.string(),
  status: field.integer(100, 599, 'an HTTP status code'),
  port: field.port(),
  interval: field.duration(),
  unhealthyInterval: field.duration(),
  timeout: field.duration(),
  hostname: field.string(),
  followRedirects: field.bool(),
  headers: field.map(field.string()),
});

const sticky = field.object({
  cookie: field.object(
    {
      name: field.string(),
      secure: field.bool(),
      httpOnly: field.bool(),
      sameSite: field.oneOf('none', 'lax', 'strict'),
      maxAge: field.integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'a number of seconds'),
      path: field.string(),
      domain: field.string(),
    },
    { flag: true },
  ),
});

export const serviceSchema = field.object({
  loadBalancer: field.object({
    server: field.object({
      port: field.port(),
      scheme: field.oneOf('http', 'https', 'h2c'),
      url: field.string(),
      weight: field.integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer'),
      preservePath: field.bool(),
    }),
    passHostHeader: field.bool(),
    healthCheck,
    // A flag, so `passivehealthcheck=true` turns the check on with its default window and count.
    passiveHealthCheck: field.object(
      {
        failureWindow: field.duration(),
        maxFailedAttempts: field.integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer'),
      },
      { flag: true },
    ),
    sticky,
    strategy: field.oneOf('wrr', 'p2c', 'hrw', 'leasttime'),
    // Traefik flushes after every write for a negative flushInterval, as Berth always does (see the
    // response relay), so `-1` is common in labels written for Traefik and must not disable the service.
    responseForwarding: field.object({ flushInterval: field.duration({ signed: true }) }),
    serversTransport: field.string(),
  }),
});

/** The `http` section: routers, services and middlewares keyed by the names the labels choose. */
export const httpSchema = field.object({
  routers: field.map(routerSchema, '<router>'),
  services: field.map(serviceSchema, '<service>'),
  middlewares: field.map(middlewareSchema, '<middleware>'),
});

export type RouterLabels = Infer<typeof routerSchema>;
export type ServiceLabels = Infer<typeof serviceSchema>;
export type MiddlewareLabels = Infer<typeof middlewareSchema>;
