// Adds a path prefix before forwarding.
import type { Middleware } from './types.js';
import { option } from './options.js';
import { checkNoControlCharacters } from './request-target.js';

export function createAddPrefix(options: Record<string, unknown>): Middleware {
  const written = String(option(options, 'prefix') ?? '');
  if (written === '') throw new Error('addprefix prefix is empty; set it to the path to add, for example prefix=/api');
  // Traefik v3 adds the missing leading "/" (ensureLeadingSlash in its addprefix), so prefix=api means /api.
  const prefix = written.startsWith('/') ? written : `/${written}`;
  checkNoControlCharacters('addprefix prefix', prefix);

  return async (context, next) => {
    const url = context.request.url ?? '/';
    context.request.url = prefix.replace(/\/$/, '') + (url.startsWith('/') ? url : `/${url}`);
    await next();
  };
}
