// The catalogue of static options, in Traefik's names and nesting. Flags, environment variables,
// the YAML file and help text are all derived from this one schema by `option-tree.ts`:
//
// - A `z.strictObject` is a section, and its keys are option names in Traefik's camelCase.
// - A `z.record` is a section of named items, such as `entryPoints.<name>`.
// - Anything else is an option whose value type comes from `values.ts`.
//
// To add an option, add it here with `documented(...)`, then read it in `build.ts`. A section
// that `--section` alone turns on (like `--ping`) is documented with `toggle: true`.

import * as z from 'zod';

import { DEFAULT_MAX_HEADER_BYTES, INTERNAL_ENTRY_POINT, INTERNAL_ENTRY_POINT_ALIAS, LETS_ENCRYPT_DIRECTORY } from './types.js';
import {
  addressValue,
  booleanValue,
  countValue,
  dnsServersValue,
  durationValue,
  endpointValue,
  entryPointNameValue,
  ipRangesValue,
  keyTypeValue,
  labelPrefixValue,
  logFormatValue,
  logLevelValue,
  optionalTextValue,
  positiveIntegerValue,
  textListValue,
  textValue,
  urlValue,
} from './values.js';

/** Help text and loading rules of one option or section. */
export interface OptionDoc {
  /** One sentence of help text on the effect of the option. */
  description: string;
  /** Default shown in help, for defaults that the schema cannot state (computed or absent). */
  defaultText?: string;
  /** Marks a section that a bare flag (`--ping`) turns on and that any option inside it implies. */
  toggle?: boolean;
  /** Placeholder of the item name in a section of named items, such as `name`. */
  itemName?: string;
  /** Item names read as other names, such as Traefik's `traefik` entry point as `berth`. */
  aliases?: Readonly<Record<string, string>>;
  /** Marks an option that only a flag or an environment variable may set. */
  notInFile?: boolean;
}

/** Option documentation by schema instance, read by the option tree. */
export const optionDocs = z.registry<OptionDoc>();

function documented<S extends z.ZodType>(schema: S, doc: OptionDoc): S {
  optionDocs.add(schema, doc);
  return schema;
}

export const DEFAULT_DOCKER_ENDPOINT = 'unix:///var/run/docker.sock';

export const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';

const forwardedHeadersSchema = z.strictObject({
  trustedIPs: documented(ipRangesValue().default([]), {
    description: 'Peers (IP addresses and CIDR ranges, comma-separated) whose X-Forwarded-* and X-Real-Ip fields are kept; other peers have them replaced.',
    defaultText: 'none',
  }),
  insecure: documented(booleanValue().default(false), {
    description: 'Keep the X-Forwarded-* fields of every peer, so any client can set them.',
  }),
});

const respondingTimeoutsSchema = z.strictObject({
  readTimeout: documented(durationValue().default(60_000), {
    description: 'Time allowed to read a request head, and the longest pause while reading its body, as a duration (60s) or seconds; 0 disables it.',
    defaultText: '60s',
  }),
  writeTimeout: documented(durationValue().default(0), {
    description: 'Time allowed from the start of a request to the end of its response, as a duration or seconds; 0 disables it.',
    defaultText: '0s',
  }),
  idleTimeout: documented(durationValue().default(180_000), {
    description: 'Time an idle keep-alive connection stays open, as a duration or seconds; 0 disables it.',
    defaultText: '180s',
  }),
});

const transportSchema = z.strictObject({
  respondingTimeouts: respondingTimeoutsSchema.prefault({}),
  keepAliveMaxRequests: documented(countValue().default(0), {
    description: 'Requests a client connection may carry before Berth closes it after the response (HTTP/2: sends GOAWAY); 0 sets no limit.',
  }),
  keepAliveMaxTime: documented(durationValue().default(0), {
    description: 'Age of a client connection after which its next request is its last (HTTP/2: Berth sends GOAWAY), as a duration or seconds; 0 sets no limit.',
    defaultText: '0s',
  }),
  lifeCycle: z
    .strictObject({
      graceTimeOut: documented(durationValue().default(10_000), {
        description: 'Time that requests in flight get to finish at shutdown, once the entry point stops accepting connections.',
        defaultText: '10s',
      }),
    })
    .prefault({}),
});

const entryPointTlsDomainSchema = z.strictObject({
  main: documented(textValue(), {
    description: 'Main name of a certificate that the resolver obtains for the routers of this entry point.',
    defaultText: 'none, required',
  }),
  sans: documented(textListValue().optional(), {
    description: 'Other names of that certificate, comma-separated, such as *.example.com.',
    defaultText: 'none',
  }),
});

const entryPointTlsSchema = z.strictObject({
  certResolver: documented(textValue().optional(), {
    description: 'Certificate resolver of the routers of this entry point that set no tls of their own.',
    defaultText: 'none',
  }),
  options: documented(textValue().optional(), {
    description: 'TLS options (from the file provider, such as modern@file) of the routers of this entry point that set no tls of their own.',
    defaultText: 'default',
  }),
  domains: documented(z.record(z.string(), entryPointTlsDomainSchema).optional(), {
    description: 'Certificates to obtain instead of one per router host, by index: domains[0].main, domains[0].sans.',
    itemName: 'n',
  }),
});

/** Just below the highest router priority, so the redirection wins over every router that does not set the maximum. */
export const DEFAULT_REDIRECT_PRIORITY = Number.MAX_SAFE_INTEGER - 1;

const entryPointRedirectionSchema = z.strictObject({
  to: documented(textValue(), {
    description: 'Entry point whose port requests are redirected to, or a port such as :443.',
    defaultText: 'none, required',
  }),
  scheme: documented(textValue().default('https'), {
    description: 'Scheme of the redirect URL: https or http.',
  }),
  permanent: documented(booleanValue().default(true), {
    description: 'Redirect with 308 Permanent Redirect instead of 307 Temporary Redirect; both keep the method and body.',
  }),
  priority: documented(positiveIntegerValue().default(DEFAULT_REDIRECT_PRIORITY), {
    description: 'Routers of this entry point with a higher priority serve their requests instead of redirecting them.',
    defaultText: 'the maximum router priority minus 1, so every router is redirected',
  }),
});

/** Largest `maxHeaderBytes`: 16 MiB, far above any real header block, so that one request cannot hold gigabytes. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

const entryPointHttpSchema = z.strictObject({
  tls: documented(entryPointTlsSchema, {
    description: 'Serve every router of this entry point over TLS only, as if each had tls=true.',
    defaultText: 'off',
    toggle: true,
  }).optional(),
  redirections: z.strictObject({ entryPoint: entryPointRedirectionSchema.optional() }).optional(),
  maxHeaderBytes: documented(positiveIntegerValue(MAX_HEADER_BYTES).default(DEFAULT_MAX_HEADER_BYTES), {
    description: `Largest request head (request line and header fields; the header list on HTTP/2) in bytes, up to ${MAX_HEADER_BYTES}; a larger one gets 431.`,
    defaultText: '16384 (Traefik: 1048576)',
  }),
});

/** Largest value of an HTTP/2 setting, which is a 32-bit unsigned integer (RFC 9113 section 6.5.1). */
const MAX_HTTP2_SETTING = 2 ** 32 - 1;

const http2Schema = z.strictObject({
  maxConcurrentStreams: documented(positiveIntegerValue(MAX_HTTP2_SETTING).default(250), {
    description: `Streams that one HTTP/2 client connection may have open at once, from 1 to ${MAX_HTTP2_SETTING}.`,
  }),
  h2c: documented(booleanValue().default(false), {
    description: 'Berth only: accept HTTP/2 without TLS from clients that start with the HTTP/2 connection preface (prior knowledge).',
  }),
});

const entryPointOptionsShape = {
  forwardedHeaders: forwardedHeadersSchema.prefault({}),
  transport: transportSchema.prefault({}),
  http: entryPointHttpSchema.prefault({}),
  http2: http2Schema.prefault({}),
};

/** The options of an entry point other than its address; parsing `{}` gives their defaults. */
export const entryPointOptionsSchema = z.strictObject(entryPointOptionsShape);

const entryPointSchema = z.strictObject({
  address: documented(addressValue(), {
    description: 'Address to listen on: [HOST]:PORT, such as ":80", "127.0.0.1:8080" or "[::1]:80".',
    defaultText: 'none, required',
  }),
  ...entryPointOptionsShape,
});

const serversTransportSchema = z.strictObject({
  forwardingTimeouts: z
    .strictObject({
      dialTimeout: documented(durationValue().default(30_000), {
        description: 'Time allowed to open a connection to a server, as a duration or seconds; 0 waits without limit.',
        defaultText: '30s',
      }),
      responseHeaderTimeout: documented(durationValue().default(0), {
        description: 'Time allowed from the end of a request to the server\'s response header; a timeout returns 504, and 0 waits without limit.',
        defaultText: '0s',
      }),
      idleConnTimeout: documented(durationValue().default(90_000), {
        description: 'Time an idle connection to a server is kept. Berth keeps one at most 0.9 s whatever this says, so it closes before the server does.',
        defaultText: '90s (capped at 0.9s)',
      }),
    })
    .prefault({}),
});

const dockerProviderSchema = z.strictObject({
  endpoint: documented(endpointValue().default(DEFAULT_DOCKER_ENDPOINT), {
    description: 'Docker API to read containers and events from (unix://, tcp://, http:// or https://).',
    defaultText: `$DOCKER_HOST if set, else ${DEFAULT_DOCKER_ENDPOINT}`,
  }),
  exposedByDefault: documented(booleanValue().default(true), {
    description: 'Route containers that have no "<prefix>.enable=true" label.',
  }),
  defaultRule: documented(textValue().default(DEFAULT_RULE), {
    description: 'Rule of routers whose labels set none, as a Go template over the container.',
  }),
  network: documented(optionalTextValue().optional(), {
    description: 'Docker network whose container addresses are used when a container is on several.',
    defaultText: 'none, the first network found',
  }),
  labelPrefix: documented(labelPrefixValue().default('traefik'), {
    description: 'First segment of the container labels that are read.',
  }),
  allowEmptyServices: documented(booleanValue().default(false), {
    description: 'Keep services that have no healthy server, which then respond 503, instead of removing their routers.',
  }),
});

const fileProviderSchema = z.strictObject({
  filename: documented(textValue().optional(), {
    description: 'YAML file of dynamic configuration, relative to the working directory. Set this or directory.',
    defaultText: 'none',
  }),
  directory: documented(textValue().optional(), {
    description: 'Directory whose .yml and .yaml files, subdirectories included, hold the dynamic configuration. Set this or filename.',
    defaultText: 'none',
  }),
  watch: documented(booleanValue().default(true), {
    description: 'Read the files again when they change; SIGHUP always reads them again.',
  }),
});

const apiSchema = z.strictObject({
  insecure: documented(booleanValue().default(false), {
    description: `Serve the API and dashboard on the "${INTERNAL_ENTRY_POINT}" entry point without a router.`,
  }),
  dashboard: documented(booleanValue().default(true), {
    description: 'Serve the dashboard page along with the API.',
  }),
});

const pingSchema = z.strictObject({
  entryPoint: documented(entryPointNameValue().default(INTERNAL_ENTRY_POINT), {
    description: 'Entry point that serves /ping.',
  }),
});

const logSchema = z.strictObject({
  level: documented(logLevelValue().default('info'), {
    description: 'Minimum level of log lines: debug, info, warn or error, in any case.',
  }),
  format: documented(logFormatValue().optional(), {
    description: 'Log line format: json or pretty.',
    defaultText: 'pretty when stdout is a terminal, else json',
  }),
});

// Traefik's command blocks commonly carry these two. Berth never checks for new versions and never
// sends usage data, so both are accepted and have no effect.
const globalSchema = z.strictObject({
  checkNewVersion: documented(booleanValue().optional(), {
    description: 'Accepted for Traefik compatibility and ignored: Berth never checks for new versions.',
    defaultText: 'ignored',
  }),
  sendAnonymousUsage: documented(booleanValue().optional(), {
    description: 'Accepted for Traefik compatibility and ignored: Berth never sends usage data.',
    defaultText: 'ignored',
  }),
});

const propagationSchema = z.strictObject({
  delayBeforeChecks: documented(durationValue().optional(), {
    description: 'Time to wait after creating the TXT records before the first propagation check, as a duration (30s) or seconds.',
    defaultText: '0s',
  }),
  disableChecks: documented(booleanValue().default(false), {
    description: 'Skip the check that the TXT records are visible, and ask the CA to validate after delayBeforeChecks alone.',
  }),
});

const dnsChallengeSchema = z.strictObject({
  provider: documented(textValue(), {
    description: 'DNS provider that creates the TXT records: cloudflare.',
    defaultText: 'none, required',
  }),
  resolvers: documented(dnsServersValue().optional(), {
    description: 'DNS servers (HOST:PORT, comma-separated) asked whether the TXT records are visible.',
    defaultText: "the zone's authoritative name servers",
  }),
  propagation: propagationSchema.optional(),
  delayBeforeCheck: documented(durationValue().optional(), {
    description: "Traefik's older name of propagation.delayBeforeChecks.",
    defaultText: 'none',
  }),
  disablePropagationCheck: documented(booleanValue().optional(), {
    description: "Traefik's older name of propagation.disableChecks.",
    defaultText: 'none',
  }),
});

const acmeSchema = z.strictObject({
  email: documented(textValue().optional(), {
    description: 'Contact address registered with the ACME account.',
    defaultText: 'none',
  }),
  storage: documented(textValue().default('acme.json'), {
    description: 'JSON file, relative to the working directory, that stores the account and certificates with mode 0600.',
  }),
  caServer: documented(urlValue().default(LETS_ENCRYPT_DIRECTORY), {
    description: 'ACME directory URL of the certificate authority.',
  }),
  keyType: documented(keyTypeValue().default('EC256'), {
    description: 'Key algorithm of the certificates: EC256, EC384, RSA2048 or RSA4096.',
  }),
  certificatesDuration: documented(positiveIntegerValue().default(2160), {
    description: 'Lifetime of the certificates the CA issues, in hours; a certificate is renewed when a third of it is left.',
  }),
  preferredChain: documented(textValue().optional(), {
    description: 'Common name of the issuer to prefer when the CA offers several chains.',
    defaultText: "the CA's default chain",
  }),
  eab: z
    .strictObject({
      kid: documented(textValue(), { description: 'Key identifier of the external account binding.', defaultText: 'none' }),
      hmacEncoded: documented(textValue(), {
        description: 'HMAC key of the external account binding, base64url-encoded.',
        defaultText: 'none',
      }),
    })
    .optional(),
  dnsChallenge: dnsChallengeSchema.optional(),
  httpChallenge: z
    .strictObject({
      entryPoint: documented(entryPointNameValue(), {
        description: 'Entry point, on port 80, that serves the HTTP-01 challenge responses.',
        defaultText: 'none, required',
      }),
    })
    .optional(),
  tlsChallenge: documented(z.strictObject({}), {
    description: 'Use the TLS-ALPN-01 challenge.',
    defaultText: 'off',
    toggle: true,
  }).optional(),
});

const certificatesResolverSchema = z.strictObject({
  acme: acmeSchema,
});

export const staticOptionsSchema = z.strictObject({
  configFile: documented(textValue().optional(), {
    description: 'YAML file to read, relative to the working directory. A .toml file is rejected.',
    defaultText: 'the first of berth.yaml, berth.yml, traefik.yaml and traefik.yml in the working directory',
    notInFile: true,
  }),
  global: globalSchema.optional(),
  entryPoints: documented(z.record(z.string(), entryPointSchema).optional(), {
    description: 'Listeners by name. Names are read in lower case.',
    itemName: 'name',
    aliases: { [INTERNAL_ENTRY_POINT_ALIAS]: INTERNAL_ENTRY_POINT },
  }),
  providers: z
    .strictObject({
      docker: documented(dockerProviderSchema, {
        description: 'Route containers from their labels.',
        defaultText: 'on when no provider is configured, else off',
        toggle: true,
      }).optional(),
      file: documented(fileProviderSchema, {
        description: "Read routers, services, middlewares and TLS settings from YAML files in Traefik's dynamic configuration format.",
        defaultText: 'off',
        toggle: true,
      }).optional(),
    })
    .prefault({}),
  api: documented(apiSchema, {
    description: 'Enable the JSON API and the dashboard.',
    defaultText: 'off',
    toggle: true,
  }).optional(),
  ping: documented(pingSchema, {
    description: 'Enable the /ping health endpoint.',
    defaultText: 'off',
    toggle: true,
  }).optional(),
  log: logSchema.prefault({}),
  serversTransport: serversTransportSchema.prefault({}),
  certificatesResolvers: documented(z.record(z.string(), certificatesResolverSchema).optional(), {
    description: 'ACME certificate resolvers by name, which routers name in tls.certresolver.',
    itemName: 'name',
  }),
});

/** Parsed options, before entry point defaults and cross-checks. */
export type StaticOptions = z.output<typeof staticOptionsSchema>;
