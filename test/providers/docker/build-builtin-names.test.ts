// Names that are also properties of every JavaScript object. Before the fix, a container named
// `constructor`, or a label such as `traefik.http.routers.toString.rule`, threw "issuesOf is not
// iterable" out of the builder, which stopped the Docker provider, and a `__proto__` item or header
// was dropped without a message.
import { describe, expect, it } from 'vitest';
import { mergeProviders } from '../../../src/dynamic/merged.js';
import type { ContainerInfo } from '../../../src/providers/docker/container-info.js';
import { buildProviderConfig } from '../../../src/providers/docker/build.js';
import { readContainerLabels } from '../../../src/providers/docker/container-labels.js';
import { buildRuntime } from '../../../src/routing/runtime.js';
import { container, defaultOptions } from './fixtures.js';

const BUILTIN_NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'prototype'] as const;

/** Builds the runtime of `containers` as `berth run` does, so middleware and service errors show too. */
function runtimeOf(containers: ContainerInfo[]) {
  const config = buildProviderConfig(containers, defaultOptions);
  const runtime = buildRuntime(mergeProviders(new Map([['docker', config]])), { entryPoints: ['web'], generation: 1 });
  return { config, runtime };
}

describe('built-in object names in Docker labels', () => {
  for (const name of BUILTIN_NAMES) {
    it(`routes a router named ${name}`, () => {
      const { config, runtime } = runtimeOf([
        container('web', {
          [`traefik.http.routers.${name}.rule`]: 'Host(`x.localhost`)',
          [`traefik.http.routers.${name}.middlewares`]: name,
          [`traefik.http.middlewares.${name}.addprefix.prefix`]: '/api',
          [`traefik.http.services.${name}.loadbalancer.server.port`]: '8080',
        }),
      ]);

      expect(Object.keys(config.routers)).toEqual([name]);
      expect(Object.keys(config.services)).toEqual([name]);
      expect(Object.keys(config.middlewares)).toEqual([name]);
      const router = runtime.config.routers.get(`${name}@docker`);
      expect(router?.rule).toBe('Host(`x.localhost`)');
      expect(router?.service).toBe(`${name}@docker`);
      expect(router?.errors).toEqual([]);
      expect(runtime.config.middlewares.get(`${name}@docker`)?.errors).toEqual([]);
      expect(runtime.config.services.get(`${name}@docker`)?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.30.0.2:8080']);
    });

    it(`routes a container named ${name} with no labels`, () => {
      const { config, runtime } = runtimeOf([container(name), container('other', {}, {}, '172.30.0.3')]);

      expect(config.skipped).toEqual([]);
      expect(Object.hasOwn(config.routers, name) || Object.keys(config.routers).length === 2).toBe(true);
      expect([...runtime.config.routers.values()].every((router) => router.errors.length === 0)).toBe(true);
      expect(runtime.config.routers.get('other@docker')?.rule).toBe('Host(`other`)');
    });

    it(`keeps a header named ${name}`, () => {
      const { config } = runtimeOf([
        container('web', {
          [`traefik.http.middlewares.hdr.headers.customresponseheaders.${name}`]: 'one',
          [`traefik.http.middlewares.hdr.headers.customrequestheaders.${name}`]: 'two',
          [`traefik.http.services.web.loadbalancer.healthcheck.path`]: '/health',
          [`traefik.http.services.web.loadbalancer.healthcheck.headers.${name}`]: 'three',
        }),
      ]);

      const options = config.middlewares['hdr']?.options as Record<string, Record<string, string>>;
      expect(Object.entries(options['customResponseHeaders'] ?? {})).toEqual([[name, 'one']]);
      expect(Object.entries(options['customRequestHeaders'] ?? {})).toEqual([[name, 'two']]);
      expect(Object.entries(config.services['web']?.loadBalancer.healthCheck?.headers ?? {})).toEqual([[name, 'three']]);
    });
  }

  it('disables only the bad toString router', () => {
    const { config } = runtimeOf([
      container('web', {
        'traefik.http.routers.toString.rule': 'Host(`x.localhost`)',
        'traefik.http.routers.toString.priority': 'high',
        'traefik.http.routers.web.rule': 'Host(`web.localhost`)',
      }),
    ]);

    expect(config.routers['toString']?.errors).toEqual([expect.stringContaining('invalid value "high" for label "traefik.http.routers.toString.priority"')]);
    expect(config.routers['web']?.errors).toEqual([]);
  });

  it('files issues under built-in names', () => {
    const labels = readContainerLabels({ 'traefik.http.middlewares.constructor.stripprefix.bogus': 'x' }, 'traefik');

    expect(labels.itemIssues.middlewares.get('constructor')).toEqual([expect.stringContaining('unknown label "traefik.http.middlewares.constructor.stripprefix.bogus"')]);
    expect(labels.itemIssues.routers.size).toBe(0);
  });

  it('reads index .Labels constructor as empty', () => {
    const config = buildProviderConfig([container('web')], { ...defaultOptions, defaultRule: 'Host(`a{{ index .Labels "constructor" }}.localhost`)' });

    expect(config.routers['web']?.rule).toBe('Host(`a.localhost`)');
  });
});

describe('container build guard', () => {
  it('skips only the throwing container', () => {
    const broken = container('broken');
    // Reading the labels throws, as an unexpected fault in the builder would.
    broken.labels = new Proxy({}, {
      ownKeys() {
        throw new Error('labels cannot be listed');
      },
    });

    const config = buildProviderConfig([broken, container('web', {}, {}, '172.30.0.3')], defaultOptions);

    expect(Object.keys(config.routers)).toEqual(['web']);
    expect(config.skipped).toEqual([
      { id: broken.id, name: 'broken', reason: 'building its configuration failed: Error: labels cannot be listed', severity: 'warning' },
    ]);
  });
});

describe('long label values in messages', () => {
  it('cuts long invalid values', () => {
    const value = 'x'.repeat(40_000);
    const config = buildProviderConfig([container('web', { 'traefik.http.routers.web.priority': value })], defaultOptions);

    const message = config.routers['web']?.errors[0] ?? '';
    expect(message).toContain(`"${'x'.repeat(200)}…(40000 characters)"`);
    expect(message.length).toBeLessThan(500);
  });

  it('cuts long rules around the problem', () => {
    const rule = `${'('.repeat(20_000)}Host(\`x\`)${')'.repeat(20_000)}`;
    const { runtime } = runtimeOf([container('web', { 'traefik.http.routers.web.rule': rule })]);

    const errors = runtime.config.routers.get('web@docker')?.errors ?? [];
    expect(errors).toEqual([expect.stringContaining('nests more than')]);
    expect(errors.join('\n').length).toBeLessThan(1_000);
  });
});
