import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildProviderConfig } from '../../../src/providers/docker/build.js';
import type { ContainerInfo } from '../../../src/providers/docker/container-info.js';
import { container, defaultOptions, fixture } from './fixtures.js';

const replicas = (): ContainerInfo[] => [fixture('replica-1'), fixture('replica-2'), fixture('replica-3')];

describe('replicas', () => {
  it('three replicas: one router, one service, three servers', () => {
    const config = buildProviderConfig(replicas(), defaultOptions);
    expect(Object.keys(config.routers)).toEqual(['w']);
    expect(Object.keys(config.services)).toEqual(['web-myproj']);
    expect(config.routers['w']).toEqual({
      rule: 'Host(`w.example.test`)',
      entryPoints: [],
      service: 'web-myproj',
      middlewares: [],
      errors: [],
      warnings: [],
      sources: [
        { provider: 'docker', origin: 'container myproj-web-1', container: 'myproj-web-1' },
        { provider: 'docker', origin: 'container myproj-web-2', container: 'myproj-web-2' },
        { provider: 'docker', origin: 'container myproj-web-3', container: 'myproj-web-3' },
      ],
    });
    expect(config.services['web-myproj']?.loadBalancer.servers).toEqual([
      { url: 'http://172.22.0.2:80', weight: 1, containerId: fixture('replica-1').id },
      { url: 'http://172.22.0.3:80', weight: 1, containerId: fixture('replica-2').id },
      { url: 'http://172.22.0.4:80', weight: 1, containerId: fixture('replica-3').id },
    ]);
    expect(config.services['web-myproj']?.errors).toEqual([]);
  });

  it('scaled down to one: same names, one server', () => {
    const config = buildProviderConfig([fixture('replica-2')], defaultOptions);
    expect(Object.keys(config.routers)).toEqual(['w']);
    expect(config.services['web-myproj']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.22.0.3:80']);
  });

  it('replicas without router labels share the default router', () => {
    const labels = { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'api' };
    const config = buildProviderConfig(
      [container('shop-api-1', labels, {}, '172.30.0.2'), container('shop-api-2', labels, {}, '172.30.0.3')],
      defaultOptions,
    );
    expect(Object.keys(config.routers)).toEqual(['api-shop']);
    expect(config.routers['api-shop']?.rule).toBe('Host(`api-shop`)');
    expect(config.services['api-shop']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.30.0.2:80', 'http://172.30.0.3:80']);
  });

  it('replicas may differ in server port', () => {
    const a = container('a', { 'traefik.http.services.s.loadbalancer.server.port': '8001' }, {}, '172.30.0.2');
    const b = container('b', { 'traefik.http.services.s.loadbalancer.server.port': '8002' }, {}, '172.30.0.3');
    const config = buildProviderConfig([a, b], defaultOptions);
    expect(config.services['s']?.errors).toEqual([]);
    expect(config.services['s']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.30.0.2:8001', 'http://172.30.0.3:8002']);
  });

  it('identical middlewares merge', () => {
    const labels = { 'traefik.http.middlewares.strip.stripprefix.prefixes': '/a' };
    const config = buildProviderConfig([container('a', labels), container('b', labels)], defaultOptions);
    expect(config.middlewares['strip']?.errors).toEqual([]);
    expect(config.middlewares['strip']?.sources).toHaveLength(2);
  });
});

describe('conflicts', () => {
  const cases: Array<{
    desc: string;
    a: Record<string, string>;
    b: Record<string, string>;
    kind: 'routers' | 'services' | 'middlewares';
    name: string;
    message: string;
  }> = [
    {
      desc: 'router with two rules',
      a: { 'traefik.http.routers.api.rule': 'Host(`a.example.test`)', 'traefik.http.routers.api.service': 's' },
      b: { 'traefik.http.routers.api.rule': 'Host(`b.example.test`)', 'traefik.http.routers.api.service': 's' },
      kind: 'routers',
      name: 'api',
      message: 'router "api" is defined differently by container a and container b (rule differ); give both the same labels or use different names',
    },
    {
      desc: 'router with two entry point lists and priorities',
      a: { 'traefik.http.routers.api.rule': 'Path(`/`)', 'traefik.http.routers.api.service': 's', 'traefik.http.routers.api.entrypoints': 'web' },
      b: {
        'traefik.http.routers.api.rule': 'Path(`/`)',
        'traefik.http.routers.api.service': 's',
        'traefik.http.routers.api.entrypoints': 'websecure',
        'traefik.http.routers.api.priority': '5',
      },
      kind: 'routers',
      name: 'api',
      message: 'router "api" is defined differently by container a and container b (entryPoints, priority differ); give both the same labels or use different names',
    },
    {
      desc: 'service with two passhostheader values',
      a: { 'traefik.http.services.s.loadbalancer.passhostheader': 'false' },
      b: {},
      kind: 'services',
      name: 's',
      message: 'service "s" is defined differently by container a and container b (passHostHeader differ); give both the same labels or use different names',
    },
    {
      desc: 'middleware with two types',
      a: { 'traefik.http.middlewares.m.addprefix.prefix': '/a' },
      b: { 'traefik.http.middlewares.m.stripprefix.prefixes': '/a' },
      kind: 'middlewares',
      name: 'm',
      message: 'middleware "m" is defined differently by container a and container b (options, type differ); give both the same labels or use different names',
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const b = testCase.kind === 'services' ? { ...testCase.b, 'traefik.http.services.s.loadbalancer.server.port': '80' } : testCase.b;
      const a = testCase.kind === 'services' ? { ...testCase.a, 'traefik.http.services.s.loadbalancer.server.port': '80' } : testCase.a;
      const config = buildProviderConfig([container('b', b, {}, '172.30.0.3'), container('a', a, {}, '172.30.0.2')], defaultOptions);
      const item = config[testCase.kind][testCase.name];
      expect(item?.errors).toEqual([testCase.message]);
      expect(item?.sources.map((source) => source.origin)).toEqual(['container a', 'container b']);
    });
  }

  it('conflict keeps the first container definition', () => {
    const a = container('a', { 'traefik.http.routers.api.rule': 'Host(`a.example.test`)' });
    const b = container('b', { 'traefik.http.routers.api.rule': 'Host(`b.example.test`)' });
    const config = buildProviderConfig([b, a], defaultOptions);
    expect(config.routers['api']?.rule).toBe('Host(`a.example.test`)');
  });

  it('conflict in one router leaves other items enabled', () => {
    const a = container('a', { 'traefik.http.routers.api.rule': 'Host(`a.example.test`)', 'traefik.http.routers.api.service': 'a' });
    const b = container('b', { 'traefik.http.routers.api.rule': 'Host(`b.example.test`)', 'traefik.http.routers.api.service': 'a' });
    const config = buildProviderConfig([a, b], defaultOptions);
    expect(config.services['a']?.errors).toEqual([]);
    expect(config.services['b']?.errors).toEqual([]);
  });
});

describe('determinism', () => {
  const mixed = (): ContainerInfo[] => [
    ...replicas(),
    fixture('host'),
    fixture('bridge'),
    fixture('container-mode'),
    fixture('compose-multinet'),
    fixture('ports-25-80-8080'),
    fixture('paused'),
    fixture('unhealthy'),
    container('a', { 'traefik.http.routers.api.rule': 'Host(`a.example.test`)', 'traefik.http.routers.api.priority': 'abc' }),
    container('b', { 'traefik.http.routers.api.rule': 'Host(`b.example.test`)' }),
  ];

  it('any input order gives deep-equal output', () => {
    const containers = mixed();
    const expected = buildProviderConfig(containers, defaultOptions);
    fc.assert(
      fc.property(fc.shuffledSubarray(containers, { minLength: containers.length, maxLength: containers.length }), (shuffled) => {
        expect(buildProviderConfig(shuffled, defaultOptions)).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('any input order gives the same JSON text', () => {
    const expected = JSON.stringify(buildProviderConfig(mixed(), defaultOptions));
    expect(JSON.stringify(buildProviderConfig(mixed().reverse(), defaultOptions))).toBe(expected);
  });

  it('label order does not change the item spelling', () => {
    const forward = { 'traefik.http.routers.Api.rule': 'Path(`/`)', 'traefik.http.routers.api.entrypoints': 'web' };
    const backward = Object.fromEntries(Object.entries(forward).reverse());
    const first = buildProviderConfig([container('x', forward)], defaultOptions);
    const second = buildProviderConfig([container('x', backward)], defaultOptions);
    expect(second).toEqual(first);
    expect(Object.keys(first.routers)).toEqual(['Api']);
  });
});
