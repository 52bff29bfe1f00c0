// Help text of the static options, generated from the option tree so it lists exactly the options
// that loading accepts.

import { envStyle, fileStyle, flagStyle } from './key-names.js';
import { type OptionPattern, listOptions, optionTree } from './option-tree.js';
import { INTERNAL_ENTRY_POINT, INTERNAL_ENTRY_POINT_ALIAS } from './types.js';

const INTRODUCTION = `Static configuration

Berth reads Traefik's static options from command-line flags, environment variables and a YAML
file. A flag overrides an environment variable, which overrides the file, which overrides the
default. Keys are case-insensitive. Flags are written --KEY=VALUE or --KEY VALUE, and a boolean
flag given alone means true. Environment variables start with BERTH_ or TRAEFIK_ (BERTH_ wins)
and separate keys with "_".

With no entry point configured, Berth listens on entry point web at :80. The internal
entry point ${INTERNAL_ENTRY_POINT}, at :8080 unless configured, is added when api.insecure is true or
ping uses it. Traefik's name for it, ${INTERNAL_ENTRY_POINT_ALIAS}, is read as ${INTERNAL_ENTRY_POINT}.

Options:`;

/** Returns the help text of every static option: its flag, environment variable, YAML key and default. */
export function staticConfigHelp(): string {
  const sections = listOptions(optionTree).map(describeOption);
  return `${INTRODUCTION}\n\n${sections.join('\n\n')}\n`;
}

function describeOption(pattern: OptionPattern): string {
  const { node, segments } = pattern;
  const isBoolean = node.kind === 'section' || node.value.isBoolean;
  const flag = isBoolean ? `${flagStyle.path(segments)}[=true|false]` : `${flagStyle.path(segments)}=${node.value.placeholder}`;

  const notInFile = node.doc?.notInFile === true;
  const defaultText = node.kind === 'leaf' ? node.defaultText : node.doc?.defaultText;
  const details = [
    `env ${envStyle().path(segments)}`,
    notInFile ? 'not in the YAML file' : `YAML ${fileStyle.path(segments)}`,
    `default: ${defaultText ?? 'none'}`,
  ];

  return [`  ${flag}`, `      ${node.doc?.description ?? ''}`, `      ${details.join('; ')}`].join('\n');
}
