// Adds a path prefix before forwarding.
import type { Middleware } from './types.js';
import { option } from './options.js';
import { checkNoControlCharacters, escapePath } from './request-target.js';
import { truncateValue } from '../quote.js';

/**
 * Builds `addPrefix`. The prefix is escaped as a path, as Traefik's forwarded path is, so `/a b`
 * reaches the server as `/a%20b`. Throws an Error naming the prefix when it is empty, contains a
 * control character or an invalid escape such as `%zz`, because every request would then fail.
 */
export function createAddPrefix(options: Record<string, unknown>): Middleware {
  const written = String(option(options, 'prefix') ?? '');
  if (written === '') throw new Error('addprefix prefix is empty; set it to the path to add, for example prefix=/api');
  checkNoControlCharacters('addprefix prefix', written);
  // Traefik v3 adds the missing leading "/" (ensureLeadingSlash in its addprefix), so prefix=api
  // means /api, and escapePath adds it too.
  const escaped = escapePath(written);
  if (!escaped.ok) {
    throw new Error(`addprefix prefix ${JSON.stringify(truncateValue(written))} is invalid: ${escaped.reason}; write %25 for a literal "%"`);
  }
  const prefix = escaped.path.replace(/\/$/, '');

  return async (context, next) => {
    const url = context.request.url ?? '/';
    context.request.url = prefix + (url.startsWith('/') ? url : `/${url}`);
    await next();
  };
}
