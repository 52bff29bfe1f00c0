// The static configuration as the rest of Berth reads it: every default applied, every name
// normalized, every cross-reference checked. Loading is in `load.ts`, the option catalogue in
// `schema.ts`.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFormat = 'json' | 'pretty';

/** Name of the entry point that serves the insecure API and `/ping`. */
export const INTERNAL_ENTRY_POINT = 'berth';

/** Traefik's name for the internal entry point, accepted wherever an entry point is named. */
export const INTERNAL_ENTRY_POINT_ALIAS = 'traefik';

/** A listener of HTTP traffic. */
export interface EntryPointConfig {
  /** Address as configured, without a `/tcp` suffix: `:80`, `127.0.0.1:8080`, `[::1]:80`. */
  address: string;
  /** Host name or IP address to bind (IPv6 without brackets), or `''` for all interfaces. */
  host: string;
  /** TCP port, from 1 to 65535. */
  port: number;
}

/** Settings of the provider that turns container labels into routers and services. */
export interface DockerProviderConfig {
  /** Docker API address: `unix:///PATH`, `tcp://HOST:PORT`, `http://HOST[:PORT]` or `https://HOST[:PORT]`. */
  endpoint: string;
  /** Whether a container without `<labelPrefix>.enable=true` is routed. */
  exposedByDefault: boolean;
  /** Rule template for routers whose labels set no rule, in Traefik's Go template syntax. */
  defaultRule: string;
  /** Docker network whose container IP addresses are used, when a container is on several. */
  network?: string;
  /** First segment of the labels that are read, in lower case (`traefik` reads `traefik.http...`). */
  labelPrefix: string;
  /** Whether a service with no server is kept, responding 503, instead of being removed. */
  allowEmptyServices: boolean;
}

/** Settings of the JSON API and the dashboard. */
export interface ApiConfig {
  /** Whether the API and dashboard are served on the internal entry point without a router. */
  insecure: boolean;
  dashboard: boolean;
}

/** Settings of the `/ping` health endpoint. */
export interface PingConfig {
  /** Entry point that serves `/ping`, in lower case. */
  entryPoint: string;
}

export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
}

export interface StaticConfig {
  /** Entry points by name. Names are in lower case, because flags, labels and environment variables all match them case-insensitively. */
  entryPoints: Record<string, EntryPointConfig>;
  providers: { docker?: DockerProviderConfig };
  /** Present when the API is enabled (`--api`, or any `api.*` option). */
  api?: ApiConfig;
  /** Present when `/ping` is enabled (`--ping`, or any `ping.*` option). */
  ping?: PingConfig;
  log: LogConfig;
  /** Name of the internal entry point, always `berth`. */
  internalEntryPoint: string;
  /** Absolute path of the YAML file that was read, if one was. */
  configFile?: string;
}
