// Removes a path prefix before forwarding and reports it in X-Forwarded-Prefix, as Traefik does.
// The match is a plain string prefix, so `/app` also strips the start of `/apple`.
import type { Middleware } from './types.js';
import { stringList } from './options.js';
import { checkNoControlCharacters } from './request-target.js';
import { checkHeaderValue } from './header-fields.js';
import { truncateValue } from '../quote.js';

export function createStripPrefix(options: Record<string, unknown>): Middleware {
  const prefixes = stringList(options, 'prefixes');
  if (prefixes.length === 0) throw new Error('stripprefix needs at least one value in "prefixes", for example prefixes=/app');
  for (const prefix of prefixes) {
    if (!prefix.startsWith('/')) throw new Error(`stripprefix prefix ${JSON.stringify(truncateValue(prefix))} must start with "/", for example prefixes=/app`);
    // The prefix is sent in X-Forwarded-Prefix, so it must be a valid header value.
    checkNoControlCharacters('stripprefix prefix', prefix);
    checkHeaderValue('stripprefix prefix', 'X-Forwarded-Prefix', prefix);
  }

  return async (context, next) => {
    const url = context.request.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const query = queryAt === -1 ? '' : url.slice(queryAt);

    for (const prefix of prefixes) {
      if (!path.startsWith(prefix)) continue;
      let rest = path.slice(prefix.length);
      if (!rest.startsWith('/')) rest = `/${rest}`;
      context.request.url = rest + query;
      context.request.headers['x-forwarded-prefix'] = prefix;
      break;
    }
    await next();
  };
}
