// Command-line flags in Traefik's form: `--entrypoints.web.address=:80` or
// `--entrypoints.web.address :80`, with keys in any case. A boolean option or a toggle section
// given alone (`--api.insecure`, `--providers.docker`) means true.

import { ConfigError } from '../errors.js';
import { explainUnknownKey, flagStyle } from '../key-names.js';
import { type OptionNode, listOptions, resolveKey } from '../option-tree.js';
import type { Setting, SettingKind } from '../merge.js';
import { rejectUnsupportedOption } from '../unsupported.js';

/**
 * Reads option flags into settings, in argument order, so a repeated flag's last value wins.
 * `argv` holds only option arguments: the CLI removes the command name and handles `--help`
 * and `--version` before calling this.
 */
export function readFlags(argv: readonly string[]): Setting[] {
  const settings: Setting[] = [];

  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    checkIsFlag(argument);

    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument.slice(2) : argument.slice(2, equals);
    const inlineValue = equals === -1 ? undefined : argument.slice(equals + 1);
    // Traefik writes list items with an index, as in `domains[0].main`; the index is an item name.
    const segments = name.replace(/\[(\d+)\]/g, '.$1').split('.');

    const resolution = resolveKey(segments);
    if (!resolution.ok) {
      rejectUnsupportedOption(segments, `--${name}`, inlineValue);
      const explanation = explainUnknownKey(segments, resolution.unresolved, flagStyle);
      throw new ConfigError(`Unknown flag "${argument}": ${explanation}`, { option: `--${name}`, value: inlineValue });
    }

    const { path, node } = resolution.key;
    const kind = settingKindOf(node, `--${name}`, path);
    const takesBoolean = kind === 'toggle' || (node.kind === 'leaf' && node.value.isBoolean);
    const next = argv[index + 1];

    let value: string;
    if (inlineValue !== undefined) {
      value = inlineValue;
    } else if (takesBoolean) {
      // A boolean flag takes the next argument only when it is a boolean, so `--ping --api` works.
      const nextIsBoolean = next !== undefined && /^(true|false)$/i.test(next);
      value = nextIsBoolean ? next : 'true';
      if (nextIsBoolean) index += 1;
    } else if (next !== undefined && !next.startsWith('--')) {
      value = next;
      index += 1;
    } else {
      throw new ConfigError(`Flag --${name} needs a value: write --${name}=VALUE or --${name} VALUE.`, { option: `--${name}` });
    }

    settings.push({ path, kind, value, origin: { source: 'flag', label: `--${name}` } });
  }

  return settings;
}

function checkIsFlag(argument: string): void {
  if (argument.startsWith('--') && argument.length > 2) return;

  if (argument.startsWith('-') && argument !== '-' && argument !== '--') {
    throw new ConfigError(`Unknown flag "${argument}": Berth's options start with "--", as in --entrypoints.web.address=:80.`, {
      option: argument,
    });
  }
  throw new ConfigError(`Unexpected argument "${argument}": options are written --KEY=VALUE or --KEY VALUE.`, {
    option: argument,
  });
}

/** Returns what a resolved flag sets, or rejects a flag that names a section of options. */
function settingKindOf(node: OptionNode, flag: string, path: string[]): SettingKind {
  if (node.kind === 'leaf') return 'value';
  if (node.kind === 'section' && node.toggle) return 'toggle';

  const example = listOptions(node, path)[0];
  const hint = example === undefined ? '' : `, such as ${flagStyle.path(example.segments)}`;
  throw new ConfigError(`Flag ${flag} names a group of options, not an option: set one of its options${hint}.`, {
    option: flag,
  });
}
