import { describe, expect, test } from 'vitest';

import { addresses, load, loadError } from './helpers.js';

describe('defaults', () => {
  test('no arguments: web and Docker', async () => {
    const config = await load();

    expect(addresses(config)).toEqual({ web: { address: ':80', host: '', port: 80 } });
    expect(config.providers.docker).toEqual({
      endpoint: 'unix:///var/run/docker.sock',
      exposedByDefault: true,
      defaultRule: 'Host(`{{ normalize .Name }}`)',
      labelPrefix: 'traefik',
      allowEmptyServices: false,
    });
    expect(config.api).toBeUndefined();
    expect(config.ping).toBeUndefined();
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    expect(config.internalEntryPoint).toBe('berth');
    expect(config.configFile).toBeUndefined();
  });

  test('pretty log format on terminal', async () => {
    const config = await load({ isTTY: true });
    expect(config.log.format).toBe('pretty');
  });

  test('docker endpoint defaults to DOCKER_HOST', async () => {
    const config = await load({ env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' } });
    expect(config.providers.docker?.endpoint).toBe('tcp://127.0.0.1:2375');
  });

  test('empty DOCKER_HOST is ignored', async () => {
    const config = await load({ env: { DOCKER_HOST: '' } });
    expect(config.providers.docker?.endpoint).toBe('unix:///var/run/docker.sock');
  });

  test('endpoint flag overrides DOCKER_HOST', async () => {
    const config = await load({
      argv: ['--providers.docker.endpoint=unix:///run/other.sock'],
      env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' },
    });
    expect(config.providers.docker?.endpoint).toBe('unix:///run/other.sock');
  });

  test('invalid DOCKER_HOST is named', async () => {
    const error = await loadError({ env: { DOCKER_HOST: 'ssh://user@127.0.0.1' } });
    expect(error.message).toContain('"ssh://user@127.0.0.1" for DOCKER_HOST');
    expect(error.message).toContain('unix:///PATH');
  });

  test('DOCKER_HOST unused when Docker off', async () => {
    const config = await load({ argv: ['--providers.docker=false'], env: { DOCKER_HOST: 'ssh://user@127.0.0.1' } });
    expect(config.providers.docker).toBeUndefined();
  });

  test('api defaults once enabled', async () => {
    const config = await load({ argv: ['--api'] });
    expect(config.api).toEqual({ insecure: false, dashboard: true });
    // Without insecure, the API needs a router, so no internal entry point is added.
    expect(Object.keys(config.entryPoints)).toEqual(['web']);
  });

  test('ping defaults once enabled', async () => {
    const config = await load({ argv: ['--ping'] });
    expect(config.ping).toEqual({ entryPoint: 'berth' });
    expect(addresses(config).berth).toEqual({ address: ':8080', host: '', port: 8080 });
  });
});

describe('providers', () => {
  test('docker options alone enable docker', async () => {
    const config = await load({ argv: ['--providers.docker.exposedbydefault=false'] });
    expect(config.providers.docker?.exposedByDefault).toBe(false);
  });

  test('explicit false keeps docker off', async () => {
    const config = await load({ argv: ['--providers.docker=false'] });
    expect(config.providers).toEqual({});
  });

  test('false toggle drops lower options', async () => {
    const config = await load({
      argv: ['--providers.docker=false'],
      env: { BERTH_PROVIDERS_DOCKER_NETWORK: 'proxy' },
    });
    expect(config.providers.docker).toBeUndefined();
  });

  test('option flag overrides env toggle', async () => {
    const config = await load({
      argv: ['--providers.docker.network=proxy'],
      env: { BERTH_PROVIDERS_DOCKER: 'false' },
    });
    expect(config.providers.docker?.network).toBe('proxy');
  });

  test('empty network means none', async () => {
    const config = await load({ argv: ['--providers.docker.network='] });
    expect(config.providers.docker).toBeDefined();
    expect(config.providers.docker?.network).toBeUndefined();
  });

  test('label prefix is lower-cased', async () => {
    const config = await load({ argv: ['--providers.docker.labelprefix=Berth'] });
    expect(config.providers.docker?.labelPrefix).toBe('berth');
  });

  test('invalid label prefix is rejected', async () => {
    const error = await loadError({ argv: ['--providers.docker.labelprefix=my prefix'] });
    expect(error.message).toContain('"my prefix" for --providers.docker.labelprefix');
  });

  test('allowEmptyServices and defaultRule are read', async () => {
    const config = await load({
      argv: ['--providers.docker.allowEmptyServices', '--providers.docker.defaultRule=Host(`{{ .Name }}.localhost`)'],
    });
    expect(config.providers.docker?.allowEmptyServices).toBe(true);
    expect(config.providers.docker?.defaultRule).toBe('Host(`{{ .Name }}.localhost`)');
  });

  test('empty default rule is rejected', async () => {
    const error = await loadError({ argv: ['--providers.docker.defaultrule='] });
    expect(error.message).toBe('Invalid value "" for --providers.docker.defaultrule: the value is empty.');
  });
});

describe('entry points', () => {
  test('configured entry points replace web', async () => {
    const config = await load({ argv: ['--entrypoints.websecure.address=:443'] });
    expect(Object.keys(config.entryPoints)).toEqual(['websecure']);
  });

  test('insecure api adds berth on :8080', async () => {
    const config = await load({ argv: ['--api.insecure'] });
    expect(config.api).toEqual({ insecure: true, dashboard: true });
    expect(Object.keys(config.entryPoints).sort()).toEqual(['berth', 'web']);
    expect(config.entryPoints.berth?.port).toBe(8080);
  });

  test('traefik alias sets the internal address', async () => {
    const config = await load({ argv: ['--entrypoints.traefik.address=:9000', '--api.insecure'] });
    expect(addresses(config)).toEqual({ berth: { address: ':9000', host: '', port: 9000 } });
  });

  test('traefik alias in ping entry point', async () => {
    const config = await load({ argv: ['--ping.entrypoint=traefik'] });
    expect(config.ping?.entryPoint).toBe('berth');
  });

  test('ping elsewhere adds no berth', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=:80', '--ping.entryPoint=web'] });
    expect(Object.keys(config.entryPoints)).toEqual(['web']);
    expect(config.ping?.entryPoint).toBe('web');
  });

  test('ping on unknown entry point', async () => {
    const error = await loadError({ argv: ['--ping.entrypoint=health'] });
    expect(error.message).toBe(
      'Invalid value "health" for --ping.entrypoint: no entry point is named health; the entry points are web.',
    );
  });

  test('entry point names are lower-cased', async () => {
    const config = await load({ argv: ['--entryPoints.WebSecure.address=:443'] });
    expect(Object.keys(config.entryPoints)).toEqual(['websecure']);
  });

  test('shared port is rejected', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address=:8080', '--api.insecure'] });
    expect(error.message).toContain('Entry points berth (:8080, from the default of entry point berth)');
    expect(error.message).toContain('web (:8080, from --entrypoints.web.address) both listen on port 8080');
  });

  test('same port, distinct hosts allowed', async () => {
    const config = await load({
      argv: ['--entrypoints.a.address=127.0.0.1:80', '--entrypoints.b.address=127.0.0.2:80'],
    });
    expect(Object.keys(config.entryPoints).sort()).toEqual(['a', 'b']);
  });

  test('wildcard host overlaps a specific host', async () => {
    const error = await loadError({
      argv: ['--entrypoints.a.address=127.0.0.1:80', '--entrypoints.b.address=:80'],
    });
    expect(error.message).toContain('both listen on port 80');
  });

  test('invalid entry point name is rejected', async () => {
    const error = await loadError({ argv: ['--entrypoints.-web.address=:80'] });
    expect(error.message).toContain('"-web" is not a valid name');
  });
});

describe('global options', () => {
  test('Traefik global flags are accepted', async () => {
    const config = await load({ argv: ['--global.checkNewVersion=false', '--global.sendAnonymousUsage=false'] });
    expect(config).not.toHaveProperty('global');
  });
});
