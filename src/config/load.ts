// Loading of the static configuration: read every source, merge them by precedence, parse and
// complete the result. Each step throws a `ConfigError` on the first problem it finds.

import { buildStaticConfig } from './build.js';
import { ConfigError, invalidValueMessage } from './errors.js';
import { type Setting, mergeSources } from './merge.js';
import { readEnvironment } from './sources/env.js';
import { type ConfigFileRequest, findConfigFile, readConfigFile } from './sources/file.js';
import { readFlags } from './sources/flags.js';
import type { StaticConfig } from './types.js';

export interface StaticConfigInput {
  /** Option arguments only, without the command and without `--help` or `--version`. */
  argv: readonly string[];
  /** Environment variables, usually `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory where the YAML file is looked for, and that a relative `--configfile` starts from. */
  cwd: string;
  /** Whether stdout is a terminal, which makes `pretty` the default log format. */
  isTTY: boolean;
}

/**
 * Loads the static configuration from flags, environment variables and a YAML file, in that order
 * of precedence, over the defaults. Throws a `ConfigError` with one message naming the option,
 * the value and what is allowed.
 */
export async function loadStaticConfig(input: StaticConfigInput): Promise<StaticConfig> {
  const flags = readFlags(input.argv);
  const environment = readEnvironment(input.env);

  const configFile = await findConfigFile(input.cwd, configFileRequest(flags, environment));
  const file = configFile === undefined ? [] : await readConfigFile(configFile);

  const merged = mergeSources([file, environment, flags], input.env);
  return buildStaticConfig(merged, { isTTY: input.isTTY, configFile, cwd: input.cwd });
}

/** Returns the file that a flag, else an environment variable, names. Within a source the last one wins. */
function configFileRequest(flags: readonly Setting[], environment: readonly Setting[]): ConfigFileRequest | undefined {
  const isConfigFile = (setting: Setting): boolean => setting.path.length === 1 && setting.path[0] === 'configFile';
  const setting = flags.filter(isConfigFile).at(-1) ?? environment.filter(isConfigFile).at(-1);
  if (setting === undefined) return undefined;

  const path = setting.value === null ? '' : String(setting.value).trim();
  if (path === '') {
    throw new ConfigError(invalidValueMessage(setting.origin, setting.value, 'the value is empty; give the path of a YAML file'), {
      option: setting.origin.label,
      value: '',
    });
  }
  return { path, origin: setting.origin };
}
