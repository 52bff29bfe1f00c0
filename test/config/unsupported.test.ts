// Traefik options that Berth does not implement stop it with a message that states this and names
// what to use instead. Before, `--accesslog` and `--metrics.prometheus` failed with "Unknown
// flag" and a list of top-level keys, as if the user had mistyped an option.

import { describe, expect, test } from 'vitest';

import { findUnsupportedOption } from '../../src/config/unsupported.js';
import { load, loadError } from './helpers.js';

describe('unsupported Traefik flags', () => {
  const cases: Array<{ desc: string; argv: string[]; label: string; advice: string }> = [
    { desc: 'access log toggle', argv: ['--accesslog'], label: '--accesslog', advice: '--log.level=debug' },
    { desc: 'access log option', argv: ['--accesslog.format=json'], label: '--accesslog.format', advice: '--log.level=debug' },
    { desc: 'prometheus metrics', argv: ['--metrics.prometheus=true'], label: '--metrics.prometheus', advice: '/api/overview' },
    { desc: 'camelCase spelling', argv: ['--accessLog.filePath=/var/log/access.log'], label: '--accessLog.filePath', advice: 'Berth writes no access log yet' },
    { desc: 'proxy protocol', argv: ['--entrypoints.web.proxyprotocol.trustedips=10.0.0.0/8'], label: '--entrypoints.web.proxyprotocol.trustedips', advice: 'forwardedheaders.trustedips' },
    { desc: 'entry point middlewares', argv: ['--entrypoints.web.http.middlewares=auth@docker'], label: '--entrypoints.web.http.middlewares', advice: 'routers.<router>.middlewares' },
    { desc: 'skipping certificate checks', argv: ['--serverstransport.insecureskipverify=true'], label: '--serverstransport.insecureskipverify', advice: 'NODE_EXTRA_CA_CERTS' },
    { desc: 'docker constraints', argv: ['--providers.docker.constraints=Label(`a`,`b`)'], label: '--providers.docker.constraints', advice: 'exposedbydefault=false' },
    { desc: 'log file', argv: ['--log.filepath=/var/log/berth.log'], label: '--log.filepath', advice: 'stdout' },
    { desc: 'another provider', argv: ['--providers.kubernetescrd'], label: '--providers.kubernetescrd', advice: 'docker and file providers' },
  ];
  for (const { desc, argv, label, advice } of cases) {
    test(desc, async () => {
      const error = await loadError({ argv });

      expect(error.message).toContain(`${label} is a Traefik option that Berth does not support yet.`);
      expect(error.message).toContain(advice);
      expect(error.message).not.toContain('Unknown flag');
      expect(error.option).toBe(label);
    });
  }

  test('flag value is kept for the caller', async () => {
    const error = await loadError({ argv: ['--metrics.prometheus.entrypoint=metrics'] });
    expect(error.value).toBe('metrics');
  });

  test('misspelled option still gets a suggestion', async () => {
    const error = await loadError({ argv: ['--acceslog.level=debug'] });
    expect(error.message).toContain('Unknown flag');
  });

  test('supported options still load', async () => {
    const config = await load({ argv: ['--log.level=debug', '--ping'] });
    expect(config.log.level).toBe('debug');
  });
});

describe('unsupported Traefik options in other sources', () => {
  test('environment variable', async () => {
    const error = await loadError({ env: { TRAEFIK_ACCESSLOG: 'true' } });
    expect(error.message).toContain('TRAEFIK_ACCESSLOG is a Traefik option that Berth does not support yet.');
    expect(error.option).toBe('TRAEFIK_ACCESSLOG');
  });

  test('environment variable with a two-part entry point name', async () => {
    const error = await loadError({ env: { TRAEFIK_ENTRYPOINTS_MY_WEB_PROXYPROTOCOL_INSECURE: 'true' } });
    expect(error.message).toContain('TRAEFIK_ENTRYPOINTS_MY_WEB_PROXYPROTOCOL_INSECURE is a Traefik option that Berth does not support yet.');
  });

  test('configuration file key', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log:\n  level: info\nmetrics:\n  prometheus: {}\n' } });
    expect(error.message).toContain('at line 3: metrics is a Traefik option that Berth does not support yet.');
    expect(error.message).toContain('/api/overview');
  });

  test('configuration file key under an entry point', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'entryPoints:\n  web:\n    address: ":80"\n    http:\n      middlewares: [auth@docker]\n' } });
    expect(error.message).toContain('entryPoints.web.http.middlewares is a Traefik option that Berth does not support yet.');
  });
});

describe('findUnsupportedOption', () => {
  test('section matches the options under it', () => {
    expect(findUnsupportedOption(['metrics', 'prometheus', 'buckets'])?.path).toEqual(['metrics']);
  });

  test('entry point name matches any name', () => {
    expect(findUnsupportedOption(['entryPoints', 'websecure', 'http3'])?.path).toEqual(['entrypoints', '*', 'http3']);
  });

  test('shorter key than the entry does not match', () => {
    expect(findUnsupportedOption(['entrypoints', 'web'])).toBeUndefined();
  });

  test('unrelated key does not match', () => {
    expect(findUnsupportedOption(['log', 'levle'])).toBeUndefined();
  });
});
