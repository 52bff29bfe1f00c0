// `responseForwarding.flushInterval=-1`, common in labels written for Traefik, where a negative value
// flushes after every write. It must not disable the service, and a server that streams small chunks
// (server-sent events, say) must reach the client chunk by chunk, whether the option came from labels
// or from a file.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import type { ProviderConfig } from '../../../src/dynamic/model.js';
import { buildProviderConfig } from '../../../src/providers/docker/build.js';
import { toProviderConfig } from '../../../src/providers/file/build.js';
import { parseDynamicText } from '../../../src/providers/file/read.js';
import { container, defaultOptions } from '../../providers/docker/fixtures.js';
import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

/** Pause between two events of the streaming server, in ms: well above the time a chunk takes over loopback. */
const EVENT_GAP_MS = 300;

let server: RunningServer;

beforeAll(async () => {
  // Writes three events, EVENT_GAP_MS apart, and ends the response after the last.
  server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const write = (): void => {
      sent += 1;
      response.write(`data: event ${sent}\n\n`);
      if (sent === 3) response.end();
      else setTimeout(write, EVENT_GAP_MS);
    };
    write();
  });
});

afterAll(async () => {
  await server.close();
});

function serverPort(): number {
  return Number(server.url.port);
}

function fromLabels(flushInterval: string): ProviderConfig {
  const labels = {
    'traefik.http.routers.app.rule': 'PathPrefix(`/`)',
    'traefik.http.routers.app.entrypoints': 'web',
    'traefik.http.services.app.loadbalancer.server.port': String(serverPort()),
    'traefik.http.services.app.loadbalancer.responseforwarding.flushinterval': flushInterval,
  };
  const app = container('app', labels, { networks: [{ name: 'app_default', ipAddress: LOOPBACK }], exposedPorts: [serverPort()] });
  return buildProviderConfig([app], defaultOptions);
}

function fromFile(flushInterval: string): ProviderConfig {
  const text = [
    'http:',
    '  routers:',
    '    app:',
    '      rule: PathPrefix(`/`)',
    '      entryPoints: [web]',
    '      service: app',
    '  services:',
    '    app:',
    '      loadBalancer:',
    `        servers: [{ url: "http://${LOOPBACK}:${serverPort()}" }]`,
    '        responseForwarding:',
    `          flushInterval: ${flushInterval}`,
  ].join('\n');
  const result = parseDynamicText(text, '/etc/berth/dynamic.yml');
  if (result.items === undefined) throw new Error(result.error);
  return toProviderConfig(result.items);
}

describe.each([
  { source: 'labels', build: fromLabels, values: ['-1', '-1ms', '-1s', '100ms'] },
  // YAML reads an unquoted -1 as a number, and a quoted one as a string.
  { source: 'file', build: fromFile, values: ['-1', '-1ms', '"-1ms"', "'-1'", '100ms'] },
])('flushInterval from $source', ({ build, values }) => {
  test.each(values)('%s keeps the service', (flushInterval) => {
    const config = build(flushInterval);

    expect(config.services.app?.errors).toEqual([]);
    expect(config.routers.app?.errors).toEqual([]);
  });

  test('-1 streams each event at once', async () => {
    const config = build('-1');
    const berth = await startInProcessBerth({ servers: [], providerConfig: config });
    const client = await RawClient.connect(berth.port);
    client.write('GET /events HTTP/1.1\r\nHost: app.example.test\r\n\r\n');

    try {
      const started = performance.now();
      await client.waitFor(/data: event 1\n\n/, EVENT_GAP_MS);
      const firstMs = performance.now() - started;
      await client.waitFor(/data: event 2\n\n/, 2 * EVENT_GAP_MS);
      const secondMs = performance.now() - started;

      expect(client.received).toMatch(/^HTTP\/1\.1 200 /);
      expect(firstMs).toBeLessThan(EVENT_GAP_MS);
      expect(client.received).not.toContain('event 3');
      expect(secondMs).toBeGreaterThanOrEqual(EVENT_GAP_MS - 50);
    } finally {
      client.socket.destroy();
      await berth.close();
    }
  });
});
