// The YAML file in Traefik's static layout (`entryPoints: { web: { address: ":80" } }`), with keys
// in any case. Each option becomes a setting that remembers its line, so a bad value is reported
// as `entryPoints.web.address (/srv/berth.yaml:3)`.

import { readFile, stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';

import { type Document, LineCounter, type Node, type YAMLSeq, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';

import { ConfigError } from '../errors.js';
import { explainUnknownKey, fileStyle } from '../key-names.js';
import { type OptionNode, optionTree, step } from '../option-tree.js';
import type { Origin, Setting } from '../merge.js';
import { unsupportedOptionMessage } from '../unsupported.js';

/** Names looked for in the working directory when no file is given, in this order. */
export const CONFIG_FILE_NAMES = ['berth.yaml', 'berth.yml', 'traefik.yaml', 'traefik.yml'] as const;

/** The path given by `--configfile` or its environment variable, with the source that gave it. */
export interface ConfigFileRequest {
  path: string;
  origin: Origin;
}

/**
 * Returns the absolute path of the YAML file to read: the requested one, else the first of
 * `CONFIG_FILE_NAMES` in `cwd`, else `undefined`. Rejects TOML, which Berth does not read.
 */
export async function findConfigFile(cwd: string, request: ConfigFileRequest | undefined): Promise<string | undefined> {
  if (request !== undefined) {
    const path = resolve(cwd, request.path);
    if (extname(path).toLowerCase() === '.toml') {
      throw new ConfigError(
        `Invalid value "${request.path}" for ${request.origin.label}: Berth reads YAML only; convert the file to YAML, whose keys are the same as in TOML.`,
        { option: request.origin.label, value: request.path, file: path },
      );
    }
    const kind = await fileKind(path);
    if (kind !== 'file') {
      const problem = kind === 'missing' ? 'does not exist' : 'is not a file';
      throw new ConfigError(`Configuration file ${path}, given by ${request.origin.label}, ${problem}.`, {
        option: request.origin.label,
        value: request.path,
        file: path,
      });
    }
    return path;
  }

  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if ((await fileKind(path)) === 'file') return path;
  }

  const toml = resolve(cwd, 'traefik.toml');
  if ((await fileKind(toml)) === 'file') {
    throw new ConfigError(
      `Found ${toml}, but Berth reads YAML only: convert it to traefik.yaml (the keys are the same), or pass --configfile with a YAML file.`,
      { file: toml },
    );
  }
  return undefined;
}

async function fileKind(path: string): Promise<'file' | 'other' | 'missing'> {
  try {
    return (await stat(path)).isFile() ? 'file' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new ConfigError(`Cannot read configuration file ${path}: ${(error as Error).message}.`, { file: path, cause: error });
  }
}

/** Reads and checks a YAML file, turning every option in it into a setting. */
export async function readConfigFile(path: string): Promise<Setting[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read configuration file ${path}: ${(error as Error).message}.`, { file: path, cause: error });
  }
  return parseConfigText(text, path);
}

/** Parses the text of a YAML file named `path` (used in messages) into settings. */
export function parseConfigText(text: string, path: string): Setting[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const [error] = document.errors;
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    const reason = error.message.split('\n')[0] ?? error.message;
    throw new ConfigError(`Invalid YAML in ${path} at line ${line}, column ${col}: ${reason}`, { file: path, cause: error });
  }

  const reader = new FileReader(path, document, lineCounter);
  return reader.read();
}

/** Walks the YAML tree along the option tree, collecting settings. */
class FileReader {
  readonly #settings: Setting[] = [];

  constructor(
    readonly path: string,
    readonly document: Document,
    readonly lineCounter: LineCounter,
  ) {}

  read(): Setting[] {
    const root = this.#resolveAlias(this.document.contents);
    if (root === null || (isScalar(root) && root.value === null)) return [];
    if (!isMap(root)) {
      throw this.#error(root, `${basename(this.path)} must contain a mapping of options, such as "entryPoints:"`);
    }
    this.#readSection(root, optionTree, [], []);
    return this.#settings;
  }

  /** Reads the options of `option`, a section or a section of named items, from `node`. */
  #readSection(node: Node, option: OptionNode, path: string[], written: string[]): void {
    if (!isMap(node)) return;

    for (const pair of node.items) {
      const keyNode = this.#resolveAlias(pair.key as Node | null);
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        throw this.#error(keyNode ?? node, `keys under ${this.#where(written)} must be plain names`);
      }

      const key = String(keyNode.value);
      const childWritten = [...written, key];
      const next = step(option, key);
      if (!next.ok) {
        const unsupported = unsupportedOptionMessage(childWritten, childWritten.join('.'));
        if (unsupported !== undefined) throw this.#error(keyNode, unsupported);
        const unresolved = { knownPath: path, knownNode: option, reason: next.reason };
        throw this.#error(keyNode, `unknown key ${childWritten.join('.')}: ${explainUnknownKey(childWritten, unresolved, fileStyle)}`);
      }

      const value = this.#resolveAlias(pair.value as Node | null);
      this.#readOption(value, keyNode, next.node, [...path, next.key], childWritten, option.kind === 'items');
    }
  }

  #readOption(value: Node | null, keyNode: Node, option: OptionNode, path: string[], written: string[], isItem: boolean): void {
    const origin: Origin = { source: 'file', label: `${written.join('.')} (${this.path}:${this.#line(keyNode)})`, file: this.path };
    const isEmpty = value === null || (isScalar(value) && value.value === null) || (isMap(value) && value.items.length === 0);

    if (option.kind === 'leaf') {
      if (option.doc?.notInFile === true) {
        throw this.#error(keyNode, `${written.join('.')} cannot be set in the configuration file; pass it as a flag or environment variable`);
      }
      if (option.value.isList === true && isSeq(value)) {
        this.#settings.push({ path, kind: 'value', value: this.#listValue(value, written), origin });
        return;
      }
      if (value !== null && !isScalar(value)) {
        throw this.#error(value, `${written.join('.')} must be a single value, not a ${isSeq(value) ? 'list' : 'mapping'}`);
      }
      this.#settings.push({ path, kind: 'value', value: scalarValue(value), origin });
      return;
    }

    // A list of sections, such as `domains: [{ main: example.com }]`, gives items named by their index.
    if (option.kind === 'items' && isSeq(value)) {
      value.items.forEach((item, index) => {
        const next = step(option, String(index));
        if (!next.ok) throw this.#error(value, `${written.join('.')} cannot be a list; write it as a mapping of named items`);
        const itemNode = this.#resolveAlias(item as Node | null);
        this.#readOption(itemNode, itemNode ?? keyNode, next.node, [...path, next.key], [...written, `[${index}]`], true);
      });
      return;
    }

    const isToggle = option.kind === 'section' && option.toggle;
    if (isEmpty) {
      // `ping: {}` and `ping:` turn a section on, and `web: {}` declares an entry point.
      if (isToggle) this.#settings.push({ path, kind: 'toggle', value: true, origin });
      else if (isItem) this.#settings.push({ path, kind: 'item', value: null, origin });
      return;
    }

    if (isToggle && isScalar(value)) {
      this.#settings.push({ path, kind: 'toggle', value: scalarValue(value), origin });
      return;
    }
    if (!isMap(value)) {
      const got = isSeq(value) ? 'a list' : 'a single value';
      throw this.#error(value ?? keyNode, `${written.join('.')} must be a mapping of options, not ${got}`);
    }
    this.#readSection(value, option, path, written);
  }

  /** Joins a sequence of single values into the comma-separated text that list options parse. */
  #listValue(sequence: YAMLSeq, written: string[]): string {
    const items: string[] = [];
    for (const item of sequence.items) {
      const node = this.#resolveAlias(item as Node | null);
      if (node !== null && !isScalar(node)) throw this.#error(node, `${written.join('.')} must be a list of single values`);
      const text = scalarValue(node);
      if (text !== null) items.push(String(text));
    }
    return items.join(',');
  }

  #resolveAlias(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    return isAlias(node) ? (node.resolve(this.document) ?? null) : node;
  }

  #where(written: string[]): string {
    return written.length === 0 ? 'the top level' : written.join('.');
  }

  #line(node: Node): number {
    return this.lineCounter.linePos(node.range?.[0] ?? 0).line;
  }

  #error(node: Node, reason: string): ConfigError {
    const sentence = /[.?]$/.test(reason) ? reason : `${reason}.`;
    return new ConfigError(`Invalid configuration file ${this.path} at line ${this.#line(node)}: ${sentence}`, { file: this.path });
  }
}

function scalarValue(node: Node | null): string | number | boolean | null {
  if (node === null || !isScalar(node)) return null;
  const { value } = node;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  return value === null || value === undefined ? null : String(value);
}
