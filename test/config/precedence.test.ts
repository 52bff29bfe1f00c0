import { describe, expect, test } from 'vitest';

import { load } from './helpers.js';

const FILE = `
entryPoints:
  web:
    address: ":8001"
log:
  level: error
  format: pretty
providers:
  docker:
    labelPrefix: fromfile
    exposedByDefault: false
`;

describe('precedence', () => {
  test('file overrides default', async () => {
    const config = await load({ files: { 'berth.yaml': FILE } });
    expect(config.log.level).toBe('error');
    expect(config.entryPoints.web?.port).toBe(8001);
  });

  test('env overrides file', async () => {
    const config = await load({ files: { 'berth.yaml': FILE }, env: { BERTH_LOG_LEVEL: 'warn' } });
    expect(config.log.level).toBe('warn');
  });

  test('flag overrides env and file', async () => {
    const config = await load({
      files: { 'berth.yaml': FILE },
      env: { BERTH_LOG_LEVEL: 'warn' },
      argv: ['--log.level=debug'],
    });
    expect(config.log.level).toBe('debug');
  });

  test('flag overrides TRAEFIK_ and BERTH_', async () => {
    const config = await load({
      env: { TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: ':8002', BERTH_ENTRYPOINTS_WEB_ADDRESS: ':8003' },
      argv: ['--entrypoints.web.address=:8004'],
    });
    expect(config.entryPoints.web?.port).toBe(8004);
  });

  test('env overrides only what it names', async () => {
    const config = await load({ files: { 'berth.yaml': FILE }, env: { BERTH_LOG_LEVEL: 'warn' } });
    expect(config.log.format).toBe('pretty');
    expect(config.providers.docker?.labelPrefix).toBe('fromfile');
    expect(config.providers.docker?.exposedByDefault).toBe(false);
  });

  test('flag overrides only what it names', async () => {
    const config = await load({ files: { 'berth.yaml': FILE }, argv: ['--providers.docker.labelprefix=fromflag'] });
    expect(config.providers.docker?.labelPrefix).toBe('fromflag');
    expect(config.providers.docker?.exposedByDefault).toBe(false);
    expect(config.log.level).toBe('error');
  });

  test('entry points of all sources kept', async () => {
    const config = await load({
      files: { 'berth.yaml': FILE },
      env: { BERTH_ENTRYPOINTS_ENV_ADDRESS: ':8005' },
      argv: ['--entrypoints.flag.address=:8006'],
    });
    expect(Object.keys(config.entryPoints).sort()).toEqual(['env', 'flag', 'web']);
  });

  test('flag toggle off overrides file section', async () => {
    const config = await load({ files: { 'berth.yaml': FILE }, argv: ['--providers.docker=false'] });
    expect(config.providers.docker).toBeUndefined();
  });

  test('env toggle off overrides file section', async () => {
    const config = await load({ files: { 'berth.yaml': FILE }, env: { BERTH_PROVIDERS_DOCKER: 'false' } });
    expect(config.providers.docker).toBeUndefined();
  });

  test('env option overrides file toggle', async () => {
    const config = await load({
      files: { 'berth.yaml': 'providers:\n  docker: false\n' },
      env: { BERTH_PROVIDERS_DOCKER_NETWORK: 'proxy' },
    });
    expect(config.providers.docker?.network).toBe('proxy');
  });

  test('flag overrides file ping entry point', async () => {
    const config = await load({
      files: { 'berth.yaml': 'entryPoints:\n  web:\n    address: ":80"\nping:\n  entryPoint: web\n' },
      argv: ['--ping.entrypoint=traefik'],
    });
    expect(config.ping?.entryPoint).toBe('berth');
    expect(config.entryPoints.berth?.port).toBe(8080);
  });

  test('flag replaces rejected file value', async () => {
    // Only the winning value is parsed, so a Traefik file with `format: common` works with a flag.
    const config = await load({ files: { 'traefik.yml': 'log:\n  format: common\n' }, argv: ['--log.format=json'] });
    expect(config.log.format).toBe('json');
  });
});
