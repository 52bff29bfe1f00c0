// addPrefix and the leading "/" of its prefix, checked against Traefik v3's addprefix middleware,
// which prepends "/" to a prefix written without one.
import { describe, expect, it } from 'vitest';

import { createAddPrefix } from '../../src/middlewares/addprefix.js';
import { contextFor, runMiddleware } from './header-context.js';

async function urlAfter(prefix: string, url: string): Promise<string | undefined> {
  const context = contextFor({ url });
  const outcome = await runMiddleware(createAddPrefix({ prefix }), context);
  expect(outcome.reachedServer).toBe(true);
  return context.request.url;
}

describe('addPrefix leading slash', () => {
  // Before the fix, prefix=api disabled the middleware with 'must start with "/"', and Traefik accepts it.
  it('adds a slash to a relative prefix', async () => {
    expect(await urlAfter('api', '/users?page=2')).toBe('/api/users?page=2');
  });

  it('keeps a prefix that has a slash', async () => {
    expect(await urlAfter('/api', '/users')).toBe('/api/users');
  });

  it('handles a nested relative prefix', async () => {
    expect(await urlAfter('v1/api', '/')).toBe('/v1/api/');
  });

  it('rejects an empty prefix', () => {
    expect(() => createAddPrefix({ prefix: '' })).toThrow('addprefix prefix is empty; set it to the path to add, for example prefix=/api');
  });
});
