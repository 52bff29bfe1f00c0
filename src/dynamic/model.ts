// The dynamic configuration model: routers, services and middlewares as providers produce them.
// Field names follow Traefik's dynamic configuration so the API's JSON matches Traefik's shapes.

/** Errors and warnings attached to one item; an item with errors is disabled. */
export interface Diagnostics {
  errors: string[];
  warnings: string[];
}

/** Origin of an item, for messages and the API (for example the container name). */
export interface ItemSource {
  provider: string;
  /** Human-readable origin, such as `container web-1` or a file path. */
  origin: string;
  /** Bare name of the container (its short id when it has none) for items from Docker, for the `containerName` log field. */
  container?: string;
}

export interface RouterConfig extends Diagnostics {
  rule: string;
  /** Empty means every entry point that is not internal. */
  entryPoints: string[];
  service: string;
  /** Explicit priority from a label; `undefined` means the rule's length. */
  priority?: number;
  middlewares: string[];
  ruleSyntax?: 'v2' | 'v3';
  /** Present for a TLS router, which serves only requests that came over TLS. */
  tls?: RouterTlsConfig;
  sources: ItemSource[];
}

/** A router's `tls` section, as Traefik's `tls`, `tls.certresolver`, `tls.domains` and `tls.options` set it. */
export interface RouterTlsConfig {
  /** Certificate resolver that obtains certificates for the router's hosts or `domains`. */
  certResolver?: string;
  /** Names to obtain certificates for instead of the hosts of the rule. */
  domains?: Array<{ main: string; sans: string[] }>;
  /** Name of the TLS options to use, such as `modern@file`. Unset means `default`. */
  options?: string;
}

/**
 * Traefik's `tls.options.<name>`: TLS versions, cipher suites and SNI checks of the handshakes
 * for the hosts of the routers that name them. Values are kept as written and checked when the
 * runtime is built.
 */
export interface TlsOptionsConfig extends Diagnostics {
  minVersion?: string;
  maxVersion?: string;
  cipherSuites?: string[];
  curvePreferences?: string[];
  sniStrict?: boolean;
  alpnProtocols?: string[];
  preferServerCipherSuites?: boolean;
  disableSessionTickets?: boolean;
  clientAuth?: { caFiles?: string[]; clientAuthType?: string };
  sources: ItemSource[];
}

export interface ServerConfig {
  url: string;
  weight: number;
  /** Container that produced this server, for draining and the API. */
  containerId?: string;
}

export interface LoadBalancerConfig {
  servers: ServerConfig[];
  passHostHeader: boolean;
  /**
   * Server selection: smooth weighted round robin (`wrr`, the default) or power of two choices
   * (`p2c`). Traefik's `hrw` and `leasttime` are accepted and served by `wrr`, with a warning.
   */
  strategy?: 'wrr' | 'p2c' | 'hrw' | 'leasttime';
  healthCheck?: HealthCheckConfig;
  passiveHealthCheck?: PassiveHealthCheckConfig;
  sticky?: { cookie: StickyCookieConfig };
}

/**
 * Traefik's `loadbalancer.healthcheck`: a request sent to every server on a timer. Durations are
 * kept as written (`30s`, `1m30s`) and parsed when the runtime is built.
 */
export interface HealthCheckConfig {
  /** Path (with an optional query) requested on the server; no check runs without it. */
  path?: string;
  /** Replaces the server URL's scheme for the check. */
  scheme?: 'http' | 'https' | 'h2c';
  mode?: 'http' | 'grpc';
  /** Replaces the server URL's port for the check. */
  port?: number;
  method?: string;
  /** Expected status; any status from 200 to 399 passes when unset. */
  status?: number;
  /** Sent as the Host header of the check. */
  hostname?: string;
  headers?: Record<string, string>;
  interval?: string;
  /** Interval while the server is down; `interval` when unset. */
  unhealthyInterval?: string;
  timeout?: string;
  followRedirects?: boolean;
}

/** Traefik's `loadbalancer.passivehealthcheck`: failed requests take a server out for a while. */
export interface PassiveHealthCheckConfig {
  /** Window in which `maxFailedAttempts` failures take the server out, and how long it stays out. */
  failureWindow?: string;
  maxFailedAttempts?: number;
}

/** Traefik's `loadbalancer.sticky.cookie`: the cookie that pins a client to one server. */
export interface StickyCookieConfig {
  name?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'none' | 'lax' | 'strict';
  /** Seconds; 0 or unset makes a session cookie. */
  maxAge?: number;
  path?: string;
  domain?: string;
}

export interface ServiceConfig extends Diagnostics {
  loadBalancer: LoadBalancerConfig;
  sources: ItemSource[];
}

export interface MiddlewareConfig extends Diagnostics {
  /** Middleware type as written in labels, for example `stripprefix`. */
  type: string;
  options: Record<string, unknown>;
  sources: ItemSource[];
}

/** A container the provider saw and did not route, with the reason shown in the API. */
export interface SkippedContainer {
  id: string;
  name: string;
  reason: string;
  /**
   * Log level of the skip: `warning` for an invalid label, `info` for labels Berth does not
   * support yet. Unset for skips that are normal, such as `enable=false` or a stopped container,
   * which are not logged.
   */
  severity?: 'warning' | 'info';
  /** The label that caused the skip, as written on the container. */
  label?: string;
  /** The value of `label`. */
  value?: string;
  /**
   * The routers the container's labels define, which Berth would have built had the container not
   * been skipped, so explain can name the container when a request would have matched one. Names
   * are without `@provider`.
   */
  routers?: SkippedRouter[];
}

/** A router of a skipped container: its name within the provider, its rule and rule syntax. */
export interface SkippedRouter {
  name: string;
  rule: string;
  ruleSyntax?: 'v2' | 'v3';
}

/** Everything one provider produced from one snapshot of its source. Names are local (no `@provider`). */
export interface ProviderConfig {
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
  /** TLS options by name, which only the file provider declares, as in Traefik. */
  tlsOptions?: Record<string, TlsOptionsConfig>;
  skipped: SkippedContainer[];
}

export function emptyProviderConfig(): ProviderConfig {
  return { routers: {}, services: {}, middlewares: {}, skipped: [] };
}

export function emptyDiagnostics(): Diagnostics {
  return { errors: [], warnings: [] };
}

/** Returns the status Traefik's API reports for an item. */
export function itemStatus(item: Diagnostics): 'enabled' | 'warning' | 'disabled' {
  if (item.errors.length > 0) return 'disabled';
  if (item.warnings.length > 0) return 'warning';
  return 'enabled';
}
