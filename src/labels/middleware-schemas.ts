// Option schemas of the HTTP middleware types, keyed by the lower-case type name used in labels
// (`traefik.http.middlewares.<name>.<type>.<option>`). Option names follow Traefik v3's dynamic
// configuration reference; adding a type here makes its labels decode and its typos get suggestions.

import { field } from './schema.js';
import type { Infer, ObjectField } from './schema.js';

const ipStrategy = field.object({
  depth: field.integer(0, Number.MAX_SAFE_INTEGER, 'a depth'),
  excludedIPs: field.list(),
  ipv6Subnet: field.integer(0, 128, 'a prefix length'),
});

const headers = field.object({
  customRequestHeaders: field.map(field.string()),
  customResponseHeaders: field.map(field.string()),
  accessControlAllowCredentials: field.bool(),
  accessControlAllowHeaders: field.list(),
  accessControlAllowMethods: field.list(),
  accessControlAllowOriginList: field.list(),
  accessControlAllowOriginListRegex: field.list(),
  accessControlExposeHeaders: field.list(),
  accessControlMaxAge: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of seconds'),
  addVaryHeader: field.bool(),
  allowedHosts: field.list(),
  hostsProxyHeaders: field.list(),
  sslProxyHeaders: field.map(field.string()),
  stsSeconds: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of seconds'),
  stsIncludeSubdomains: field.bool(),
  stsPreload: field.bool(),
  forceSTSHeader: field.bool(),
  frameDeny: field.bool(),
  customFrameOptionsValue: field.string(),
  contentTypeNosniff: field.bool(),
  browserXssFilter: field.bool(),
  customBrowserXSSValue: field.string(),
  contentSecurityPolicy: field.string(),
  contentSecurityPolicyReportOnly: field.string(),
  publicKey: field.string(),
  referrerPolicy: field.string(),
  permissionsPolicy: field.string(),
  isDevelopment: field.bool(),
  // Deprecated, but Traefik v3 still applies them, and the headers middleware warns about each.
  sslRedirect: field.bool(),
  sslTemporaryRedirect: field.bool(),
  sslHost: field.string(),
  sslForceHost: field.bool(),
  featurePolicy: field.string(),
});

export const MiddlewareSchemas = {
  addprefix: field.object({ prefix: field.string() }),
  stripprefix: field.object({ prefixes: field.list(), forceSlash: field.bool() }),
  stripprefixregex: field.object({ regex: field.list() }),
  replacepath: field.object({ path: field.string() }),
  replacepathregex: field.object({ regex: field.string(), replacement: field.string() }),
  headers,
  redirectscheme: field.object({
    scheme: field.string(),
    permanent: field.bool(),
    port: field.port(),
  }),
  redirectregex: field.object({
    regex: field.string(),
    replacement: field.string(),
    permanent: field.bool(),
  }),
  basicauth: field.object({
    users: field.list(),
    usersFile: field.string(),
    realm: field.string(),
    removeHeader: field.bool(),
    headerField: field.string(),
  }),
  chain: field.object({ middlewares: field.list() }),
  retry: field.object({
    attempts: field.integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer'),
    initialInterval: field.duration(),
  }),
  // `compress=true` is Traefik's documented way to turn compression on with its defaults.
  compress: field.object(
    {
      excludedContentTypes: field.list(),
      includedContentTypes: field.list(),
      minResponseBodyBytes: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of bytes'),
      encodings: field.list(),
      defaultEncoding: field.string(),
    },
    { flag: true },
  ),
  ipallowlist: field.object({
    sourceRange: field.list(),
    ipStrategy,
    rejectStatusCode: field.integer(100, 599, 'an HTTP status code'),
  }),
  // Traefik v2's name, which Traefik v3 still accepts with a deprecation warning. It has no rejectStatusCode.
  ipwhitelist: field.object({
    sourceRange: field.list(),
    ipStrategy,
  }),
  inflightreq: field.object({
    amount: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of requests'),
    sourceCriterion: field.object({
      ipStrategy,
      requestHeaderName: field.string(),
      requestHost: field.bool(),
    }),
  }),
  ratelimit: field.object({
    average: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of requests'),
    period: field.duration(),
    burst: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of requests'),
    sourceCriterion: field.object({
      ipStrategy,
      requestHeaderName: field.string(),
      requestHost: field.bool(),
    }),
  }),
  circuitbreaker: field.object({
    expression: field.string(),
    checkPeriod: field.duration(),
    fallbackDuration: field.duration(),
    recoveryDuration: field.duration(),
    responseCode: field.integer(0, 599, 'an HTTP status code'),
  }),
  buffering: field.object({
    maxRequestBodyBytes: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of bytes'),
    memRequestBodyBytes: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of bytes'),
    maxResponseBodyBytes: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of bytes'),
    memResponseBodyBytes: field.integer(0, Number.MAX_SAFE_INTEGER, 'a number of bytes'),
    retryExpression: field.string(),
  }),
  errors: field.object({
    status: field.list(),
    statusRewrites: field.map(field.integer(100, 599, 'an HTTP status code'), '<status>'),
    service: field.string(),
    query: field.string(),
  }),
  forwardauth: field.object({
    address: field.string(),
    trustForwardHeader: field.bool(),
    authResponseHeaders: field.list(),
    authResponseHeadersRegex: field.string(),
    authRequestHeaders: field.list(),
    addAuthCookiesToResponse: field.list(),
    headerField: field.string(),
    forwardBody: field.bool(),
    maxBodySize: field.integer(-1, Number.MAX_SAFE_INTEGER, 'a number of bytes'),
    preserveLocationHeader: field.bool(),
    tls: field.object({
      ca: field.string(),
      cert: field.string(),
      key: field.string(),
      insecureSkipVerify: field.bool(),
    }),
  }),
} satisfies Record<string, ObjectField>;

/** Lower-case middleware type name as used in labels, for example `stripprefix`. */
export type MiddlewareType = keyof typeof MiddlewareSchemas;

/** Decoded options of one middleware type. */
export type MiddlewareOptions<T extends MiddlewareType> = Infer<(typeof MiddlewareSchemas)[T]>;

const NOT_SUPPORTED = 'is a Traefik middleware that Berth does not support yet';
const STAYS_DISABLED = 'routers that use it stay disabled until you remove it from their middlewares';

/**
 * Traefik v3 middleware types that Berth does not implement, by lower-case label name. Their
 * labels get this message instead of a "did you mean" that points to an unrelated type.
 */
export const UNSUPPORTED_MIDDLEWARE_TYPES: Readonly<Record<string, string>> = {
  contenttype: `contentType ${NOT_SUPPORTED}; ${STAYS_DISABLED}`,
  digestauth: `digestAuth ${NOT_SUPPORTED}; ${STAYS_DISABLED} (basicAuth over HTTPS is the nearest replacement)`,
  grpcweb: `grpcWeb ${NOT_SUPPORTED}; ${STAYS_DISABLED}`,
  passtlsclientcert: `passTLSClientCert ${NOT_SUPPORTED}; ${STAYS_DISABLED}`,
  plugin: `plugin ${NOT_SUPPORTED}, because Berth cannot load Traefik plugins; ${STAYS_DISABLED}`,
};

/** Schema of one middleware item: exactly one of the types above, with its options. */
export const middlewareSchema = field.object(MiddlewareSchemas, { unsupported: UNSUPPORTED_MIDDLEWARE_TYPES });
