// Variable interpolation in compose files, as the Compose specification defines it, so labels such
// as "Host(`${DOMAIN}`)" and "$$apr1$$..." read the way docker compose puts them on containers.
//   $VAR ${VAR}          the value, or an empty string (with a warning) when VAR is unset
//   ${VAR:-default}      default when VAR is unset or empty; ${VAR-default} only when unset
//   ${VAR:?message}      an error when VAR is unset or empty; ${VAR?message} only when unset
//   ${VAR:+replacement}  replacement when VAR is set and not empty; ${VAR+replacement} when set
//   $$                   a literal $; any other $ that starts no variable is an error
// Defaults, messages and replacements are interpolated too, so "${A:-${B}}" works.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDictionary, getOwn } from '../dictionary.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/** A compose file that names a required variable that is not set, or that uses `$` wrongly. */
export class InterpolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpolationError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Replaces variables in `text`. `warnings` receives one message per unset variable that became an
 * empty string. Throws InterpolationError for `${VAR:?message}` with VAR unset and for bad syntax.
 */
export function interpolate(text: string, env: Environment, warnings: string[]): string {
  let out = '';
  let index = 0;

  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar === -1) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, dollar);
    const next = text[dollar + 1];

    if (next === '$') {
      out += '$';
      index = dollar + 2;
    } else if (next === '{') {
      const close = matchingBrace(text, dollar + 1);
      if (close === -1) throw new InterpolationError(`invalid interpolation in "${text}": "\${" is never closed; write $$ for a literal $`);
      out += expandBraced(text.slice(dollar + 2, close), text, env, warnings);
      index = close + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) {
        // docker compose rejects such a value ("invalid interpolation format"), as in `^/api$`.
        throw new InterpolationError(`invalid interpolation in "${text}": a $ that starts no variable; write $$ for a literal $`);
      }
      out += valueOf(name, env, warnings);
      index = dollar + 1 + name.length;
    }
  }
  return out;
}

/** Returns the index of the `}` that closes the `{` at `open`, counting nested `${...}`. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === '$' && text[i + 1] === '$') {
      i++;
    } else if (char === '{') {
      depth++;
    } else if (char === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function expandBraced(inner: string, whole: string, env: Environment, warnings: string[]): string {
  const name = NAME.exec(inner)?.[0];
  if (name === undefined) throw new InvalidSyntax(whole, inner);
  const rest = inner.slice(name.length);
  if (rest === '') return valueOf(name, env, warnings);

  const operator = /^(:?[-?+])/.exec(rest)?.[1];
  if (operator === undefined) throw new InvalidSyntax(whole, inner);
  const argument = rest.slice(operator.length);
  const value = getOwn(env, name);
  const isSet = value !== undefined;
  const isSetAndNotEmpty = isSet && value !== '';
  const present = operator.startsWith(':') ? isSetAndNotEmpty : isSet;

  switch (operator.replace(':', '')) {
    case '-':
      return present ? (value ?? '') : interpolate(argument, env, warnings);
    case '+':
      return present ? interpolate(argument, env, warnings) : '';
    default: {
      if (present) return value ?? '';
      const message = interpolate(argument, env, warnings);
      throw new InterpolationError(`required variable ${name} is ${isSet ? 'empty' : 'not set'}${message === '' ? '' : `: ${message}`}`);
    }
  }
}

class InvalidSyntax extends InterpolationError {
  constructor(whole: string, inner: string) {
    super(`invalid interpolation "\${${inner}}" in "${whole}": write \${NAME}, \${NAME:-default} or $$ for a literal $`);
  }
}

function valueOf(name: string, env: Environment, warnings: string[]): string {
  const value = getOwn(env, name);
  if (value !== undefined) return value;
  const warning = `variable ${name} is not set; an empty string is used`;
  if (!warnings.includes(warning)) warnings.push(warning);
  return '';
}

/**
 * Applies `interpolate` to every string inside `value` (map keys stay as written, as in Compose).
 * An error names the path of the value, such as `services.web.labels[2]`.
 */
export function interpolateTree(value: unknown, env: Environment, warnings: string[], path = ''): unknown {
  if (typeof value === 'string') {
    try {
      return interpolate(value, env, warnings);
    } catch (error) {
      if (error instanceof InterpolationError && path !== '') throw new InterpolationError(`${path}: ${error.message}`);
      throw error;
    }
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateTree(item, env, warnings, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateTree(item, env, warnings, path === '' ? key : `${path}.${key}`)]),
    );
  }
  return value;
}

/**
 * Reads the `.env` file of a project folder, as docker compose does: `NAME=value` lines, `#`
 * comments, an optional `export ` prefix, and values in single quotes (literal) or double quotes
 * (with \n, \t, \" and \\ escapes). A missing file gives no variables.
 */
export async function readDotEnv(folder: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(join(folder, '.env'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  return parseDotEnv(text);
}

export function parseDotEnv(text: string): Record<string, string> {
  const variables = createDictionary<string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    const name = line.slice(0, equals).trim();
    variables[name] = unquote(line.slice(equals + 1).trim());
  }
  return variables;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    const escapes: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
    return value.slice(1, -1).replace(/\\([nt"\\])/g, (_match, char: string) => escapes[char] ?? char);
  }
  // An unquoted value ends at a ` #` comment.
  const comment = value.search(/\s#/);
  return comment === -1 ? value : value.slice(0, comment).trimEnd();
}
