// The `http` section of entry points: the TLS settings that every router on an entry point
// inherits (`http.tls.certResolver`, `options`, `domains[n]`), and the redirection of every
// request to another entry point (`http.redirections.entryPoint`).

import type * as z from 'zod';

import { ConfigError, invalidValueMessage } from './errors.js';
import { flagStyle } from './key-names.js';
import type { Setting } from './merge.js';
import type { StaticOptions, entryPointOptionsSchema } from './schema.js';
import type { EntryPointConfig, EntryPointRedirectionConfig, EntryPointTlsConfig } from './types.js';
import { Rejected, normalizeName } from './values.js';
import { getOwn } from '../dictionary.js';

type EntryPointHttpOptions = z.output<typeof entryPointOptionsSchema>['http'];

/** Builds an entry point's `http.tls` settings; `domains` items are ordered by their index. */
export function entryPointTlsConfig(name: string, tls: NonNullable<EntryPointHttpOptions['tls']>): EntryPointTlsConfig {
  const config: EntryPointTlsConfig = {};
  if (tls.certResolver !== undefined) config.certResolver = tls.certResolver;
  if (tls.options !== undefined) config.options = tls.options;
  if (tls.domains === undefined) return config;

  const path = ['entryPoints', name, 'http', 'tls', 'domains'];
  const indexed = Object.entries(tls.domains).map(([index, domain]) => {
    if (!/^[0-9]+$/.test(index)) {
      throw new ConfigError(`Invalid option ${flagStyle.path([...path, index])}: domains are numbered, as in ${flagStyle.path(path)}[0].main.`, {
        option: flagStyle.path([...path, index]),
      });
    }
    return { index: Number(index), domain: { main: domain.main, sans: domain.sans ?? [] } };
  });
  config.domains = indexed.sort((a, b) => a.index - b.index).map((item) => item.domain);
  return config;
}

/**
 * Sets `http.redirections` on every entry point that configures one, with the port of its
 * target. A target that names no entry point, or the entry point itself, stops Berth with the fix.
 */
export function applyRedirections(entryPoints: Record<string, EntryPointConfig>, options: StaticOptions, merged: ReadonlyMap<string, Setting>): void {
  for (const [name, entryPoint] of Object.entries(options.entryPoints ?? {})) {
    const redirection = entryPoint.http.redirections?.entryPoint;
    const config = getOwn(entryPoints, name);
    if (redirection === undefined || config === undefined) continue;

    const key = (option: string): string => `entryPoints.${name}.http.redirections.entryPoint.${option}`;
    const origin = (option: string) => merged.get(key(option))?.origin ?? { label: flagStyle.path(key(option).split('.')) };
    const fail = (option: string, value: unknown, reason: string): never => {
      const { label } = origin(option);
      throw new ConfigError(invalidValueMessage({ label }, value, reason), { option: label, value: String(value) });
    };

    const scheme = redirection.scheme.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') fail('scheme', redirection.scheme, 'allowed values are https and http');

    const settings: EntryPointRedirectionConfig = {
      to: redirection.to,
      port: redirectPort(name, redirection.to, entryPoints, (reason) => fail('to', redirection.to, reason)),
      scheme: scheme as 'http' | 'https',
      permanent: redirection.permanent,
      priority: redirection.priority,
    };
    config.http.redirections = { entryPoint: settings };
  }
}

/** Returns the port of `to`: an entry point's port, or the number of `:PORT`. */
function redirectPort(from: string, to: string, entryPoints: Record<string, EntryPointConfig>, fail: (reason: string) => never): number {
  const portForm = /^:([0-9]{1,5})$/.exec(to.trim());
  if (portForm) {
    const port = Number(portForm[1]);
    if (port < 1 || port > 65535) fail('the port must be a number from 1 to 65535, as in :443');
    return port;
  }

  const name = normalizeName(to.trim());
  if (name instanceof Rejected) fail(`write an entry point name or a port such as :443; ${name.reason}`);
  const target = getOwn(entryPoints, name as string);
  const names = Object.keys(entryPoints).filter((candidate) => candidate !== from).sort();
  if (target === undefined) fail(`no entry point is named ${to}; use one of ${names.join(', ') || '(none)'}, or a port such as :443`);
  if (name === from) fail('an entry point cannot redirect to itself; name another entry point, such as websecure');
  return (target as EntryPointConfig).port;
}
