// The CORS options of Traefik's `headers` middleware (Fetch standard, "CORS protocol"). Berth
// responds to a preflight request itself and adds the CORS fields to every other response, as
// Traefik v3 does in pkg/middlewares/headers/header.go:
// - A preflight is an OPTIONS request with Origin and Access-Control-Request-Method. It gets 200
//   with no body and never reaches the server, whether or not its origin is allowed.
// - Access-Control-Allow-Origin is set only when the origin is allowed. It is the matching list
//   item (so `*` stays `*`), or the request's origin for a match of a regular expression.
// - Access-Control-Allow-Credentials and Access-Control-Expose-Headers are set on every
//   non-preflight response, whatever the origin. Without a matching Allow-Origin a browser ignores them.
import type { IncomingMessage } from 'node:http';

import { compileGoRegexp, type GoRegexp } from '../rules/go-regexp.js';
import { booleanOption, integerOption, stringList } from './options.js';
import { firstHeaderValue } from './request-headers.js';
import { withoutHeader, type HeaderList } from './response-headers.js';
import type { RequestContext } from './types.js';

export interface CorsSettings {
  allowCredentials: boolean;
  allowHeaders: readonly string[];
  allowMethods: readonly string[];
  /** Exact origins such as `https://app.example.com`, or `*` for any origin. */
  allowOriginList: readonly string[];
  /** Patterns in Go syntax. An origin is allowed when a pattern matches any part of it. */
  allowOriginRegexes: readonly GoRegexp[];
  exposeHeaders: readonly string[];
  /** Sent as Access-Control-Max-Age in every preflight response, 0 included. */
  maxAgeSeconds: number;
  addVaryHeader: boolean;
}

/**
 * Reads the CORS options. Returns undefined when none is set, and then Berth neither responds
 * to preflight requests nor adds CORS fields. Throws an Error naming the option for a bad value or pattern.
 */
export function corsSettings(options: Record<string, unknown>): CorsSettings | undefined {
  const settings: CorsSettings = {
    allowCredentials: booleanOption(options, 'headers', 'accessControlAllowCredentials'),
    allowHeaders: stringList(options, 'accessControlAllowHeaders'),
    allowMethods: stringList(options, 'accessControlAllowMethods'),
    allowOriginList: stringList(options, 'accessControlAllowOriginList'),
    allowOriginRegexes: originRegexes(options),
    exposeHeaders: stringList(options, 'accessControlExposeHeaders'),
    maxAgeSeconds: integerOption(options, 'headers', 'accessControlMaxAge', { fallback: 0, min: 0, example: 600 }),
    addVaryHeader: booleanOption(options, 'headers', 'addVaryHeader'),
  };

  const configured =
    settings.allowCredentials ||
    settings.allowHeaders.length > 0 ||
    settings.allowMethods.length > 0 ||
    settings.allowOriginList.length > 0 ||
    settings.allowOriginRegexes.length > 0 ||
    settings.exposeHeaders.length > 0 ||
    settings.maxAgeSeconds !== 0 ||
    settings.addVaryHeader;
  return configured ? settings : undefined;
}

/**
 * Compiles accessControlAllowOriginListRegex with the linear-time Go regexp engine, so a hostile
 * pattern or Origin cannot stall the event loop.
 */
function originRegexes(options: Record<string, unknown>): GoRegexp[] {
  return stringList(options, 'accessControlAllowOriginListRegex').map((pattern) => {
    const compiled = compileGoRegexp(pattern);
    if (!compiled.ok) {
      throw new Error(`headers accessControlAllowOriginListRegex pattern ${JSON.stringify(pattern)} is invalid: ${compiled.reason}`);
    }
    return compiled.regexp;
  });
}

/** Tells whether `request` is a CORS preflight request. */
export function isPreflight(request: IncomingMessage): boolean {
  if (request.method !== 'OPTIONS') return false;
  const origin = firstHeaderValue(request, 'origin') ?? '';
  const requestMethod = firstHeaderValue(request, 'access-control-request-method') ?? '';
  return origin !== '' && requestMethod !== '';
}

/**
 * Returns the Access-Control-Allow-Origin value for `origin`, or undefined when it is not allowed.
 * List items are compared exactly, so the scheme, host and port must all match.
 */
export function allowedOrigin(settings: CorsSettings, origin: string): string | undefined {
  for (const item of settings.allowOriginList) {
    if (item === '*' || item === origin) return item;
  }
  // Traefik also tests the patterns against a missing Origin and can then send an empty
  // Allow-Origin field. Berth requires an origin for a pattern match.
  if (origin === '') return undefined;
  return settings.allowOriginRegexes.some((regexp) => regexp.test(origin)) ? origin : undefined;
}

/** Sends the preflight response: 200, no body, and the CORS fields that the settings give. */
export function sendPreflightResponse(context: RequestContext, settings: CorsSettings): void {
  const headers: HeaderList = [];
  if (settings.allowCredentials) headers.push('Access-Control-Allow-Credentials', 'true');
  if (settings.allowHeaders.length > 0) headers.push('Access-Control-Allow-Headers', settings.allowHeaders.join(','));
  if (settings.allowMethods.length > 0) headers.push('Access-Control-Allow-Methods', settings.allowMethods.join(','));

  const allowed = allowedOrigin(settings, firstHeaderValue(context.request, 'origin') ?? '');
  if (allowed !== undefined) headers.push('Access-Control-Allow-Origin', allowed);
  headers.push('Access-Control-Max-Age', String(settings.maxAgeSeconds));
  headers.push('Content-Length', '0');

  context.response.writeHead(200, headers);
  context.response.end();
}

/**
 * Adds the CORS fields to the header list of a non-preflight response, replacing the server's
 * fields of the same names. `origin` is the request's Origin, or '' when it has none.
 */
export function addCorsHeaders(headers: HeaderList, settings: CorsSettings, origin: string): HeaderList {
  let result = headers;
  const allowed = allowedOrigin(settings, origin);
  if (allowed !== undefined) result = replaceHeader(result, 'Access-Control-Allow-Origin', allowed);
  if (settings.allowCredentials) result = replaceHeader(result, 'Access-Control-Allow-Credentials', 'true');
  if (settings.exposeHeaders.length > 0) result = replaceHeader(result, 'Access-Control-Expose-Headers', settings.exposeHeaders.join(','));
  if (settings.addVaryHeader) result = addVaryOrigin(result);
  return result;
}

function replaceHeader(headers: HeaderList, name: string, value: string): HeaderList {
  const result = withoutHeader(headers, name);
  result.push(name, value);
  return result;
}

/**
 * Adds `Origin` to Vary unless a Vary field already lists it or `*`. Every Vary line is merged
 * into one, as Traefik sends a single line.
 */
function addVaryOrigin(headers: HeaderList): HeaderList {
  const values: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === 'vary') values.push(headers[i + 1] as string);
  }

  const tokens = values.flatMap((value) => value.split(',')).map((token) => token.trim().toLowerCase());
  if (tokens.includes('origin') || tokens.includes('*')) return headers;

  const existing = values.map((value) => value.trim()).filter((value) => value !== '');
  return replaceHeader(headers, 'Vary', [...existing, 'Origin'].join(','));
}
