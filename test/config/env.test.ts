import { describe, expect, test } from 'vitest';

import { load, loadError } from './helpers.js';

describe('environment variables', () => {
  test('BERTH_ variables set options', async () => {
    const config = await load({
      env: {
        BERTH_ENTRYPOINTS_WEB_ADDRESS: ':8000',
        BERTH_PROVIDERS_DOCKER_LABELPREFIX: 'berth',
        BERTH_API_INSECURE: 'true',
        BERTH_LOG_LEVEL: 'debug',
      },
    });
    expect(config.entryPoints.web?.port).toBe(8000);
    expect(config.providers.docker?.labelPrefix).toBe('berth');
    expect(config.api?.insecure).toBe(true);
    expect(config.log.level).toBe('debug');
  });

  test('TRAEFIK_ variables set options', async () => {
    const config = await load({
      env: { TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: ':8001', TRAEFIK_PING: 'true', TRAEFIK_LOG_LEVEL: 'ERROR' },
    });
    expect(config.entryPoints.web?.port).toBe(8001);
    expect(config.ping).toEqual({ entryPoint: 'berth' });
    expect(config.log.level).toBe('error');
  });

  test('BERTH_ wins over TRAEFIK_', async () => {
    const config = await load({ env: { TRAEFIK_LOG_LEVEL: 'error', BERTH_LOG_LEVEL: 'warn' } });
    expect(config.log.level).toBe('warn');
  });

  test('toggle variable enables docker', async () => {
    const config = await load({ env: { BERTH_PROVIDERS_DOCKER: 'true', BERTH_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT: 'false' } });
    expect(config.providers.docker?.exposedByDefault).toBe(false);
  });

  test('entry point names are lower-cased', async () => {
    const config = await load({ env: { BERTH_ENTRYPOINTS_WEBSECURE_ADDRESS: ':443' } });
    expect(Object.keys(config.entryPoints)).toEqual(['websecure']);
  });

  test('entry point name may contain "_"', async () => {
    const config = await load({ env: { BERTH_ENTRYPOINTS_MY_WEB_ADDRESS: ':8080' } });
    expect(Object.keys(config.entryPoints)).toEqual(['my_web']);
  });

  test('traefik alias names internal entry point', async () => {
    const config = await load({ env: { TRAEFIK_ENTRYPOINTS_TRAEFIK_ADDRESS: ':9000', TRAEFIK_API_INSECURE: 'true' } });
    expect(config.entryPoints.berth?.port).toBe(9000);
  });

  test('variables without the prefixes are ignored', async () => {
    const config = await load({ env: { PATH: '/usr/bin', HOME: '/root', LOG_LEVEL: 'nonsense', BERTHA: 'x' } });
    expect(config.log.level).toBe('info');
  });

  test('undefined values are skipped', async () => {
    const config = await load({ env: { BERTH_LOG_LEVEL: undefined } });
    expect(config.log.level).toBe('info');
  });

  test('configfile variable names the file', async () => {
    const config = await load({
      env: { BERTH_CONFIGFILE: 'custom.yaml' },
      files: { 'custom.yaml': 'log:\n  level: warn\n' },
    });
    expect(config.log.level).toBe('warn');
    expect(config.configFile).toMatch(/custom\.yaml$/);
  });
});

describe('environment errors', () => {
  test('unknown variable gets a suggestion', async () => {
    const error = await loadError({ env: { BERTH_ENTRYPOINT_WEB_ADDRESS: ':80' } });
    expect(error.message).toBe(
      'Unknown environment variable BERTH_ENTRYPOINT_WEB_ADDRESS: it starts with BERTH_ but names no option; ' +
        'did you mean BERTH_ENTRYPOINTS_WEB_ADDRESS?',
    );
    expect(error.option).toBe('BERTH_ENTRYPOINT_WEB_ADDRESS');
  });

  test('suggestion keeps the TRAEFIK_ prefix', async () => {
    const error = await loadError({ env: { TRAEFIK_API_INSECUR: 'true' } });
    expect(error.message).toContain('did you mean TRAEFIK_API_INSECURE?');
  });

  test('split camelCase gets a suggestion', async () => {
    const error = await loadError({ env: { BERTH_PROVIDERS_DOCKER_EXPOSED_BY_DEFAULT: 'false' } });
    expect(error.message).toContain('did you mean BERTH_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT?');
  });

  test('unrelated variable is rejected', async () => {
    const error = await loadError({ env: { BERTH_SOMETHING_ELSE: '1' } });
    expect(error.message).toContain('Unknown environment variable BERTH_SOMETHING_ELSE');
  });

  test('bad value names the variable', async () => {
    const error = await loadError({ env: { BERTH_LOG_LEVEL: 'loud' } });
    expect(error.message).toBe(
      'Invalid value "loud" for BERTH_LOG_LEVEL: allowed values are debug, info, warn and error, in any case.',
    );
  });

  test('empty boolean is rejected', async () => {
    const error = await loadError({ env: { BERTH_API_INSECURE: '' } });
    expect(error.message).toBe('Invalid value "" for BERTH_API_INSECURE: allowed values are true and false (or 1 and 0).');
  });

  test('group variable is rejected', async () => {
    const error = await loadError({ env: { BERTH_ENTRYPOINTS_WEB: ':80' } });
    expect(error.message).toBe(
      'Environment variable BERTH_ENTRYPOINTS_WEB names a group of options, not an option: ' +
        'set one of its options, such as BERTH_ENTRYPOINTS_WEB_ADDRESS.',
    );
  });
});
