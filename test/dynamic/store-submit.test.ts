// Rebuilds started by ConfigurationStore.submit run in slices while the current runtime serves,
// and must apply exactly what a synchronous update of the same configuration applies.
import { describe, expect, it } from 'vitest';
import { ConfigurationStore } from '../../src/dynamic/store.js';
import type { ProviderConfig } from '../../src/dynamic/model.js';
import type { Runtime } from '../../src/routing/runtime.js';
import { silentLogger } from '../../src/observability/logger.js';
import { buildProviderConfig } from '../../src/providers/docker/build.js';
import { container, defaultOptions } from '../providers/docker/fixtures.js';

/** Provider configuration of `count` containers, each with one Host router named `prefix<n>`. */
function sites(count: number, prefix = 'site'): ProviderConfig {
  const containers = Array.from({ length: count }, (_, i) =>
    container(`${prefix}${i}`, { [`traefik.http.routers.${prefix}${i}.rule`]: `Host(\`${prefix}${i}.example.com\`)` }, {}, `172.30.${i >> 8}.${(i & 255) + 1}`),
  );
  return buildProviderConfig(containers, defaultOptions);
}

function storeWithRuntimes(): { store: ConfigurationStore; runtimes: Runtime[] } {
  const runtimes: Runtime[] = [];
  const store = new ConfigurationStore({ entryPoints: ['web'], logger: silentLogger(), onRuntime: (runtime) => runtimes.push(runtime) });
  return { store, runtimes };
}

function routerNames(runtime: Runtime | undefined): string[] {
  return [...(runtime?.config.routers.keys() ?? [])].sort();
}

describe('ConfigurationStore.submit', () => {
  it('applies what update applies', async () => {
    const config = sites(300);
    const submitted = storeWithRuntimes();
    submitted.store.submit('docker', config);
    await submitted.store.settled();
    const updated = storeWithRuntimes();
    updated.store.update('docker', config);

    expect(submitted.runtimes).toHaveLength(1);
    expect(routerNames(submitted.runtimes[0])).toEqual(routerNames(updated.runtimes[0]));
    expect(submitted.runtimes[0]?.routerViews).toEqual(updated.runtimes[0]?.routerViews);
    expect(submitted.runtimes[0]?.tables.get('web')?.routes.map((route) => route.name)).toEqual(updated.runtimes[0]?.tables.get('web')?.routes.map((route) => route.name));
  });

  it('lets timers run during a large rebuild', async () => {
    const { store, runtimes } = storeWithRuntimes();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    store.submit('docker', sites(3000));
    await store.settled();
    clearInterval(timer);

    expect(runtimes).toHaveLength(1);
    expect(routerNames(runtimes[0])).toHaveLength(3000);
    // The runtime is swapped only once it is complete, so the ticks fell between slices of the one rebuild.
    expect(ticks).toBeGreaterThan(0);
  });

  it('coalesces configurations submitted during a rebuild', async () => {
    const { store, runtimes } = storeWithRuntimes();
    store.submit('docker', sites(2000, 'first'));
    store.submit('docker', sites(2, 'second'));
    store.submit('docker', sites(3, 'third'));
    await store.settled();

    // The first rebuild started at once; the two later configurations were applied by one more.
    expect(runtimes).toHaveLength(2);
    expect(routerNames(runtimes[1])).toEqual(['third0@docker', 'third1@docker', 'third2@docker']);
    expect(runtimes[1]?.generation).toBeGreaterThan(runtimes[0]?.generation ?? Infinity);
  });

  it('update during a rebuild stops it', async () => {
    const { store, runtimes } = storeWithRuntimes();
    store.submit('docker', sites(3000, 'slow'));
    // Let the rebuild run its first slice, then replace the configuration synchronously.
    await new Promise((resolve) => setImmediate(resolve));
    store.update('docker', sites(1, 'quick'));
    await store.settled();

    // A stale rebuild finishing after the update would have swapped back to the older configuration.
    expect(runtimes.map((runtime) => routerNames(runtime))).toEqual([['quick0@docker']]);
  });

  it('keeps every provider in a coalesced rebuild', async () => {
    const { store, runtimes } = storeWithRuntimes();
    store.submit('docker', sites(500, 'docker'));
    store.submit('file', sites(1, 'file'));
    await store.settled();

    const last = runtimes.at(-1);
    expect(last?.config.routers.has('file0@file')).toBe(true);
    expect(last?.config.routers.has('docker499@docker')).toBe(true);
  });
});

describe('ConfigurationStore redirections', () => {
  // The API's explain reads them from the runtime, so a running Berth reports the entry point's redirect.
  it('carries them into every runtime', () => {
    const redirection = { to: 'websecure', port: 443, scheme: 'https' as const, permanent: true, priority: Number.MAX_SAFE_INTEGER - 1 };
    const runtimes: Runtime[] = [];
    const store = new ConfigurationStore({ entryPoints: ['web', 'websecure'], entryPointRedirections: new Map([['web', redirection]]), logger: silentLogger(), onRuntime: (runtime) => runtimes.push(runtime) });
    store.update('docker', sites(1));

    expect(store.initialRuntime().redirections.get('web')).toEqual(redirection);
    expect(runtimes[0]?.redirections.get('web')).toEqual(redirection);
    expect(runtimes[0]?.redirections.has('websecure')).toBe(false);
  });
});
