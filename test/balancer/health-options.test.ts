import { describe, expect, it } from 'vitest';

import { healthSettings, parseDurationMs } from '../../src/balancer/health-options.js';
import type { LoadBalancerConfig } from '../../src/dynamic/model.js';

function loadBalancer(settings: Partial<LoadBalancerConfig>): LoadBalancerConfig {
  return { servers: [], passHostHeader: true, ...settings };
}

describe('parseDurationMs', () => {
  it.each([
    { text: '30s', expected: 30_000 },
    { text: '1m30s', expected: 90_000 },
    { text: '250ms', expected: 250 },
    { text: '1.5s', expected: 1_500 },
    { text: '2h', expected: 7_200_000 },
    { text: '500us', expected: 0.5 },
    { text: '10', expected: 10_000 },
    { text: ' 5s ', expected: 5_000 },
  ])('$text is $expected ms', ({ text, expected }) => {
    expect(parseDurationMs(text)).toBe(expected);
  });

  it.each(['', 's', '10 s', '-1s', '1d', 'abc'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe('healthSettings', () => {
  it('nothing configured: no checks', () => {
    expect(healthSettings(loadBalancer({}))).toEqual({ errors: [], warnings: [] });
  });

  it('path alone: Traefik defaults', () => {
    const settings = healthSettings(loadBalancer({ healthCheck: { path: '/health' } }));

    expect(settings.errors).toEqual([]);
    expect(settings.warnings).toEqual([]);
    expect(settings.active).toEqual({
      path: '/health',
      method: 'GET',
      headers: {},
      intervalMs: 30_000,
      unhealthyIntervalMs: 30_000,
      timeoutMs: 5_000,
      followRedirects: true,
    });
  });

  it('every option', () => {
    const settings = healthSettings(
      loadBalancer({
        healthCheck: {
          path: '/ready?full=1',
          scheme: 'https',
          port: 9000,
          method: 'head',
          status: 204,
          hostname: 'ready.example.test',
          headers: { 'X-Check': 'berth' },
          interval: '10s',
          unhealthyInterval: '2s',
          timeout: '1s',
          followRedirects: false,
        },
      }),
    );

    expect(settings.errors).toEqual([]);
    expect(settings.active).toEqual({
      path: '/ready?full=1',
      scheme: 'https',
      port: 9000,
      method: 'HEAD',
      status: 204,
      hostname: 'ready.example.test',
      headers: { 'X-Check': 'berth' },
      intervalMs: 10_000,
      unhealthyIntervalMs: 2_000,
      timeoutMs: 1_000,
      followRedirects: false,
    });
  });

  it('unhealthyInterval follows interval', () => {
    const settings = healthSettings(loadBalancer({ healthCheck: { path: '/health', interval: '3s' } }));

    expect(settings.active?.unhealthyIntervalMs).toBe(3_000);
  });

  it.each([
    { desc: 'missing path', healthCheck: { interval: '5s' }, warning: 'no health check runs because healthCheck.path is missing; set it, for example to /health' },
    { desc: 'grpc mode', healthCheck: { path: '/', mode: 'grpc' as const }, warning: 'healthCheck.mode grpc is not supported yet, so no health check runs; use mode http' },
  ])('$desc: warning, no check', ({ healthCheck, warning }) => {
    const settings = healthSettings(loadBalancer({ healthCheck }));

    expect(settings.active).toBeUndefined();
    expect(settings.errors).toEqual([]);
    expect(settings.warnings).toEqual([warning]);
  });

  it('zero interval: default with a warning', () => {
    const settings = healthSettings(loadBalancer({ healthCheck: { path: '/health', interval: '0s' } }));

    expect(settings.active?.intervalMs).toBe(30_000);
    expect(settings.warnings).toEqual([
      'healthCheck.interval "0s" is invalid, so the default 30000 ms is used: write a duration greater than zero, such as 10s or 500ms',
    ]);
  });

  it('h2c scheme: plain http with a warning', () => {
    const settings = healthSettings(loadBalancer({ healthCheck: { path: '/health', scheme: 'h2c' } }));

    expect(settings.active?.scheme).toBe('http');
    expect(settings.warnings).toEqual(['healthCheck.scheme h2c is not supported yet; checks are sent as plain HTTP/1.1']);
  });

  it.each([
    { desc: 'relative path', healthCheck: { path: 'health' }, error: 'healthCheck.path "health" is invalid: it must start with /' },
    { desc: 'bad method', healthCheck: { path: '/', method: 'GE T' }, error: 'healthCheck.method "GE T" is not a valid HTTP method' },
    { desc: 'bad status', healthCheck: { path: '/', status: 99 }, error: 'healthCheck.status 99 is invalid: use a status from 100 to 599' },
    {
      desc: 'bad header name',
      healthCheck: { path: '/', headers: { 'X Check': 'a' } as Record<string, string> },
      error: expect.stringContaining('healthCheck.headers header name "X Check" is invalid'),
    },
    {
      desc: 'bad header value',
      healthCheck: { path: '/', headers: { 'X-Check': 'a\r\nb' } as Record<string, string> },
      error: expect.stringContaining('healthCheck.headers value "a\\r\\nb" of header "X-Check" is invalid'),
    },
  ])('$desc: error', ({ healthCheck, error }) => {
    const settings = healthSettings(loadBalancer({ healthCheck }));

    expect(settings.active).toBeUndefined();
    expect(settings.errors).toEqual([error]);
  });

  it('passive flag alone: defaults', () => {
    expect(healthSettings(loadBalancer({ passiveHealthCheck: {} })).passive).toEqual({ failureWindowMs: 10_000, maxFailedAttempts: 1 });
  });

  it('passive options', () => {
    const settings = healthSettings(loadBalancer({ passiveHealthCheck: { failureWindow: '30s', maxFailedAttempts: 3 } }));

    expect(settings.passive).toEqual({ failureWindowMs: 30_000, maxFailedAttempts: 3 });
  });

  it('passive zero attempts: error', () => {
    const settings = healthSettings(loadBalancer({ passiveHealthCheck: { maxFailedAttempts: 0 } }));

    expect(settings.passive).toBeUndefined();
    expect(settings.errors).toEqual(['passiveHealthCheck.maxFailedAttempts 0 is invalid: use a whole number of at least 1']);
  });
});
