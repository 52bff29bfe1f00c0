import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { loadStaticConfig } from '../../src/config/index.js';
import { addresses, load, loadError, temporaryDirectory } from './helpers.js';

const TRAEFIK_STYLE = `
entryPoints:
  web:
    address: ":8000"
  websecure:
    address: ":8443"
providers:
  docker:
    exposedByDefault: false
    network: proxy
api:
  insecure: true
ping: {}
log:
  level: DEBUG
`;

describe('file discovery', () => {
  test('berth.yaml in the working directory', async () => {
    const cwd = await temporaryDirectory({ 'berth.yaml': 'log:\n  level: warn\n' });
    const config = await loadStaticConfig({ argv: [], env: {}, cwd, isTTY: false });
    expect(config.log.level).toBe('warn');
    expect(config.configFile).toBe(join(cwd, 'berth.yaml'));
  });

  const order: Array<{ desc: string; files: string[]; expected: string }> = [
    { desc: 'berth.yaml before berth.yml', files: ['berth.yml', 'berth.yaml'], expected: 'berth.yaml' },
    { desc: 'berth.yml before traefik.yaml', files: ['traefik.yaml', 'berth.yml'], expected: 'berth.yml' },
    { desc: 'traefik.yaml before traefik.yml', files: ['traefik.yml', 'traefik.yaml'], expected: 'traefik.yaml' },
    { desc: 'traefik.yml alone', files: ['traefik.yml'], expected: 'traefik.yml' },
  ];
  for (const { desc, files, expected } of order) {
    test(desc, async () => {
      const cwd = await temporaryDirectory(Object.fromEntries(files.map((name) => [name, 'log:\n  level: warn\n'])));
      const config = await loadStaticConfig({ argv: [], env: {}, cwd, isTTY: false });
      expect(config.configFile).toBe(join(cwd, expected));
    });
  }

  test('--configfile relative to the working directory', async () => {
    const cwd = await temporaryDirectory({ 'other.yaml': 'log:\n  level: error\n', 'berth.yaml': 'log:\n  level: warn\n' });
    const config = await loadStaticConfig({ argv: ['--configFile', 'other.yaml'], env: {}, cwd, isTTY: false });
    expect(config.log.level).toBe('error');
    expect(config.configFile).toBe(join(cwd, 'other.yaml'));
  });

  test('--configfile flag wins over the variable', async () => {
    const config = await load({
      argv: ['--configfile=a.yaml'],
      env: { BERTH_CONFIGFILE: 'b.yaml' },
      files: { 'a.yaml': 'log:\n  level: error\n', 'b.yaml': 'log:\n  level: warn\n' },
    });
    expect(config.log.level).toBe('error');
  });

  test('missing --configfile is an error', async () => {
    const error = await loadError({ argv: ['--configfile=absent.yaml'] });
    expect(error.message).toMatch(/^Configuration file .*absent\.yaml, given by --configfile, does not exist\.$/);
  });

  test('empty --configfile is an error', async () => {
    const error = await loadError({ argv: ['--configfile='] });
    expect(error.message).toBe('Invalid value "" for --configfile: the value is empty; give the path of a YAML file.');
  });

  test('directory as --configfile is an error', async () => {
    const cwd = await temporaryDirectory();
    const error = await loadStaticConfig({ argv: [`--configfile=${cwd}`], env: {}, cwd, isTTY: false }).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain('is not a file');
  });

  test('traefik.toml alone asks for YAML', async () => {
    const error = await loadError({ files: { 'traefik.toml': '[log]\nlevel = "DEBUG"\n' } });
    expect(error.message).toMatch(/^Found .*traefik\.toml, but Berth reads YAML only: convert it to traefik\.yaml/);
  });

  test('traefik.toml ignored beside YAML', async () => {
    const config = await load({ files: { 'traefik.toml': 'x = 1', 'traefik.yml': 'log:\n  level: warn\n' } });
    expect(config.log.level).toBe('warn');
  });

  test('TOML --configfile is rejected', async () => {
    const error = await loadError({ argv: ['--configfile=traefik.toml'], files: { 'traefik.toml': '' } });
    expect(error.message).toBe(
      'Invalid value "traefik.toml" for --configfile: Berth reads YAML only; convert the file to YAML, whose keys are the same as in TOML.',
    );
  });
});

describe('file contents', () => {
  test('Traefik static YAML is read', async () => {
    const config = await load({ files: { 'traefik.yml': TRAEFIK_STYLE } });
    expect(addresses(config)).toEqual({
      web: { address: ':8000', host: '', port: 8000 },
      websecure: { address: ':8443', host: '', port: 8443 },
      berth: { address: ':8080', host: '', port: 8080 },
    });
    expect(config.providers.docker?.exposedByDefault).toBe(false);
    expect(config.providers.docker?.network).toBe('proxy');
    expect(config.api).toEqual({ insecure: true, dashboard: true });
    expect(config.ping).toEqual({ entryPoint: 'berth' });
    expect(config.log.level).toBe('debug');
  });

  test('keys in any case', async () => {
    const config = await load({
      files: { 'berth.yaml': 'ENTRYPOINTS:\n  Web:\n    Address: ":81"\nLog:\n  LEVEL: Warn\n' },
    });
    expect(addresses(config)).toEqual({ web: { address: ':81', host: '', port: 81 } });
    expect(config.log.level).toBe('warn');
  });

  test('empty toggle sections turn on', async () => {
    const config = await load({ files: { 'berth.yaml': 'ping:\napi: {}\n' } });
    expect(config.ping).toBeDefined();
    expect(config.api).toEqual({ insecure: false, dashboard: true });
  });

  test('boolean toggle in YAML', async () => {
    const config = await load({ files: { 'berth.yaml': 'providers:\n  docker: false\nping: true\n' } });
    expect(config.providers.docker).toBeUndefined();
    expect(config.ping).toBeDefined();
  });

  test('YAML booleans and quoted strings', async () => {
    const config = await load({
      files: { 'berth.yaml': 'providers:\n  docker:\n    exposedByDefault: "false"\n    allowEmptyServices: true\n' },
    });
    expect(config.providers.docker?.exposedByDefault).toBe(false);
    expect(config.providers.docker?.allowEmptyServices).toBe(true);
  });

  test('traefik entry point alias', async () => {
    const config = await load({ files: { 'berth.yaml': 'entryPoints:\n  traefik:\n    address: ":9000"\nping: {}\n' } });
    expect(addresses(config)).toEqual({ berth: { address: ':9000', host: '', port: 9000 } });
  });

  test('empty file gives defaults', async () => {
    const config = await load({ files: { 'berth.yaml': '# nothing here\n' } });
    expect(config.entryPoints.web?.port).toBe(80);
    expect(config.providers.docker).toBeDefined();
  });

  test('anchors and aliases are resolved', async () => {
    const config = await load({
      files: { 'berth.yaml': 'api:\n  insecure: &off false\n  dashboard: *off\n' },
    });
    expect(config.api).toEqual({ insecure: false, dashboard: false });
  });

  test('file providers off keeps docker off', async () => {
    const config = await load({ files: { 'berth.yaml': 'providers:\n  docker: false\n' } });
    expect(config.providers).toEqual({});
  });
});

describe('file errors', () => {
  test('invalid YAML names file and line', async () => {
    const cwd = await temporaryDirectory({ 'berth.yaml': 'log:\n  level: debug\n format: json\n' });
    const error = await loadStaticConfig({ argv: [], env: {}, cwd, isTTY: false }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      `Invalid YAML in ${join(cwd, 'berth.yaml')} at line 3, column 1: All mapping items must start at the same column`,
    );
  });

  test('tab indentation names the line', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log:\n\tlevel: debug\n' } });
    expect(error.message).toMatch(/berth\.yaml at line 2, column 1: Tabs are not allowed as indentation$/);
  });

  test('duplicate keys are invalid YAML', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log:\n  level: debug\n  level: info\n' } });
    expect(error.message).toMatch(/berth\.yaml at line 3, column 3: Map keys must be unique/);
  });

  test('unknown key names closest key', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log:\n  level: debug\nentryPoint:\n  web:\n    address: ":80"\n' } });
    expect(error.message).toMatch(/^Invalid configuration file .*berth\.yaml at line 3: unknown key entryPoint: did you mean entryPoints\?$/);
    expect(error.file).toMatch(/berth\.yaml$/);
  });

  test('unknown key lists section options', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'providers:\n  docker:\n    images: true\n' } });
    expect(error.message).toMatch(/at line 3: unknown key providers\.docker\.images: providers\.docker has no option "images"; its options are endpoint, exposedByDefault,/);
  });

  test('bad value names file line', async () => {
    const cwd = await temporaryDirectory({ 'berth.yaml': 'entryPoints:\n  web:\n    address: 80\n' });
    const error = await loadStaticConfig({ argv: [], env: {}, cwd, isTTY: false }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      `Invalid value "80" for entryPoints.web.address (${join(cwd, 'berth.yaml')}:3): ` +
        'the address has no host part; write ":80" to listen on port 80 on all interfaces.',
    );
  });

  test('bad log level in the file', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log:\n  level: VERBOSE\n' } });
    expect(error.message).toMatch(/^Invalid value "VERBOSE" for log\.level \(.*berth\.yaml:2\): allowed values are debug, info, warn and error/);
  });

  test('entry point without address', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'entryPoints:\n  web: {}\n' } });
    expect(error.message).toMatch(
      /^Missing option --entrypoints\.web\.address \(entryPoints\.web\.address in YAML\), which entryPoints\.web \(.*berth\.yaml:2\) needs\.$/,
    );
  });

  test('empty address value', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'entryPoints:\n  web:\n    address:\n' } });
    expect(error.message).toContain('Invalid value (empty) for entryPoints.web.address');
  });

  test('list where a value is expected', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log:\n  level: [debug]\n' } });
    expect(error.message).toMatch(/at line 2: log\.level must be a single value, not a list\.$/);
  });

  test('value where a section is expected', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'log: debug\n' } });
    expect(error.message).toMatch(/at line 1: log must be a mapping of options, not a single value\.$/);
  });

  test('top level must be a mapping', async () => {
    const error = await loadError({ files: { 'berth.yaml': '- a\n- b\n' } });
    expect(error.message).toMatch(/at line 1: berth\.yaml must contain a mapping of options/);
  });

  test('configFile inside the file is rejected', async () => {
    const error = await loadError({ files: { 'berth.yaml': 'configFile: other.yaml\n' } });
    expect(error.message).toMatch(/configFile cannot be set in the configuration file/);
  });
});
