// The chain middleware built into a runtime: members run in order, names resolve in the chain's
// provider, and a bad member or a loop disables the chain and the routers that use it.
import { describe, expect, it } from 'vitest';

import type { Runtime } from '../../src/routing/runtime.js';
import { runtimeOf } from '../routing/helpers.js';
import { contextFor, runMiddleware } from './header-context.js';

type Middlewares = NonNullable<Parameters<typeof runtimeOf>[0]['middlewares']>;

function runtimeWith(middlewares: Middlewares): Runtime {
  return runtimeOf({ routers: { app: { rule: 'PathPrefix(`/`)', middlewares: ['shared'] } }, services: { app: ['http://127.0.0.1:9'] }, middlewares });
}

function errorsOf(runtime: Runtime, kind: 'routers' | 'middlewares', name: string): string[] {
  return runtime.config[kind].get(name)?.errors ?? [];
}

describe('chain', () => {
  it('runs members in order', async () => {
    const runtime = runtimeWith({
      shared: { type: 'chain', options: { middlewares: ['replace', 'prefix@docker'] } },
      replace: { type: 'replacepath', options: { path: '/b' } },
      prefix: { type: 'addprefix', options: { prefix: '/a' } },
    });
    const chain = runtime.middlewares.get('shared@docker');
    expect(chain).toBeDefined();
    if (chain === undefined) return;

    const context = contextFor({ url: '/x?q=1' });
    const outcome = await runMiddleware(chain, context);

    expect(outcome.reachedServer).toBe(true);
    expect(context.request.url).toBe('/a/b?q=1');
    expect(errorsOf(runtime, 'routers', 'app@docker')).toEqual([]);
  });

  it('stops when a member responds', async () => {
    const runtime = runtimeWith({
      shared: { type: 'chain', options: { middlewares: 'to-https,replace' } },
      'to-https': { type: 'redirectscheme', options: { scheme: 'https' } },
      replace: { type: 'replacepath', options: { path: '/b' } },
    });
    const chain = runtime.middlewares.get('shared@docker');
    if (chain === undefined) throw new Error('chain was not built');

    const context = contextFor({ url: '/x', headers: [['Host', 'app.example.test']] });
    const outcome = await runMiddleware(chain, context);

    expect(outcome.status).toBe(302);
    expect(outcome.reachedServer).toBe(false);
    expect(context.request.url).toBe('/x');
  });

  it('runs a nested chain', async () => {
    const runtime = runtimeWith({
      shared: { type: 'chain', options: { middlewares: ['inner', 'prefix'] } },
      inner: { type: 'chain', options: { middlewares: ['replace'] } },
      replace: { type: 'replacepath', options: { path: '/b' } },
      prefix: { type: 'addprefix', options: { prefix: '/a' } },
    });
    const chain = runtime.middlewares.get('shared@docker');
    if (chain === undefined) throw new Error('chain was not built');

    const context = contextFor({ url: '/x' });
    await runMiddleware(chain, context);

    expect(context.request.url).toBe('/a/b');
  });

  it('disables routers for a missing member', () => {
    const runtime = runtimeWith({ shared: { type: 'chain', options: { middlewares: ['nowhere'] } } });

    expect(runtime.middlewares.has('shared@docker')).toBe(false);
    expect(errorsOf(runtime, 'middlewares', 'shared@docker')).toEqual(['container shared: chain middleware "nowhere@docker" does not exist; define it or remove it from the chain\'s middlewares']);
    expect(errorsOf(runtime, 'routers', 'app@docker')[0]).toMatch(/middleware "shared@docker" is disabled: .*"nowhere@docker" does not exist/);
  });

  it('disables routers for a disabled member', () => {
    const runtime = runtimeWith({
      shared: { type: 'chain', options: { middlewares: ['broken'] } },
      broken: { type: 'replacepathregex', options: { regex: '(', replacement: '/x' } },
    });

    expect(errorsOf(runtime, 'middlewares', 'shared@docker')[0]).toMatch(/chain middleware "broken@docker" is disabled: .*replacePathRegex regex "\(" is not a valid Go regular expression/);
    expect(errorsOf(runtime, 'routers', 'app@docker')).toHaveLength(1);
  });

  it('rejects a loop of chains', () => {
    const runtime = runtimeWith({
      shared: { type: 'chain', options: { middlewares: ['other'] } },
      other: { type: 'chain', options: { middlewares: ['shared'] } },
      self: { type: 'chain', options: { middlewares: ['self'] } },
    });

    // Chains are built in name order, so `other` finds the loop through `shared`.
    expect(errorsOf(runtime, 'middlewares', 'shared@docker')[0]).toMatch(/chain middlewares form a loop: other@docker -> shared@docker -> other@docker/);
    expect(errorsOf(runtime, 'middlewares', 'other@docker')[0]).toMatch(/chain middleware "shared@docker" is disabled/);
    expect(errorsOf(runtime, 'middlewares', 'self@docker')[0]).toMatch(/loop: self@docker -> self@docker/);
    expect(errorsOf(runtime, 'routers', 'app@docker')).toHaveLength(1);
  });

  it('rejects an empty chain', () => {
    const runtime = runtimeWith({ shared: { type: 'chain', options: {} } });

    expect(errorsOf(runtime, 'middlewares', 'shared@docker')[0]).toMatch(/chain middlewares is missing: list the middlewares to run/);
  });
});
