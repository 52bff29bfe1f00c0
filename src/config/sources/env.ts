// Environment variables in Traefik's form: the option path in upper case with `_` between keys,
// after a `BERTH_` or `TRAEFIK_` prefix (`BERTH_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT=false`).

import { ConfigError } from '../errors.js';
import { ENV_PREFIXES, type EnvPrefix, envStyle, explainUnknownKey } from '../key-names.js';
import { listOptions, resolveEnvKey } from '../option-tree.js';
import type { Setting } from '../merge.js';
import { rejectUnsupportedOption } from '../unsupported.js';

/**
 * Reads the variables that start with `BERTH_` or `TRAEFIK_` into settings. `TRAEFIK_` settings
 * come first, so a `BERTH_` variable for the same option overrides them when settings are merged.
 * A prefixed variable that names no option is an error, because it is most likely a misspelled
 * option that would otherwise be silently ignored.
 */
export function readEnvironment(env: Readonly<Record<string, string | undefined>>): Setting[] {
  const settings: Setting[] = [];
  const byPrecedence = [...ENV_PREFIXES].reverse();

  for (const prefix of byPrecedence) {
    // Sorted, so that among several bad variables the same one is always reported.
    const names = Object.keys(env)
      .filter((name) => name.startsWith(prefix))
      .sort();
    for (const name of names) {
      const value = env[name];
      if (value === undefined) continue;
      settings.push(readVariable(name, prefix, value));
    }
  }

  return settings;
}

function readVariable(name: string, prefix: EnvPrefix, value: string): Setting {
  const style = envStyle(prefix);
  const segments = name.slice(prefix.length).split('_');

  const resolution = resolveEnvKey(segments);
  if (!resolution.ok) {
    rejectUnsupportedOption(segments, name, value);
    const explanation = explainUnknownKey(segments, resolution.unresolved, style);
    throw new ConfigError(`Unknown environment variable ${name}: it starts with ${prefix} but names no option; ${explanation}`, {
      option: name,
      value,
    });
  }

  const { path, node } = resolution.key;
  const origin = { source: 'env' as const, label: name };
  if (node.kind === 'leaf') return { path, kind: 'value', value, origin };
  if (node.kind === 'section' && node.toggle) return { path, kind: 'toggle', value, origin };

  // An entry point name may take any number of segments, so `ENTRYPOINTS_WEB_PROXYPROTOCOL_INSECURE`
  // resolves to the entry point `web_proxyprotocol_insecure` and lands here.
  rejectUnsupportedOption(segments, name, value);
  const example = listOptions(node, path)[0];
  const hint = example === undefined ? '' : `, such as ${style.path(example.segments)}`;
  throw new ConfigError(`Environment variable ${name} names a group of options, not an option: set one of its options${hint}.`, {
    option: name,
    value,
  });
}
