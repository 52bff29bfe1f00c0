// Argument parsing for the commands that take their own options (`explain`, `check`) besides the
// static configuration flags. A command's own options are taken out, and everything else is left
// for the static configuration loader, so `berth check --providers.docker.exposedbydefault=false`
// reads labels exactly as `berth run` with the same flags would.

/** A command line that cannot be used, such as a missing URL or an option without its value. */
export class UsageError extends Error {
  readonly code = 'BERTH_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The options of one command: each takes a value (`value`, `list` when repeatable) or none (`flag`). */
export type OptionSpec = Readonly<Record<string, 'value' | 'list' | 'flag'>>;

export interface CommandArgs {
  /** Last value of each `value` option given. */
  values: Map<string, string>;
  /** Every value of each `list` option, in order. */
  lists: Map<string, string[]>;
  /** `flag` options that were given. */
  flags: Set<string>;
  /** Arguments that are neither options nor option values, such as the URL of `explain`. */
  positionals: string[];
  /** Everything else, for the static configuration loader. */
  staticArgs: string[];
}

/**
 * Splits `argv` (without the command name) into the command's own options, positional arguments
 * and static configuration flags. Own options are `--name VALUE` or `--name=VALUE`. A bare
 * argument right after a static flag without `=` is taken as that flag's value, so
 * `--entrypoints.web.address :80` keeps working. A boolean static flag followed by a positional
 * argument must therefore be written `--name=true`.
 */
export function splitArgs(argv: readonly string[], spec: OptionSpec): CommandArgs {
  const result: CommandArgs = { values: new Map(), lists: new Map(), flags: new Set(), positionals: [], staticArgs: [] };
  let previousWasBareStaticFlag = false;

  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    const equals = argument.indexOf('=');
    let name = '';
    if (argument.startsWith('--')) name = equals === -1 ? argument.slice(2) : argument.slice(2, equals);
    const kind = name === '' ? undefined : spec[name];

    if (kind === undefined) {
      if (argument.startsWith('-') && argument !== '-') {
        result.staticArgs.push(argument);
        previousWasBareStaticFlag = argument.startsWith('--') && equals === -1;
      } else if (previousWasBareStaticFlag) {
        result.staticArgs.push(argument);
        previousWasBareStaticFlag = false;
      } else {
        result.positionals.push(argument);
      }
      continue;
    }
    previousWasBareStaticFlag = false;

    if (kind === 'flag') {
      if (equals !== -1) throw new UsageError(`option --${name} takes no value`);
      result.flags.add(name);
      continue;
    }

    let value: string;
    if (equals !== -1) {
      value = argument.slice(equals + 1);
    } else {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`option --${name} needs a value: write --${name}=VALUE or --${name} VALUE`);
      value = next;
      index += 1;
    }
    if (kind === 'list') result.lists.set(name, [...(result.lists.get(name) ?? []), value]);
    else result.values.set(name, value);
  }

  return result;
}

/** Output streams and process inputs of a command, replaceable so that tests run commands in-process. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  isTTY: boolean;
}

/** Returns the IO of the running process. */
export function processIO(): CommandIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stdout.isTTY === true,
  };
}
