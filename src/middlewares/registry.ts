// Maps a middleware type name, as written in labels, to the factory that builds it.
import { silentLogger } from '../observability/logger.js';
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
  ['redirectregex', (options, _warn, build) => createRedirectRegex(options, build.logger)],
  ['replacepath', createReplacePath],
  ['replacepathregex', createReplacePathRegex],
  ['stripprefixregex', createStripPrefixRegex],
  ['basicauth', (options, _warn, build) => createBasicAuth(options, build.logger)],
  ['ipallowlist', createIpAllowList],
  ['ipwhitelist', createIpWhiteList],
  ['inflightreq', (options, warn, build) => createInFlightReq(options, warn, build.logger)],
  ['ratelimit', (options, warn, build) => createRateLimit(options, warn, { logger: build.logger })],
  ['circuitbreaker', (options, _warn, build) => createCircuitBreaker(options, { logger: build.logger })],
  ['errors', (options, _warn, build) => createErrors(options, build)],
  ['buffering', (options, _warn, build) => createBuffering(options, build.logger)],
]);

/** Builds Traefik v2's ipWhiteList, which Traefik v3 still runs as ipAllowList after a deprecation warning. */
function createIpWhiteList(options: Record<string, unknown>, warn: (message: string) => void): Middleware {
  warn('middleware type ipWhiteList is deprecated, and Berth runs it as ipAllowList, as Traefik v3 does; rename the type to ipAllowList');
  return createIpAllowList(options, warn);
}

/** Used where no configuration is at hand: every service name is reported as missing, and nothing is logged. */
const NO_SERVICES: MiddlewareBuildContext = {
  logger: silentLogger(),
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
 * a deprecated option, go to `warn`. `build` resolves service names for middlewares that call a service,
 * and its logger receives the middleware's runtime events.
 */
export function createMiddleware(type: string, options: Record<string, unknown>, warn: (message: string) => void = () => {}, build: MiddlewareBuildContext = NO_SERVICES): Middleware {
  const factory = factories.get(type.toLowerCase());
  if (!factory) {
    throw new Error(`middleware type "${type}" is not supported yet; supported types: ${supportedMiddlewareTypes().join(', ')}`);
  }
  return factory(options, warn, build);
}
