import { describe, expect, it } from 'vitest';
import type { MiddlewareConfig, RouterConfig, ServiceConfig } from '../../../src/dynamic/model.js';
import { buildProviderConfig } from '../../../src/providers/docker/build.js';
import { container, defaultOptions } from './fixtures.js';

const ID = 'web'.padEnd(64, '0');
const sources = [{ provider: 'docker', origin: 'container web', container: 'web' }];

function router(fields: Partial<RouterConfig> & { rule: string; service: string }): RouterConfig {
  return { entryPoints: [], middlewares: [], errors: [], warnings: [], sources, ...fields };
}

function service(urls: string[], fields: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    loadBalancer: { servers: urls.map((url) => ({ url, weight: 1, containerId: ID })), passHostHeader: true },
    errors: [],
    warnings: [],
    sources,
    ...fields,
  };
}

function middleware(type: string, options: Record<string, unknown>): MiddlewareConfig {
  return { type, options, errors: [], warnings: [], sources };
}

interface Case {
  desc: string;
  labels: Record<string, string>;
  expected: {
    routers: Record<string, RouterConfig>;
    services: Record<string, ServiceConfig>;
    middlewares?: Record<string, MiddlewareConfig>;
  };
}

describe('buildProviderConfig defaults', () => {
  const cases: Case[] = [
    {
      desc: 'no labels: container-named defaults',
      labels: {},
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'web' }) },
        services: { web: service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'compose labels name both service_project',
      labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'front_end' },
      expected: {
        routers: { 'front-end-shop': router({ rule: 'Host(`front-end-shop`)', service: 'front-end-shop' }) },
        services: { 'front-end-shop': service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'router label without rule gets the default rule',
      labels: { 'traefik.http.routers.api.entrypoints': 'websecure' },
      expected: {
        routers: { api: router({ rule: 'Host(`web`)', service: 'web', entryPoints: ['websecure'] }) },
        services: { web: service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'router without service takes the only service',
      labels: { 'traefik.http.routers.api.rule': 'Host(`api.example.test`)', 'traefik.http.services.backend.loadbalancer.server.port': '9000' },
      expected: {
        routers: { api: router({ rule: 'Host(`api.example.test`)', service: 'backend' }) },
        services: { backend: service(['http://172.30.0.2:9000']) },
      },
    },
    {
      desc: 'service label only: default router uses it',
      labels: { 'traefik.http.services.backend.loadbalancer.server.port': '9000' },
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'backend' }) },
        services: { backend: service(['http://172.30.0.2:9000']) },
      },
    },
    {
      desc: 'all router options',
      labels: {
        'traefik.http.routers.api.rule': 'PathPrefix(`/api`)',
        'traefik.http.routers.api.entrypoints': 'web,websecure',
        'traefik.http.routers.api.priority': '10',
        'traefik.http.routers.api.middlewares': 'strip, auth@file',
        'traefik.http.routers.api.rulesyntax': 'v2',
        'traefik.http.routers.api.service': 'other@file',
        'traefik.http.routers.api.tls': 'true',
        'traefik.http.routers.api.tls.certresolver': 'le',
        'traefik.http.routers.api.tls.domains[0].main': 'example.test',
        'traefik.http.routers.api.tls.domains[0].sans': '*.example.test',
        'traefik.http.routers.api.tls.options': 'modern@file',
        'traefik.http.middlewares.strip.stripprefix.prefixes': '/api',
      },
      expected: {
        routers: {
          api: router({
            rule: 'PathPrefix(`/api`)',
            service: 'other@file',
            entryPoints: ['web', 'websecure'],
            priority: 10,
            middlewares: ['strip', 'auth@file'],
            ruleSyntax: 'v2',
            tls: { certResolver: 'le', domains: [{ main: 'example.test', sans: ['*.example.test'] }], options: 'modern@file' },
          }),
        },
        services: { web: service(['http://172.30.0.2:80']) },
        middlewares: { strip: middleware('stripprefix', { prefixes: ['/api'] }) },
      },
    },
    {
      desc: 'tls=true alone makes a TLS router',
      labels: { 'traefik.http.routers.web.tls': 'true' },
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'web', tls: {} }) },
        services: { web: service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'tls domain without main is an error',
      labels: { 'traefik.http.routers.web.tls.domains[0].sans': 'www.example.test' },
      expected: {
        routers: {
          web: router({
            rule: 'Host(`web`)',
            service: 'web',
            tls: { domains: [] },
            errors: ['container web: traefik.http.routers.web.tls.domains[0].main is missing; set it to the certificate\'s main domain'],
          }),
        },
        services: { web: service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'priority 0 means unset',
      labels: { 'traefik.http.routers.web.priority': '0' },
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'web' }) },
        services: { web: service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'service options: scheme, weight and passhostheader',
      labels: {
        'traefik.http.services.web.loadbalancer.server.scheme': 'https',
        'traefik.http.services.web.loadbalancer.server.port': '8443',
        'traefik.http.services.web.loadbalancer.server.weight': '3',
        'traefik.http.services.web.loadbalancer.passhostheader': 'false',
        'traefik.http.services.web.loadbalancer.healthcheck.path': '/health',
        'traefik.http.services.web.loadbalancer.sticky.cookie.name': 'berth',
        'traefik.http.services.web.loadbalancer.strategy': 'p2c',
        'traefik.http.services.web.loadbalancer.responseforwarding.flushinterval': '100ms',
        'traefik.http.services.web.loadbalancer.serverstransport': 'insecure@file',
      },
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'web' }) },
        services: {
          web: {
            loadBalancer: {
              servers: [{ url: 'https://172.30.0.2:8443', weight: 3, containerId: ID }],
              passHostHeader: false,
              strategy: 'p2c',
              healthCheck: { path: '/health' },
              sticky: { cookie: { name: 'berth' } },
            },
            errors: [],
            warnings: [],
            sources,
          },
        },
      },
    },
    {
      desc: 'keys in any case',
      labels: { 'Traefik.HTTP.Routers.Web.Rule': 'Path(`/`)', 'TRAEFIK.http.services.Web.LoadBalancer.Server.Port': '81' },
      expected: {
        routers: { Web: router({ rule: 'Path(`/`)', service: 'Web' }) },
        services: { Web: service(['http://172.30.0.2:81']) },
      },
    },
    {
      desc: 'labels under another prefix ignored',
      labels: { 'caddy.reverse_proxy': '{{upstreams 80}}', 'com.example.team': 'web' },
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'web' }) },
        services: { web: service(['http://172.30.0.2:80']) },
      },
    },
    {
      desc: 'middlewares of several types',
      labels: {
        'traefik.http.middlewares.add.addprefix.prefix': '/v1',
        'traefik.http.middlewares.hdr.headers.customrequestheaders.X-Env': 'prod',
        'traefik.http.middlewares.to-https.redirectscheme.scheme': 'https',
        'traefik.http.middlewares.to-https.redirectscheme.permanent': 'true',
        'traefik.http.middlewares.auth.basicauth.users': 'alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,bob:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0',
      },
      expected: {
        routers: { web: router({ rule: 'Host(`web`)', service: 'web' }) },
        services: { web: service(['http://172.30.0.2:80']) },
        middlewares: {
          add: middleware('addprefix', { prefix: '/v1' }),
          auth: middleware('basicauth', { users: ['alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'bob:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0'] }),
          hdr: middleware('headers', { customRequestHeaders: { 'X-Env': 'prod' } }),
          'to-https': middleware('redirectscheme', { scheme: 'https', permanent: true }),
        },
      },
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const config = buildProviderConfig([container('web', testCase.labels)], defaultOptions);
      expect(config.routers).toEqual(testCase.expected.routers);
      expect(config.services).toEqual(testCase.expected.services);
      expect(config.middlewares).toEqual(testCase.expected.middlewares ?? {});
      expect(config.skipped).toEqual([]);
    });
  }

  it('custom prefix reads only its own labels', () => {
    const labels = { 'berth.http.routers.a.rule': 'Path(`/a`)', 'traefik.http.routers.b.rule': 'Path(`/b`)' };
    const config = buildProviderConfig([container('web', labels)], { ...defaultOptions, labelPrefix: 'berth' });
    expect(Object.keys(config.routers)).toEqual(['a']);
  });

  it('defaultRule template with the container name', () => {
    const config = buildProviderConfig([container('web-1')], { ...defaultOptions, defaultRule: 'Host(`{{ .ContainerName }}.example.test`)' });
    expect(config.routers['web-1']?.rule).toBe('Host(`web-1.example.test`)');
  });

  it('several services and no router: no default router', () => {
    const labels = {
      'traefik.http.services.a.loadbalancer.server.port': '8001',
      'traefik.http.services.b.loadbalancer.server.port': '8002',
    };
    const config = buildProviderConfig([container('web', labels)], defaultOptions);
    expect(config.routers).toEqual({});
    expect(Object.keys(config.services)).toEqual(['a', 'b']);
    expect(config.services['a']?.warnings).toEqual([
      'container web: no router was created because the container defines several services; add a traefik.http.routers.<name>.rule label',
    ]);
  });

  it('router without service among several services', () => {
    const labels = {
      'traefik.http.routers.r.rule': 'Path(`/`)',
      'traefik.http.services.a.loadbalancer.server.port': '8001',
      'traefik.http.services.b.loadbalancer.server.port': '8002',
    };
    const config = buildProviderConfig([container('web', labels)], defaultOptions);
    expect(config.routers['r']?.errors).toEqual([
      'container web: router "r" has no service and the container defines several (a, b); set traefik.http.routers.r.service',
    ]);
    expect(config.services['a']?.errors).toEqual([]);
  });

  it('invalid defaultRule template disables default routers', () => {
    const config = buildProviderConfig([container('web')], { ...defaultOptions, defaultRule: 'Host(`{{ slug .Name }}`)' });
    expect(config.routers['web']?.errors).toHaveLength(1);
    expect(config.routers['web']?.errors[0]).toContain('unknown function "slug"');
    expect(config.services['web']?.errors).toEqual([]);
  });

  it('empty defaultRule result disables the router', () => {
    const config = buildProviderConfig([container('web')], { ...defaultOptions, defaultRule: '{{ index .Labels "missing" }}' });
    expect(config.routers['web']?.errors).toEqual([
      'container web: the defaultRule template produced an empty rule; set traefik.http.routers.web.rule',
    ]);
  });
});
