// Entry point options beyond the address, and the static serversTransport, in Traefik's names.
import { describe, expect, test } from 'vitest';

import { load, loadError } from './helpers.js';

describe('entry point options', () => {
  test('defaults match Traefik', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=:80'] });
    const web = config.entryPoints.web;

    expect(web?.forwardedHeaders).toEqual({ trustedIPs: [], insecure: false });
    expect(web?.transport).toEqual({
      respondingTimeouts: { readTimeoutMs: 60_000, writeTimeoutMs: 0, idleTimeoutMs: 180_000 },
      lifeCycle: { graceTimeOutMs: 10_000 },
      keepAliveMaxRequests: 0,
      keepAliveMaxTimeMs: 0,
    });
    // Traefik allows 1 MiB of request head, Berth keeps Node.js's 16 KiB.
    expect(web?.http).toEqual({ maxHeaderBytes: 16_384 });
    expect(web?.http2).toEqual({ maxConcurrentStreams: 250, h2c: false });
  });

  test('maxHeaderBytes from a flag', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.http.maxheaderbytes=65536'] });
    expect(config.entryPoints.web?.http.maxHeaderBytes).toBe(65_536);
  });

  test('maxHeaderBytes out of range', async () => {
    await expect(load({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.http.maxheaderbytes=0'] })).rejects.toThrow(/maxheaderbytes/i);
    await expect(load({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.http.maxheaderbytes=99999999'] })).rejects.toThrow(/16777216/);
  });

  test('built-in entry points get defaults', async () => {
    const config = await load({ argv: ['--ping'] });
    expect(config.entryPoints.web?.transport.respondingTimeouts.idleTimeoutMs).toBe(180_000);
    expect(config.entryPoints.berth?.transport.lifeCycle.graceTimeOutMs).toBe(10_000);
  });

  test('trusted IPs as a comma list', async () => {
    const config = await load({
      argv: ['--entrypoints.web.address=:80', '--entrypoints.web.forwardedheaders.trustedips=10.0.0.0/8, 192.168.1.7,fd00::/8'],
    });
    expect(config.entryPoints.web?.forwardedHeaders.trustedIPs).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
  });

  test.each([
    { desc: 'not an address', value: 'proxy.local', reason: 'is not an IP address or CIDR range' },
    { desc: 'prefix too long', value: '10.0.0.0/33', reason: 'has an invalid prefix length; use a number from 0 to 32' },
    { desc: 'IPv6 prefix too long', value: '::1/129', reason: 'from 0 to 128' },
    { desc: 'empty prefix', value: '10.0.0.0/', reason: 'has an invalid prefix length' },
  ])('invalid trusted IPs: $desc', async ({ value, reason }) => {
    const error = await loadError({ argv: ['--entrypoints.web.address=:80', `--entrypoints.web.forwardedheaders.trustedips=${value}`] });
    expect(error.message).toContain('--entrypoints.web.forwardedheaders.trustedips');
    expect(error.message).toContain(reason);
  });

  test('insecure as a bare flag', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.forwardedheaders.insecure'] });
    expect(config.entryPoints.web?.forwardedHeaders.insecure).toBe(true);
  });

  test.each([
    { value: '5s', ms: 5_000 },
    { value: '1m', ms: 60_000 },
    { value: '90', ms: 90_000 },
    { value: '1m30s', ms: 90_000 },
    { value: '0', ms: 0 },
    { value: '250ms', ms: 250 },
  ])('durations: $value', async ({ value, ms }) => {
    const config = await load({ argv: ['--entrypoints.web.address=:80', `--entrypoints.web.transport.respondingtimeouts.readtimeout=${value}`] });
    expect(config.entryPoints.web?.transport.respondingTimeouts.readTimeoutMs).toBe(ms);
  });

  test('invalid duration is named', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.lifecycle.gracetimeout=soon'] });
    expect(error.message).toContain('"soon" for --entrypoints.web.transport.lifecycle.gracetimeout');
  });

  test('YAML uses Traefik camelCase', async () => {
    const yaml = [
      'entryPoints:',
      '  websecure:',
      '    address: ":443"',
      '    transport:',
      '      respondingTimeouts:',
      '        readTimeout: 30s',
      '        writeTimeout: 1m',
      '        idleTimeout: 2m',
      '      lifeCycle:',
      '        graceTimeOut: 3s',
      '    forwardedHeaders:',
      '      trustedIPs: "127.0.0.1/32"',
      '    http:',
      '      tls: {}',
      '    http2:',
      '      maxConcurrentStreams: 100',
      '',
    ].join('\n');
    const config = await load({ files: { 'berth.yaml': yaml } });
    const websecure = config.entryPoints.websecure;

    expect(websecure?.transport.respondingTimeouts).toEqual({ readTimeoutMs: 30_000, writeTimeoutMs: 60_000, idleTimeoutMs: 120_000 });
    expect(websecure?.transport.lifeCycle.graceTimeOutMs).toBe(3_000);
    expect(websecure?.forwardedHeaders.trustedIPs).toEqual(['127.0.0.1/32']);
    expect(websecure?.http.tls).toEqual({});
    expect(websecure?.http2.maxConcurrentStreams).toBe(100);
  });

  test('http.tls toggled by a flag', async () => {
    const on = await load({ argv: ['--entrypoints.websecure.address=:443', '--entrypoints.websecure.http.tls=true'] });
    expect(on.entryPoints.websecure?.http.tls).toEqual({});

    const bare = await load({ argv: ['--entrypoints.websecure.address=:443', '--entrypoints.websecure.http.tls'] });
    expect(bare.entryPoints.websecure?.http.tls).toEqual({});

    const off = await load({ argv: ['--entrypoints.websecure.address=:443', '--entrypoints.websecure.http.tls=false'] });
    expect(off.entryPoints.websecure?.http.tls).toBeUndefined();
  });

  test('h2c and streams from environment', async () => {
    const config = await load({
      env: {
        BERTH_ENTRYPOINTS_WEB_ADDRESS: ':80',
        BERTH_ENTRYPOINTS_WEB_HTTP2_H2C: 'true',
        BERTH_ENTRYPOINTS_WEB_HTTP2_MAXCONCURRENTSTREAMS: '16',
      },
    });
    expect(config.entryPoints.web?.http2).toEqual({ maxConcurrentStreams: 16, h2c: true });
  });

  test('zero streams rejected', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.http2.maxconcurrentstreams=0'] });
    expect(error.message).toContain('--entrypoints.web.http2.maxconcurrentstreams');
  });

  test.each(['4294967296', '99999999999', '99999999999999999999999'])('streams above 2^32-1 rejected: %s', async (value) => {
    const error = await loadError({ argv: ['--entrypoints.web.address=:80', `--entrypoints.web.http2.maxconcurrentstreams=${value}`] });
    expect(error.message).toContain('--entrypoints.web.http2.maxconcurrentstreams');
    expect(error.message).toContain(value);
    expect(error.message).toContain('from 1 to 4294967295');
  });

  test('streams of 2^32-1 accepted', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.http2.maxconcurrentstreams=4294967295'] });
    expect(config.entryPoints.web?.http2.maxConcurrentStreams).toBe(4_294_967_295);
  });
});

describe('serversTransport', () => {
  test('defaults match Traefik', async () => {
    const config = await load();
    expect(config.serversTransport).toEqual({
      forwardingTimeouts: { dialTimeoutMs: 30_000, responseHeaderTimeoutMs: 0, idleConnTimeoutMs: 90_000 },
    });
  });

  test('forwarding timeouts from flags', async () => {
    const config = await load({
      argv: [
        '--serverstransport.forwardingtimeouts.dialtimeout=2s',
        '--serverstransport.forwardingtimeouts.responseheadertimeout=2s',
        '--serverstransport.forwardingtimeouts.idleconntimeout=500ms',
      ],
    });
    expect(config.serversTransport.forwardingTimeouts).toEqual({ dialTimeoutMs: 2_000, responseHeaderTimeoutMs: 2_000, idleConnTimeoutMs: 500 });
  });
});
