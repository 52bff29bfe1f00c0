// The security options of Traefik's `headers` middleware. Traefik v3 hands them to the Go package
// github.com/unrolled/secure (pkg/middlewares/headers/secure.go), and Berth follows what that
// package does, which differs from Traefik's documentation in places:
// - A request whose host is not in allowedHosts gets 500 with the body `Bad Host`. The host is
//   compared with its port, as the client sent it, and case-insensitively.
// - sslTemporaryRedirect redirects with 307, not with the 302 that Traefik's documentation states.
// - isDevelopment turns off the allowedHosts check, sslRedirect, Strict-Transport-Security and
//   Public-Key-Pins, but not sslForceHost.
// - Public-Key-Pins is sent only on https requests, like Strict-Transport-Security without forceSTSHeader.
import { booleanOption, integerOption, option, stringList, stringMap } from './options.js';
import { firstHeaderValue, requestAuthority } from './request-headers.js';
import { editResponseHeaders, withoutHeader, type HeaderList } from './response-headers.js';
import type { RequestContext } from './types.js';

export interface SecuritySettings {
  /** Lower-case hosts, with a port where the clients send one. Empty allows every host. */
  allowedHosts: readonly string[];
  /** Fields whose first non-empty value replaces Host in the allowedHosts check and in redirects. */
  hostsProxyHeaders: readonly string[];
  /** Field names and exact values, any one of which marks a plain-HTTP request as https. */
  sslProxyHeaders: ReadonlyMap<string, string>;
  stsSeconds: number;
  stsIncludeSubdomains: boolean;
  stsPreload: boolean;
  forceSTSHeader: boolean;
  isDevelopment: boolean;
  /** Fields sent on every response that passes the checks, whatever its scheme. */
  fixedHeaders: HeaderList;
  publicKey: string;
  sslRedirect: boolean;
  sslTemporaryRedirect: boolean;
  sslHost: string;
  sslForceHost: boolean;
}

/**
 * Options that Traefik v3 still applies but has deprecated, with the replacement that its
 * deprecation message names. Berth applies them too and reports each as a warning.
 */
const DEPRECATED_OPTIONS = [
  ['sslRedirect', 'Use the redirectScheme middleware (scheme=https, permanent=true) or the entry point option http.redirections.entryPoint instead.'],
  ['sslTemporaryRedirect', 'Use the redirectScheme middleware (scheme=https, permanent=false) or the entry point options http.redirections.entryPoint and http.redirections.entryPoint.permanent=false instead.'],
  ['sslHost', 'Use the redirectRegex middleware instead.'],
  ['sslForceHost', 'Use the redirectRegex middleware instead.'],
  ['featurePolicy', 'Use permissionsPolicy instead, because browsers replaced the Feature-Policy header with Permissions-Policy.'],
] as const;

/**
 * Reads the security options. Returns undefined when none is set. Throws an Error naming the
 * option for a bad value, and passes a warning to `warn` for each deprecated option that is set.
 */
export function securitySettings(options: Record<string, unknown>, warn: (message: string) => void): SecuritySettings | undefined {
  const fixedHeaders: HeaderList = [];
  const frameOptions = textOption(options, 'customFrameOptionsValue') || (booleanOption(options, 'headers', 'frameDeny') ? 'DENY' : '');
  if (frameOptions !== '') fixedHeaders.push('X-Frame-Options', frameOptions);
  if (booleanOption(options, 'headers', 'contentTypeNosniff')) fixedHeaders.push('X-Content-Type-Options', 'nosniff');
  const xssProtection = textOption(options, 'customBrowserXSSValue') || (booleanOption(options, 'headers', 'browserXssFilter') ? '1; mode=block' : '');
  if (xssProtection !== '') fixedHeaders.push('X-XSS-Protection', xssProtection);
  for (const [name, header] of TEXT_HEADERS) {
    const value = textOption(options, name);
    if (value !== '') fixedHeaders.push(header, value);
  }

  const settings: SecuritySettings = {
    allowedHosts: stringList(options, 'allowedHosts').map((host) => host.toLowerCase()),
    hostsProxyHeaders: stringList(options, 'hostsProxyHeaders'),
    sslProxyHeaders: stringMap(options, 'sslProxyHeaders'),
    stsSeconds: integerOption(options, 'headers', 'stsSeconds', { fallback: 0, min: 0, example: 31536000 }),
    stsIncludeSubdomains: booleanOption(options, 'headers', 'stsIncludeSubdomains'),
    stsPreload: booleanOption(options, 'headers', 'stsPreload'),
    forceSTSHeader: booleanOption(options, 'headers', 'forceSTSHeader'),
    isDevelopment: booleanOption(options, 'headers', 'isDevelopment'),
    fixedHeaders,
    publicKey: textOption(options, 'publicKey'),
    sslRedirect: booleanOption(options, 'headers', 'sslRedirect'),
    sslTemporaryRedirect: booleanOption(options, 'headers', 'sslTemporaryRedirect'),
    sslHost: textOption(options, 'sslHost'),
    sslForceHost: booleanOption(options, 'headers', 'sslForceHost'),
  };

  for (const [name, replacement] of DEPRECATED_OPTIONS) {
    const value = option(options, name);
    if (value !== undefined && value !== null && value !== '' && value !== false && value !== 'false') {
      warn(`headers ${name} is deprecated. Traefik v3 still applies it, and so does Berth. ${replacement}`);
    }
  }

  const configured =
    settings.allowedHosts.length > 0 ||
    settings.hostsProxyHeaders.length > 0 ||
    settings.sslProxyHeaders.size > 0 ||
    settings.stsSeconds !== 0 ||
    settings.stsIncludeSubdomains ||
    settings.stsPreload ||
    settings.forceSTSHeader ||
    settings.isDevelopment ||
    settings.fixedHeaders.length > 0 ||
    settings.publicKey !== '' ||
    settings.sslRedirect ||
    settings.sslTemporaryRedirect ||
    settings.sslHost !== '' ||
    settings.sslForceHost;
  return configured ? settings : undefined;
}

/** Options that set a response field to their text, in the order unrolled/secure writes them. */
const TEXT_HEADERS = [
  ['contentSecurityPolicy', 'Content-Security-Policy'],
  ['contentSecurityPolicyReportOnly', 'Content-Security-Policy-Report-Only'],
  ['referrerPolicy', 'Referrer-Policy'],
  ['featurePolicy', 'Feature-Policy'],
  ['permissionsPolicy', 'Permissions-Policy'],
] as const;

function textOption(options: Record<string, unknown>, name: string): string {
  const value = option(options, name);
  return value === undefined || value === null ? '' : String(value);
}

/**
 * What the host and scheme checks decide for a request: it goes on (`next`), or gets 500 for a
 * host not in allowedHosts, or a redirect to `location`.
 */
export type SecurityDecision =
  | { action: 'next'; https: boolean }
  | { action: 'bad-host' }
  | { action: 'redirect'; status: 301 | 307; location: string };

/** Decides the host and scheme checks for the request of `context`, without changing anything. */
export function decideSecurity(context: RequestContext, settings: SecuritySettings): SecurityDecision {
  const host = proxiedHost(context, settings);

  if (settings.allowedHosts.length > 0 && !settings.isDevelopment && !settings.allowedHosts.includes(host.toLowerCase())) {
    return { action: 'bad-host' };
  }

  const https = isHttps(context, settings);
  if (settings.sslRedirect && !https && !settings.isDevelopment) {
    return redirectTo(context, settings, settings.sslHost || host);
  }
  const forcedHost = settings.sslHost || host;
  if (settings.sslForceHost && forcedHost !== host) {
    return redirectTo(context, settings, forcedHost);
  }
  return { action: 'next', https };
}

/**
 * Checks the request's host and scheme, and responds itself when a check fails: 500 for a host not in
 * allowedHosts, a redirect for sslRedirect or sslForceHost. Otherwise arranges for the security
 * fields to be added to the response. Returns true when the request may go on.
 */
export function applySecurity(context: RequestContext, settings: SecuritySettings): boolean {
  const decision = decideSecurity(context, settings);
  if (decision.action === 'bad-host') {
    const body = 'Bad Host\n';
    context.response.writeHead(500, ['Content-Type', 'text/plain; charset=utf-8', 'X-Content-Type-Options', 'nosniff', 'Content-Length', String(Buffer.byteLength(body))]);
    context.response.end(body);
    return false;
  }
  if (decision.action === 'redirect') {
    context.response.writeHead(decision.status, ['Location', decision.location, 'Content-Length', '0']);
    context.response.end();
    return false;
  }

  const { https } = decision;
  const added = [...settings.fixedHeaders];
  if (settings.stsSeconds !== 0 && (https || settings.forceSTSHeader) && !settings.isDevelopment) {
    added.unshift('Strict-Transport-Security', strictTransportSecurity(settings));
  }
  if (settings.publicKey !== '' && https && !settings.isDevelopment) added.push('Public-Key-Pins', settings.publicKey);

  editResponseHeaders(context.response, (headers) => {
    let result = headers;
    for (let i = 0; i + 1 < added.length; i += 2) {
      result = withoutHeader(result, added[i] as string);
      result.push(added[i] as string, added[i + 1] as string);
    }
    return https && settings.sslHost !== '' ? upgradeLocation(result, settings.sslHost) : result;
  });
  return true;
}

/** Returns the host of the request: the first non-empty hostsProxyHeaders field, else Host. */
function proxiedHost(context: RequestContext, settings: SecuritySettings): string {
  for (const name of settings.hostsProxyHeaders) {
    const value = firstHeaderValue(context.request, name);
    if (value !== undefined && value !== '') return value;
  }
  return requestAuthority(context.request);
}

/**
 * Tells whether the request counts as https: it came over TLS, or carries one of the
 * sslProxyHeaders fields with exactly the configured value.
 *
 * The entry point has already removed the X-Forwarded-* fields of a peer outside
 * `forwardedHeaders.trustedIPs`, so through them only a trusted proxy can mark a request as https.
 * A field of another name is taken from any client, as in Traefik.
 */
function isHttps(context: RequestContext, settings: SecuritySettings): boolean {
  if (context.scheme === 'https') return true;
  for (const [name, expected] of settings.sslProxyHeaders) {
    if (firstHeaderValue(context.request, name) === expected) return true;
  }
  return false;
}

function strictTransportSecurity(settings: SecuritySettings): string {
  let value = `max-age=${settings.stsSeconds}`;
  if (settings.stsIncludeSubdomains) value += '; includeSubDomains';
  if (settings.stsPreload) value += '; preload';
  return value;
}

/** Returns the redirect to the same path and query on https://`host`, with 301, or 307 for sslTemporaryRedirect. */
function redirectTo(context: RequestContext, settings: SecuritySettings, host: string): SecurityDecision {
  const target = context.request.url ?? '/';
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    // An absolute-form target (`GET http://host/path`) keeps only its path and query.
    try {
      const url = new URL(target);
      pathAndQuery = url.pathname + url.search;
    } catch {
      pathAndQuery = '/';
    }
  }

  // unrolled/secure sends the same status for every method, unlike redirectScheme.
  return { action: 'redirect', status: settings.sslTemporaryRedirect ? 307 : 301, location: `https://${host}${pathAndQuery}` };
}

/** Rewrites a Location of `http://<sslHost>` or `http://<sslHost>/...` to https, as unrolled/secure does on https requests. */
function upgradeLocation(headers: HeaderList, sslHost: string): HeaderList {
  const result = [...headers];
  for (let i = 0; i + 1 < result.length; i += 2) {
    if ((result[i] as string).toLowerCase() !== 'location') continue;
    const location = result[i + 1] as string;
    if (location === `http://${sslHost}` || location.startsWith(`http://${sslHost}/`)) result[i + 1] = `https:${location.slice('http:'.length)}`;
  }
  return result;
}
