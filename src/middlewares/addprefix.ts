// Adds a path prefix before forwarding.
import type { Middleware } from './types.js';
import { option } from './options.js';

export function createAddPrefix(options: Record<string, unknown>): Middleware {
  const prefix = String(option(options, 'prefix') ?? '');
  if (!prefix.startsWith('/')) throw new Error(`addprefix prefix "${prefix}" must start with "/", for example prefix=/api`);

  return async (context, next) => {
    const url = context.request.url ?? '/';
    context.request.url = prefix.replace(/\/$/, '') + (url.startsWith('/') ? url : `/${url}`);
    await next();
  };
}
