// Entry point and certificate resolver names that are also properties of every JavaScript object.
// Before the fix, `--entrypoints.constructor.address=127.0.0.1:8099` stopped Berth with
// "TypeError: text.toLowerCase is not a function", and `--ping.entrypoint=constructor` passed the
// check for an existing entry point although none had that name.
import { describe, expect, it } from 'vitest';

import { load, loadError } from './helpers.js';

const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'] as const;

describe('static names that are object properties', () => {
  for (const [index, name] of NAMES.entries()) {
    const port = 8090 + index;

    it(`reads entry point ${name} from a flag`, async () => {
      const config = await load({ argv: [`--entrypoints.${name}.address=127.0.0.1:${port}`] });

      // Entry point names are compared in lower case, as in Traefik.
      expect(Object.keys(config.entryPoints)).toEqual([name.toLowerCase()]);
      expect(Object.hasOwn(config.entryPoints, name.toLowerCase())).toBe(true);
      expect(config.entryPoints[name.toLowerCase()]?.port).toBe(port);
    });

    it(`reads entry point ${name} from the file`, async () => {
      const config = await load({ files: { 'traefik.yml': `entryPoints:\n  ${name}:\n    address: "127.0.0.1:${port}"\n` } });

      expect(Object.keys(config.entryPoints)).toEqual([name.toLowerCase()]);
      expect(config.entryPoints[name.toLowerCase()]?.address).toBe(`127.0.0.1:${port}`);
    });
  }

  it('redirects to an entry point named prototype', async () => {
    const config = await load({
      argv: ['--entrypoints.constructor.address=:8099', '--entrypoints.constructor.http.redirections.entrypoint.to=prototype', '--entrypoints.prototype.address=:8443'],
    });

    expect(config.entryPoints['constructor']?.http.redirections?.entryPoint.to).toBe('prototype');
    expect(config.entryPoints['constructor']?.http.redirections?.entryPoint.port).toBe(8443);
  });

  it('rejects ping on missing constructor', async () => {
    const error = await loadError({ argv: ['--entrypoints.web.address=:80', '--ping.entrypoint=constructor'] });

    expect(error.message).toContain('no entry point is named constructor');
  });

  it('reads a certificate resolver named valueOf', async () => {
    const config = await load({
      argv: ['--entrypoints.web.address=:80', '--certificatesresolvers.valueOf.acme.email=a@example.test', '--certificatesresolvers.valueOf.acme.httpchallenge.entrypoint=web'],
    });

    expect(Object.keys(config.certificatesResolvers)).toEqual(['valueof']);
  });

  it('rejects entry point __proto__ by name rule', async () => {
    const error = await loadError({ argv: ['--entrypoints.__proto__.address=:80'] });

    expect(error.message).toContain('"__proto__" is not a valid');
  });
});
