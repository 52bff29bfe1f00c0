import { describe, expect, test } from 'vitest';

import { addresses, load, loadError } from './helpers.js';

describe('flag forms', () => {
  test('equals form', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=127.0.0.1:8080'] });
    expect(addresses(config).web).toEqual({ address: '127.0.0.1:8080', host: '127.0.0.1', port: 8080 });
  });

  test('space form', async () => {
    const config = await load({ argv: ['--entrypoints.web.address', ':8000', '--log.level', 'debug'] });
    expect(config.entryPoints.web?.port).toBe(8000);
    expect(config.log.level).toBe('debug');
  });

  test('camelCase keys as Traefik documents them', async () => {
    const config = await load({ argv: ['--entryPoints.web.address=:81', '--providers.docker.exposedByDefault=false'] });
    expect(config.entryPoints.web?.port).toBe(81);
    expect(config.providers.docker?.exposedByDefault).toBe(false);
  });

  test('keys in any case', async () => {
    const config = await load({ argv: ['--LOG.LEVEL=warn', '--Providers.Docker.LabelPrefix=berth'] });
    expect(config.log.level).toBe('warn');
    expect(config.providers.docker?.labelPrefix).toBe('berth');
  });

  test('repeated flag takes the last value', async () => {
    const config = await load({ argv: ['--log.level=debug', '--log.level=error'] });
    expect(config.log.level).toBe('error');
  });

  test('value may contain "="', async () => {
    const config = await load({ argv: ['--providers.docker.defaultrule=Header(`X`, `a=b`)'] });
    expect(config.providers.docker?.defaultRule).toBe('Header(`X`, `a=b`)');
  });
});

describe('boolean flags', () => {
  const cases: Array<{ desc: string; argv: string[]; insecure: boolean }> = [
    { desc: 'alone means true', argv: ['--api.insecure'], insecure: true },
    { desc: '=true', argv: ['--api.insecure=true'], insecure: true },
    { desc: '=false', argv: ['--api.insecure=false'], insecure: false },
    { desc: '=TRUE in upper case', argv: ['--api.insecure=TRUE'], insecure: true },
    { desc: 'space form true', argv: ['--api.insecure', 'true'], insecure: true },
    { desc: 'space form false', argv: ['--api.insecure', 'false'], insecure: false },
  ];
  for (const { desc, argv, insecure } of cases) {
    test(desc, async () => {
      const config = await load({ argv });
      expect(config.api?.insecure).toBe(insecure);
    });
  }

  test('alone before another flag', async () => {
    const config = await load({ argv: ['--api.insecure', '--ping', '--providers.docker', '--log.level=debug'] });
    expect(config.api?.insecure).toBe(true);
    expect(config.ping).toEqual({ entryPoint: 'berth' });
    expect(config.providers.docker).toBeDefined();
    expect(config.log.level).toBe('debug');
  });

  test('toggle with =false', async () => {
    const config = await load({ argv: ['--ping=false', '--api=false'] });
    expect(config.ping).toBeUndefined();
    expect(config.api).toBeUndefined();
  });

  test('other boolean values are rejected', async () => {
    const error = await loadError({ argv: ['--api.insecure=yes'] });
    expect(error.message).toBe('Invalid value "yes" for --api.insecure: allowed values are true and false (or 1 and 0).');
    expect(error.option).toBe('--api.insecure');
    expect(error.value).toBe('yes');
  });

  test('bad toggle value is rejected', async () => {
    const error = await loadError({ argv: ['--providers.docker=2'] });
    expect(error.message).toBe('Invalid value "2" for --providers.docker: allowed values are true and false (or 1 and 0).');
  });

  test('boolean flag skips non-boolean argument', async () => {
    const error = await loadError({ argv: ['--api.insecure', 'yes'] });
    expect(error.message).toContain('Unexpected argument "yes"');
  });
});

describe('flag errors', () => {
  test('unknown flag suggests the closest', async () => {
    const error = await loadError({ argv: ['--entrypoint.web.address=:80'] });
    expect(error.message).toBe('Unknown flag "--entrypoint.web.address=:80": did you mean --entrypoints.web.address?');
    expect(error.option).toBe('--entrypoint.web.address');
    expect(error.value).toBe(':80');
  });

  test('misspelled last key suggests the closest', async () => {
    const error = await loadError({ argv: ['--providers.docker.exposedbydefaults=false'] });
    expect(error.message).toContain('did you mean --providers.docker.exposedbydefault?');
  });

  test('swapped letters suggest the closest', async () => {
    const error = await loadError({ argv: ['--providers.dokcer'] });
    expect(error.message).toContain('did you mean --providers.docker?');
  });

  test('unknown option lists section options', async () => {
    const error = await loadError({ argv: ['--providers.docker.images.pull=true'] });
    expect(error.message).toBe(
      'Unknown flag "--providers.docker.images.pull=true": --providers.docker has no option "images"; ' +
        'its options are endpoint, exposedbydefault, defaultrule, network, labelprefix, allowemptyservices.',
    );
  });

  test('unrelated unknown flag gets no suggestion', async () => {
    const error = await loadError({ argv: ['--foo'] });
    expect(error.message).not.toContain('did you mean');
    expect(error.message).toContain('the top-level keys are');
  });

  test('option under an option is unknown', async () => {
    const error = await loadError({ argv: ['--log.level.default=info'] });
    expect(error.message).toContain('--log.level is an option and has no option "default" under it.');
  });

  test('section flag is rejected', async () => {
    const error = await loadError({ argv: ['--entrypoints.web=:80'] });
    expect(error.message).toBe(
      'Flag --entrypoints.web names a group of options, not an option: set one of its options, such as --entrypoints.web.address.',
    );
  });

  test('missing value is rejected', async () => {
    const error = await loadError({ argv: ['--log.level'] });
    expect(error.message).toBe('Flag --log.level needs a value: write --log.level=VALUE or --log.level VALUE.');
  });

  test('flag never taken as value', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address', '--api.insecure'] });
    expect(error.message).toContain('Flag --entrypoints.web.address needs a value');
  });

  test('single-dash flag is rejected', async () => {
    const error = await loadError({ argv: ['-entrypoints.web.address=:80'] });
    expect(error.message).toContain('Unknown flag "-entrypoints.web.address=:80": Berth\'s options start with "--"');
  });

  test('positional argument is rejected', async () => {
    const error = await loadError({ argv: ['run'] });
    expect(error.message).toBe('Unexpected argument "run": options are written --KEY=VALUE or --KEY VALUE.');
  });
});

describe('flag values', () => {
  test('bad address names flag and value', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address=80'] });
    expect(error.message).toBe(
      'Invalid value "80" for --entrypoints.web.address: the address has no host part; write ":80" to listen on port 80 on all interfaces.',
    );
  });

  test('address without port', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address=localhost'] });
    expect(error.message).toBe(
      'Invalid value "localhost" for --entrypoints.web.address: the address has no port; write "localhost:PORT", or ":PORT" for all interfaces.',
    );
  });

  test('bad log level lists the levels', async () => {
    const error = await loadError({ argv: ['--log.level=verbose'] });
    expect(error.message).toBe(
      'Invalid value "verbose" for --log.level: allowed values are debug, info, warn and error, in any case.',
    );
  });

  test('log level in any case', async () => {
    const config = await load({ argv: ['--log.level=DEBUG'] });
    expect(config.log.level).toBe('debug');
  });

  test('bad log format lists the formats', async () => {
    const error = await loadError({ argv: ['--log.format=common'] });
    expect(error.message).toBe(
      'Invalid value "common" for --log.format: allowed values are json and pretty; Traefik\'s "common" format is not supported, so use pretty.',
    );
  });

  test('bad endpoint lists the forms', async () => {
    const error = await loadError({ argv: ['--providers.docker.endpoint=npipe:////./pipe/docker_engine'] });
    expect(error.message).toBe(
      'Invalid value "npipe:////./pipe/docker_engine" for --providers.docker.endpoint: ' +
        'allowed forms are unix:///PATH, tcp://HOST:PORT, http://HOST[:PORT] and https://HOST[:PORT].',
    );
  });
});

describe('Go boolean spellings', () => {
  test('1 and 0 are accepted as in Go', async () => {
    const on = await load({ argv: ['--ping=1'] });
    expect(on.ping).toBeDefined();
    const off = await load({ argv: ['--api.insecure=0'] });
    expect(off.api?.insecure ?? false).toBe(false);
  });
});
