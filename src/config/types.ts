// The static configuration as the rest of Berth reads it: every default applied, every name
// normalized, every cross-reference checked. Loading is in `load.ts`, the option catalogue in
// `schema.ts`.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFormat = 'json' | 'pretty';

/** Name of the entry point that serves the insecure API and `/ping`. */
export const INTERNAL_ENTRY_POINT = 'berth';

/** Traefik's name for the internal entry point, accepted wherever an entry point is named. */
export const INTERNAL_ENTRY_POINT_ALIAS = 'traefik';

/** The listen address of an entry point. */
export interface EntryPointAddress {
  /** Address as configured, without a `/tcp` suffix: `:80`, `127.0.0.1:8080`, `[::1]:80`. */
  address: string;
  /** Host name or IP address to bind (IPv6 without brackets), or `''` for all interfaces. */
  host: string;
  /** TCP port, from 1 to 65535. */
  port: number;
}

/** A listener of HTTP traffic, with Traefik's entry point options. Durations are in milliseconds, and 0 disables a timeout. */
export interface EntryPointConfig extends EntryPointAddress {
  forwardedHeaders: {
    /** IP addresses and CIDR ranges of proxies whose X-Forwarded-* fields are kept. */
    trustedIPs: string[];
    /** Keep the X-Forwarded-* fields of every peer. */
    insecure: boolean;
  };
  transport: {
    respondingTimeouts: { readTimeoutMs: number; writeTimeoutMs: number; idleTimeoutMs: number };
    lifeCycle: { graceTimeOutMs: number };
    /** Requests a client connection carries before it is closed, where 0 sets no limit. */
    keepAliveMaxRequests: number;
    /** Age of a client connection after which its next request is its last, where 0 sets no limit. */
    keepAliveMaxTimeMs: number;
  };
  http: {
    /** Present when `http.tls` is on: every router of the entry point is then a TLS router. */
    tls?: EntryPointTlsConfig;
    /** Present when `http.redirections.entryPoint` is set: requests are redirected instead of routed. */
    redirections?: { entryPoint: EntryPointRedirectionConfig };
    /** Largest request head in bytes; a larger one gets 431. */
    maxHeaderBytes: number;
  };
  http2: {
    /** Streams one HTTP/2 client connection may have open at once. */
    maxConcurrentStreams: number;
    /** Accept HTTP/2 without TLS from clients that send the connection preface first (prior knowledge). */
    h2c: boolean;
  };
}

/** The `http.tls` section of an entry point: the TLS settings of its routers that set no `tls` of their own. */
export interface EntryPointTlsConfig {
  certResolver?: string;
  /** TLS options name, such as `modern@file`. */
  options?: string;
  /** Certificates to obtain instead of one per router host. */
  domains?: Array<{ main: string; sans: string[] }>;
}

/** Traefik's `http.redirections.entryPoint`: every request is redirected to another entry point's port. */
export interface EntryPointRedirectionConfig {
  /** The target entry point as configured (lower case), or `:PORT`. */
  to: string;
  /** The port of the redirect URL, which is left out when it is the scheme's default. */
  port: number;
  scheme: 'http' | 'https';
  /** 308 when true, else 307. */
  permanent: boolean;
  /** Routers with a higher priority serve requests instead of the redirection. */
  priority: number;
}

/** Traefik's static `serversTransport`: how Berth talks to servers. Durations are in milliseconds. */
export interface ServersTransportConfig {
  forwardingTimeouts: {
    /** Time allowed to open a connection to a server; 0 waits without limit. */
    dialTimeoutMs: number;
    /** Time allowed from the end of the request to the server's response header; 0 waits without limit. */
    responseHeaderTimeoutMs: number;
    /** Upper bound of the time an idle connection to a server is kept; Berth caps it at 0.9 s. */
    idleConnTimeoutMs: number;
  };
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

/** Settings of the provider that reads Traefik's dynamic configuration from YAML files. Exactly one of `filename` and `directory` is set. */
export interface FileProviderConfig {
  /** Absolute path of the one file to read. */
  filename?: string;
  /** Absolute path of the directory whose `.yml` and `.yaml` files, also in subdirectories, are read. */
  directory?: string;
  /** Whether the files are read again when they change. */
  watch: boolean;
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

/** Key algorithm of ACME certificates, in Traefik's names. */
export type AcmeKeyType = 'EC256' | 'EC384' | 'RSA2048' | 'RSA4096';

/** Let's Encrypt's production directory, the default ACME server as in Traefik. */
/** Default limit of a request head in bytes: Node.js's own, where Traefik's is 1 MiB. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** The DNS-01 challenge settings of a certificate resolver. */
export interface DnsChallengeConfig {
  /** DNS provider name, in lower case; `cloudflare` is the one Berth supports. */
  provider: string;
  /** `HOST:PORT` servers asked whether TXT records are visible; empty means the zone's authoritative servers. */
  resolvers: string[];
  /** Wait before the first propagation check, in milliseconds. */
  delayBeforeChecksMs: number;
  /** Skip the propagation check and ask the CA to validate after the delay alone. */
  disableChecks: boolean;
}

/** A certificate resolver that obtains certificates from an ACME CA (RFC 8555). */
export interface AcmeResolverConfig {
  /** Resolver name, in lower case, as routers name it in `tls.certresolver`. */
  name: string;
  /** Contact address registered with the account. */
  email?: string;
  /** Absolute path of the JSON file that stores the account and certificates. */
  storage: string;
  /** ACME directory URL. */
  caServer: string;
  keyType: AcmeKeyType;
  /** Lifetime of the certificates the CA issues, in hours, which sets how often they are renewed. */
  certificatesDurationHours: number;
  /** Common name of the root or intermediate to prefer among the chains the CA offers. */
  preferredChain?: string;
  /** External account binding (RFC 8555 section 7.3.4), when the CA requires one. */
  eab?: { kid: string; hmacEncoded: string };
  dnsChallenge?: DnsChallengeConfig;
  /** HTTP-01: the entry point, in lower case, that serves `/.well-known/acme-challenge/`. */
  httpChallenge?: { entryPoint: string };
  /** Whether TLS-ALPN-01 is enabled. */
  tlsChallenge: boolean;
}

export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
}

export interface StaticConfig {
  /** Entry points by name. Names are in lower case, because flags, labels and environment variables all match them case-insensitively. */
  entryPoints: Record<string, EntryPointConfig>;
  serversTransport: ServersTransportConfig;
  providers: { docker?: DockerProviderConfig; file?: FileProviderConfig };
  /** Present when the API is enabled (`--api`, or any `api.*` option). */
  api?: ApiConfig;
  /** Present when `/ping` is enabled (`--ping`, or any `ping.*` option). */
  ping?: PingConfig;
  log: LogConfig;
  /** ACME certificate resolvers by name (lower case); empty when none is configured. */
  certificatesResolvers: Record<string, AcmeResolverConfig>;
  /** Name of the internal entry point, always `berth`. */
  internalEntryPoint: string;
  /** Absolute path of the YAML file that was read, if one was. */
  configFile?: string;
}
