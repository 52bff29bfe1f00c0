// The decoded-labels cache of the Docker provider must not change what the builder returns.
import { describe, expect, it } from 'vitest';
import { buildProviderConfig, type DecodedLabelsCache } from '../../../src/providers/docker/build.js';
import { container, defaultOptions } from './fixtures.js';

describe('decoded labels cache', () => {
  it('gives the same configuration', () => {
    const containers = [
      container('web', { 'traefik.http.routers.web.rule': 'Host(`web.example.com`)', 'traefik.http.routers.web.middlewares': 'strip', 'traefik.http.middlewares.strip.stripprefix.prefixes': '/api' }),
      container('typo', { 'traefik.http.routers.typo.rulee': 'Host(`typo.example.com`)' }),
      container('old', { 'traefik.port': '8080' }),
    ];
    const decodedLabels: DecodedLabelsCache = new WeakMap();
    const first = buildProviderConfig(containers, { ...defaultOptions, decodedLabels });
    const second = buildProviderConfig(containers, { ...defaultOptions, decodedLabels });

    expect(first).toEqual(buildProviderConfig(containers, defaultOptions));
    expect(second).toEqual(first);
  });

  it('decodes again under another prefix', () => {
    const labels = { 'traefik.http.routers.a.rule': 'Host(`a.example.com`)', 'berth.http.routers.b.rule': 'Host(`b.example.com`)' };
    const decodedLabels: DecodedLabelsCache = new WeakMap();
    const withTraefik = buildProviderConfig([container('app', labels)], { ...defaultOptions, decodedLabels });
    const withBerth = buildProviderConfig([container('app', labels)], { ...defaultOptions, labelPrefix: 'berth', decodedLabels });

    expect(Object.keys(withTraefik.routers)).toEqual(['a']);
    expect(Object.keys(withBerth.routers)).toEqual(['b']);
  });

  it('decodes thousands of routers of one container', () => {
    // Building the label tree searched every sibling for each label, so this took seconds.
    const labels: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) {
      labels[`traefik.http.routers.r${i}.rule`] = `Host(\`s${i}.example.com\`)`;
      labels[`traefik.http.routers.R${i}.priority`] = String(i + 1);
    }
    const config = buildProviderConfig([container('big', labels)], defaultOptions);

    expect(Object.keys(config.routers)).toHaveLength(3000);
    // Names compare case-insensitively, and the first key in sorted order (`R7`) gives the spelling.
    expect(config.routers.R7?.priority).toBe(8);
    expect(config.routers.R7?.rule).toBe('Host(`s7.example.com`)');
  });
});
