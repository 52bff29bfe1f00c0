// Traefik's `stripPrefixRegex`: removes the start of the path that a regex matches and reports it
// in X-Forwarded-Prefix, as Traefik v3 does in pkg/middlewares/stripprefixregex.
//
// As in Traefik, each regex is tried in order against the decoded path (`%2F` reads as `/`), and
// the first one whose leftmost match is non-empty and starts at the beginning of the path wins. So
// `/api` strips the start of `/apiary` too, and a pattern needs no `^`. Berth then removes the
// escaped form of that prefix, so the rest of the path keeps its escapes, such as `%2F`.
import { stringList } from './options.js';
import { compileGoPattern, type GoReplacer } from './regexp-replace.js';
import { addRequestHeader, decodePath, requestTarget } from './request-target.js';
import type { Middleware } from './types.js';

/** The request field in which Traefik passes the removed prefix to the server. */
export const FORWARDED_PREFIX_HEADER = 'X-Forwarded-Prefix';

/** Builds the middleware; throws an Error naming the regex when one is missing or invalid. */
export function createStripPrefixRegex(options: Record<string, unknown>): Middleware {
  const patterns = stringList(options, 'regex');
  if (patterns.length === 0) {
    throw new Error('stripPrefixRegex regex is missing: write one or more Go regular expressions, for example regex=/api/v[0-9]+');
  }
  const regexes: GoReplacer[] = patterns.map((pattern) => compileGoPattern('stripPrefixRegex regex', pattern));

  return async (context, next) => {
    const target = requestTarget(context.request);
    const decoded = decodePath(target.path);

    for (const regex of regexes) {
      const match = regex.firstMatch(decoded.text);
      if (match === undefined || match.start !== 0 || match.end === 0) continue;

      const escapedLength = decoded.escapedLength(match.end);
      if (escapedLength === undefined) continue;

      // NOTE: Traefik sends the decoded prefix. Berth sends the escaped one, which is the same for
      // a prefix without escapes and is always a valid field value.
      addRequestHeader(context.request, FORWARDED_PREFIX_HEADER, target.path.slice(0, escapedLength));
      const rest = target.path.slice(escapedLength);
      context.request.url = (rest.startsWith('/') ? rest : `/${rest}`) + target.query;
      break;
    }
    await next();
  };
}
