import { describe, expect, it } from 'vitest';

import type { LoadBalancerConfig } from '../../../src/dynamic/model.js';
import { buildProviderConfig } from '../../../src/providers/docker/build.js';
import { container, defaultOptions } from './fixtures.js';

const PREFIX = 'traefik.http.services.web.loadbalancer';

function loadBalancerOf(labels: Record<string, string>): LoadBalancerConfig | undefined {
  return buildProviderConfig([container('web', labels)], defaultOptions).services.web?.loadBalancer;
}

interface LabelCase {
  desc: string;
  labels: Record<string, string>;
  expected: Partial<LoadBalancerConfig>;
}

describe('balancing labels', () => {
  it.each<LabelCase>([
    { desc: 'no balancing labels', labels: {}, expected: {} },
    { desc: 'strategy p2c', labels: { [`${PREFIX}.strategy`]: 'p2c' }, expected: { strategy: 'p2c' } },
    { desc: 'strategy in upper case', labels: { [`${PREFIX}.strategy`]: 'WRR' }, expected: { strategy: 'wrr' } },
    {
      desc: 'every health check option',
      labels: {
        [`${PREFIX}.healthcheck.path`]: '/health',
        [`${PREFIX}.healthcheck.interval`]: '10s',
        [`${PREFIX}.healthcheck.unhealthyinterval`]: '2s',
        [`${PREFIX}.healthcheck.timeout`]: '3s',
        [`${PREFIX}.healthcheck.scheme`]: 'https',
        [`${PREFIX}.healthcheck.hostname`]: 'ready.example.test',
        [`${PREFIX}.healthcheck.port`]: '9000',
        [`${PREFIX}.healthcheck.method`]: 'HEAD',
        [`${PREFIX}.healthcheck.status`]: '204',
        [`${PREFIX}.healthcheck.headers.X-Check`]: 'berth',
        [`${PREFIX}.healthcheck.followredirects`]: 'false',
      },
      expected: {
        healthCheck: {
          path: '/health',
          interval: '10s',
          unhealthyInterval: '2s',
          timeout: '3s',
          scheme: 'https',
          hostname: 'ready.example.test',
          port: 9000,
          method: 'HEAD',
          status: 204,
          headers: { 'X-Check': 'berth' },
          followRedirects: false,
        },
      },
    },
    { desc: 'passive flag', labels: { [`${PREFIX}.passivehealthcheck`]: 'true' }, expected: { passiveHealthCheck: {} } },
    {
      desc: 'passive options',
      labels: { [`${PREFIX}.passivehealthcheck.failurewindow`]: '30s', [`${PREFIX}.passivehealthcheck.maxfailedattempts`]: '3' },
      expected: { passiveHealthCheck: { failureWindow: '30s', maxFailedAttempts: 3 } },
    },
    { desc: 'sticky flag', labels: { [`${PREFIX}.sticky.cookie`]: 'true' }, expected: { sticky: { cookie: {} } } },
    {
      desc: 'every sticky option',
      labels: {
        [`${PREFIX}.sticky.cookie.name`]: 'srv',
        [`${PREFIX}.sticky.cookie.secure`]: 'true',
        [`${PREFIX}.sticky.cookie.httponly`]: 'true',
        [`${PREFIX}.sticky.cookie.samesite`]: 'strict',
        [`${PREFIX}.sticky.cookie.maxage`]: '3600',
        [`${PREFIX}.sticky.cookie.path`]: '/app',
        [`${PREFIX}.sticky.cookie.domain`]: 'example.test',
      },
      expected: { sticky: { cookie: { name: 'srv', secure: true, httpOnly: true, sameSite: 'strict', maxAge: 3600, path: '/app', domain: 'example.test' } } },
    },
  ])('$desc', ({ labels, expected }) => {
    const loadBalancer = loadBalancerOf({ [`${PREFIX}.server.port`]: '80', ...labels });

    expect(loadBalancer).toEqual({ servers: [expect.objectContaining({ url: 'http://172.30.0.2:80' })], passHostHeader: true, ...expected });
  });

  it('server weight', () => {
    const loadBalancer = loadBalancerOf({ [`${PREFIX}.server.weight`]: '3' });

    expect(loadBalancer?.servers[0]?.weight).toBe(3);
  });

  it('invalid strategy: error on the service', () => {
    const config = buildProviderConfig([container('web', { [`${PREFIX}.strategy`]: 'random' })], defaultOptions);

    expect(config.services.web?.errors[0]).toContain('loadbalancer.strategy');
  });

  it('replicas that differ in health check: conflict', () => {
    const compose = (replica: number, path: string) =>
      container(
        `app-${replica}`,
        {
          'com.docker.compose.project': 'p',
          'com.docker.compose.service': 'app',
          'traefik.http.routers.app.rule': 'Host(`app.example.test`)',
          'traefik.http.services.app.loadbalancer.healthcheck.path': path,
        },
        {},
        `172.30.0.${replica + 1}`,
      );

    const config = buildProviderConfig([compose(1, '/health'), compose(2, '/ready')], defaultOptions);

    expect(config.services.app?.errors.join('\n')).toContain('healthCheck differ');
  });

  it('replicas that differ only in weight merge', () => {
    const compose = (replica: number, weight: string) =>
      container(
        `app-${replica}`,
        {
          'com.docker.compose.project': 'p',
          'com.docker.compose.service': 'app',
          'traefik.http.routers.app.rule': 'Host(`app.example.test`)',
          'traefik.http.services.app.loadbalancer.server.weight': weight,
          'traefik.http.services.app.loadbalancer.strategy': 'p2c',
        },
        {},
        `172.30.0.${replica + 1}`,
      );

    const config = buildProviderConfig([compose(1, '1'), compose(2, '3')], defaultOptions);

    expect(config.services.app?.errors).toEqual([]);
    expect(config.services.app?.loadBalancer.servers.map((server) => server.weight)).toEqual([1, 3]);
    expect(config.services.app?.loadBalancer.strategy).toBe('p2c');
  });
});
