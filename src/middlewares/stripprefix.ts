// Removes a path prefix before forwarding and reports it in X-Forwarded-Prefix, as Traefik does.
// The match is a plain string prefix, so `/app` also strips the start of `/apple`. As in Traefik, the
// prefix is compared with the decoded path, so `/a b` strips `/a%20b/x` and `/ü` strips `/%C3%BC/x`.
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
      const length = escapedPrefixLength(path, prefix);
      if (length === undefined) continue;
      let rest = path.slice(length);
      if (!rest.startsWith('/')) rest = `/${rest}`;
      context.request.url = rest + query;
      context.request.headers['x-forwarded-prefix'] = prefix;
      break;
    }
    await next();
  };
}

/**
 * Returns how many characters at the start of the escaped `path` decode to `prefix`, compared byte by
 * byte in UTF-8, or undefined when the decoded path does not start with it.
 */
function escapedPrefixLength(path: string, prefix: string): number | undefined {
  // The common case: the path contains the prefix unescaped.
  if (path.startsWith(prefix)) return prefix.length;
  if (!path.includes('%')) return undefined;

  const prefixBytes = Buffer.from(prefix, 'utf8');
  let index = 0;
  let matched = 0;
  while (matched < prefixBytes.length) {
    if (index >= path.length) return undefined;
    let bytes: Buffer;
    const escaped = path[index] === '%' ? /^[0-9A-Fa-f]{2}$/.exec(path.slice(index + 1, index + 3)) : null;
    if (escaped !== null) {
      bytes = Buffer.from([Number.parseInt(escaped[0], 16)]);
      index += 3;
    } else {
      const character = String.fromCodePoint(path.codePointAt(index) ?? 0);
      bytes = Buffer.from(character, 'utf8');
      index += character.length;
    }
    for (const byte of bytes) {
      if (matched >= prefixBytes.length || prefixBytes[matched] !== byte) return undefined;
      matched += 1;
    }
  }
  return index;
}
