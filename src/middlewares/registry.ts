// Maps a middleware type name, as written in labels, to the factory that builds it.
import type { Middleware, MiddlewareBuildContext, MiddlewareFactory } from './types.js';
import { createAddPrefix } from './addprefix.js';
import { createStripPrefix } from './stripprefix.js';
import { createHeaders } from './headers.js';
import { createRetry } from './retry.js';
import { createCompress } from './compress.js';
import { createForwardAuth } from './forwardauth.js';
import { createRedirectRegex, createRedirectScheme } from './redirect.js';
import { createReplacePath, createReplacePathRegex } from './replacepath.js';
import { createStripPrefixRegex } from './stripprefixregex.js';
import { createBasicAuth } from './basicauth.js';
import { createIpAllowList } from './ipallowlist.js';
import { createInFlightReq } from './inflightreq.js';
import { createRateLimit } from './ratelimit.js';
import { createCircuitBreaker } from './circuitbreaker.js';
import { createErrors } from './errors.js';
import { createBuffering } from './buffering.js';

const factories = new Map<string, MiddlewareFactory>([
  ['addprefix', createAddPrefix],
  ['stripprefix', createStripPrefix],
  ['headers', createHeaders],
  ['retry', createRetry],
  ['compress', createCompress],
  ['forwardauth', createForwardAuth],
  ['redirectscheme', createRedirectScheme],
  ['redirectregex', createRedirectRegex],
  ['replacepath', createReplacePath],
  ['replacepathregex', createReplacePathRegex],
  ['stripprefixregex', createStripPrefixRegex],
  ['basicauth', createBasicAuth],
  ['ipallowlist', createIpAllowList],
  ['inflightreq', createInFlightReq],
  ['ratelimit', (options, warn) => createRateLimit(options, warn)],
  ['circuitbreaker', (options) => createCircuitBreaker(options)],
  ['errors', (options, _warn, build) => createErrors(options, build)],
  ['buffering', createBuffering],
]);

/** Used where no configuration is at hand: every service name is reported as missing. */
const NO_SERVICES: MiddlewareBuildContext = {
  resolveService(name) {
    throw new Error(`service "${name}" does not exist; define it or fix the name`);
  },
};

/** Names of the middleware types Berth implements, for messages. */
export function supportedMiddlewareTypes(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Builds a middleware; throws an Error naming the type or option when it cannot. Warnings, such as
 * a deprecated option, go to `warn`. `build` resolves service names for middlewares that call a service.
 */
export function createMiddleware(type: string, options: Record<string, unknown>, warn: (message: string) => void = () => {}, build: MiddlewareBuildContext = NO_SERVICES): Middleware {
  const factory = factories.get(type.toLowerCase());
  if (!factory) {
    throw new Error(`middleware type "${type}" is not supported yet; supported types: ${supportedMiddlewareTypes().join(', ')}`);
  }
  return factory(options, warn, build);
}
