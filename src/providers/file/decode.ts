// Decoding of a parsed YAML document into typed objects, driven by the label schema language.
// Keys match in any case, YAML merge keys (`<<: *anchor`) are applied, and every unknown key or
// bad value becomes an issue with its key path and line, which the caller attaches to the item
// at that path, so one bad key never stops the rest of the file from decoding.

import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Scalar } from 'yaml';

import { closestKey, levenshtein } from '../../labels/decode.js';
import { describeExpected, findOption, findUnsupported, parseBoolean, parseList, parseScalar } from '../../labels/schema.js';
import type { ArrayField, FieldSchema, Infer, MapField, ObjectField, ScalarField } from '../../labels/schema.js';
import { createDictionary } from '../../dictionary.js';
import { quoteValue } from '../../quote.js';

export interface FileIssue {
  /**
   * Path of the deepest known field that contains the problem, such as `['http', 'routers', 'web']`.
   * Option names are canonical and item names as written. The top level is `[]`.
   */
  path: string[];
  message: string;
  /** Set when the value has the wrong YAML type, such as a list where a mapping belongs. */
  typeMismatch?: TypeMismatch;
  /** Set when the key is not in the schema, such as a misspelled `htttp`. */
  unknownKey?: true;
}

export interface TypeMismatch {
  /** The key as written, with its line, such as `"http.routers" (line 2)`. */
  key: string;
  /** The type found, such as `a list`. */
  found: string;
}

/** One key of a mapping, with merge keys already applied. */
interface Entry {
  key: string;
  keyNode: Node;
  value: Node | null;
}

/** Position of a node: its schema path, its key as written, and the node whose line messages show. */
interface Position {
  path: string[];
  written: string[];
  node: Node | null;
  lineNode: Node | null;
}

// Aliases can nest, so a limit keeps a hostile file from sending the walk in circles.
const MAX_DEPTH = 64;

export class YamlDecoder {
  readonly issues: FileIssue[] = [];

  constructor(
    readonly document: Document,
    readonly lineCounter: LineCounter,
  ) {}

  /** Decodes the document's root mapping with `schema`. */
  decode<F extends Record<string, FieldSchema>>(schema: ObjectField<F>): Infer<ObjectField<F>> {
    const root = this.#resolve(this.document.contents as Node | null);
    const value = this.#object(schema, { path: [], written: [], node: root, lineNode: root }, 0) ?? {};
    // The caller's schema fixes the shape; the walk builds it option by option.
    return value as Infer<ObjectField<F>>;
  }

  #field(schema: FieldSchema, at: Position, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      this.#issue(at, `${this.#describe(at)} is nested more than ${MAX_DEPTH} levels deep`);
      return undefined;
    }
    switch (schema.kind) {
      case 'object':
        return this.#object(schema, at, depth);
      case 'map':
        return this.#map(schema, at, depth);
      case 'array':
        return this.#array(schema, at, depth);
      case 'list':
        return this.#list(at);
      case 'ignored':
        return true;
      default:
        return this.#scalar(schema, at);
    }
  }

  #object(schema: ObjectField, at: Position, depth: number): Record<string, unknown> | undefined {
    const { node } = at;
    if (isNull(node)) return {};
    if (schema.flag && isScalar(node)) {
      // `tls: true` switches the feature on with default options, as the `tls=true` label does.
      const enabled = parseBoolean(scalarText(node));
      if (enabled === undefined) this.#mismatch(at, `${this.#describe(at)} must be a mapping of options, or true or false`);
      return enabled === true ? {} : undefined;
    }
    if (!isMap(node)) {
      this.#mismatch(at, `${this.#describe(at)} must be a mapping of options, not ${kindOf(node)}`);
      return undefined;
    }

    const result: Record<string, unknown> = {};
    const seen = new Map<string, string>();
    for (const entry of this.#entries(at, depth)) {
      // As in Compose files, top-level keys that start with `x-` hold anchors for the rest of the file.
      if (at.path.length === 0 && entry.key.toLowerCase().startsWith('x-')) continue;
      const option = findOption(schema, entry.key);
      const child = this.#child(at, entry, option ?? entry.key);
      const optionSchema = option === undefined ? undefined : schema.fields[option];
      if (option === undefined || optionSchema === undefined) {
        this.#unknown(schema, at, entry);
        continue;
      }
      const earlier = seen.get(option);
      if (earlier !== undefined) {
        this.#issue(child, `${this.#describe(child)} is set twice, as "${earlier}" and "${entry.key}"; keep one`);
        continue;
      }
      seen.set(option, entry.key);
      const value = this.#field(optionSchema, child, depth + 1);
      if (value !== undefined) result[option] = value;
    }
    return result;
  }

  #map(schema: MapField, at: Position, depth: number): Record<string, unknown> | undefined {
    if (isNull(at.node)) return createDictionary();
    if (!isMap(at.node)) {
      this.#mismatch(at, `${this.#describe(at)} must be a mapping of names, not ${kindOf(at.node)}`);
      return undefined;
    }
    // The keys are names the user chose, such as header names, so `__proto__` must stay a key.
    const result = createDictionary<unknown>();
    for (const entry of this.#entries(at, depth)) {
      const value = this.#element(schema.of, this.#child(at, entry, entry.key), depth + 1);
      if (value !== undefined) result[entry.key] = value;
    }
    return result;
  }

  #array(schema: ArrayField, at: Position, depth: number): unknown[] | undefined {
    if (isNull(at.node)) return [];
    if (!isSeq(at.node)) {
      this.#mismatch(at, `${this.#describe(at)} must be a list, not ${kindOf(at.node)}`);
      return undefined;
    }
    const items: unknown[] = [];
    at.node.items.forEach((item, index) => {
      const node = this.#resolve(item as Node | null);
      const child: Position = { path: [...at.path, String(index)], written: [...at.written, `[${index}]`], node, lineNode: node ?? at.lineNode };
      const value = this.#element(schema.of, child, depth + 1);
      if (value !== undefined) items.push(value);
    });
    return items;
  }

  /**
   * Decodes one entry of a map or an array. An object entry that cannot be decoded, such as
   * `web: 5` under `routers`, becomes `{}`. The item then keeps its name or index, so the caller
   * attaches the issue to it, and the array items after it keep their indexes.
   */
  #element(schema: FieldSchema, at: Position, depth: number): unknown {
    const issueCount = this.issues.length;
    const value = this.#field(schema, at, depth);
    if (value === undefined && schema.kind === 'object' && this.issues.length > issueCount) return {};
    return value;
  }

  /** A list of strings: a YAML sequence of scalars, or one comma-separated string as in labels. */
  #list(at: Position): string[] | undefined {
    const { node } = at;
    if (isNull(node)) return [];
    if (isScalar(node)) return parseList(scalarText(node));
    if (!isSeq(node)) {
      this.#mismatch(at, `${this.#describe(at)} must be a list of values, not a mapping`);
      return undefined;
    }
    const values: string[] = [];
    for (const item of node.items) {
      const resolved = this.#resolve(item as Node | null);
      if (!isScalar(resolved)) {
        this.#issue(at, `${this.#describe(at)} must be a list of single values; an item is ${kindOf(resolved)}`);
        return undefined;
      }
      const text = scalarText(resolved).trim();
      if (text !== '') values.push(text);
    }
    return values;
  }

  #scalar(schema: ScalarField, at: Position): unknown {
    const { node } = at;
    // An empty value is an empty string (as Go decodes it), and leaves every other type unset.
    if (isNull(node)) return schema.kind === 'string' ? '' : undefined;
    if (!isScalar(node)) {
      this.#mismatch(at, `${this.#describe(at)} must be a single value, not ${kindOf(node)}`);
      return undefined;
    }
    const text = scalarText(node);
    const parsed = parseScalar(schema, text);
    if (parsed.value === undefined) {
      this.#issue(at, `invalid value ${quoteValue(text)} for ${this.#describe(at)}: expected ${describeExpected(schema)}`);
      return undefined;
    }
    return parsed.value;
  }

  /** Lists the keys of a mapping; keys merged in with `<<` count only where the mapping does not set them. */
  #entries(at: Position, depth: number): Entry[] {
    const node = at.node;
    if (!isMap(node) || depth > MAX_DEPTH) return [];
    const own: Entry[] = [];
    const merged: Entry[] = [];
    for (const pair of node.items) {
      const keyNode = this.#resolve(pair.key as Node | null);
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.#issue(at, `keys under ${this.#describe(at)} must be plain names`);
        continue;
      }
      const key = String(keyNode.value);
      const value = this.#resolve(pair.value as Node | null);
      if (key !== '<<') {
        own.push({ key, keyNode, value });
        continue;
      }
      const sources = isSeq(value) ? value.items.map((item) => this.#resolve(item as Node | null)) : [value];
      for (const source of sources) {
        if (isMap(source)) merged.push(...this.#entries({ ...at, node: source }, depth + 1));
        else this.#issue(at, `the merge key "<<" under ${this.#describe(at)} must name a mapping`);
      }
    }
    const ownKeys = new Set(own.map((entry) => entry.key.toLowerCase()));
    return [...own, ...merged.filter((entry) => !ownKeys.has(entry.key.toLowerCase()))];
  }

  #child(parent: Position, entry: Entry, pathSegment: string): Position {
    return { path: [...parent.path, pathSegment], written: [...parent.written, entry.key], node: entry.value, lineNode: entry.keyNode };
  }

  #unknown(schema: ObjectField, at: Position, entry: Entry): void {
    const child = this.#child(at, entry, entry.key);
    const unsupported = findUnsupported(schema, entry.key);
    if (unsupported !== undefined) {
      this.issues.push({ path: at.path, message: `unsupported key ${this.#describe(child)}: ${unsupported}` });
      return;
    }
    const known = Object.keys(schema.fields).map((option) => [option.toLowerCase()]);
    const suggestion = closestKey([entry.key], known)?.[0];
    const option = suggestion === undefined ? undefined : findOption(schema, suggestion);
    // One edit per three characters, at least two, catches typos without suggesting unrelated keys.
    const limit = Math.max(2, Math.floor(entry.key.length / 3));
    if (option !== undefined && levenshtein(entry.key.toLowerCase(), option.toLowerCase()) <= limit) {
      this.issues.push({ path: at.path, message: `unknown key ${this.#describe(child)}; did you mean "${option}"?`, unknownKey: true });
      return;
    }
    const where = at.written.length === 0 ? 'at the top level' : `under ${formatWritten(at.written)}`;
    this.issues.push({ path: at.path, message: `unknown key ${this.#describe(child)}; the keys ${where} are ${Object.keys(schema.fields).join(', ')}`, unknownKey: true });
  }

  #resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    return isAlias(node) ? ((node.resolve(this.document) as Node | undefined) ?? null) : node;
  }

  /** Names a key as written with its line, such as `"http.routers.web.rule" (line 4)`. */
  #describe(at: Position): string {
    const key = at.written.length === 0 ? 'the file' : `"${formatWritten(at.written)}"`;
    const line = this.#line(at.lineNode);
    return line === undefined ? key : `${key} (line ${line})`;
  }

  #line(node: Node | null): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lineCounter.linePos(offset).line;
  }

  #issue(at: Position, message: string): void {
    this.issues.push({ path: at.path, message });
  }

  /** Records that the value at `at` has the wrong YAML type. */
  #mismatch(at: Position, message: string): void {
    this.issues.push({ path: at.path, message, typeMismatch: { key: this.#describe(at), found: kindOf(at.node) } });
  }
}

function formatWritten(written: readonly string[]): string {
  return written.reduce((text, segment) => (segment.startsWith('[') || text === '' ? text + segment : `${text}.${segment}`), '');
}

function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function kindOf(node: Node | null): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  return 'a single value';
}

/** Returns a scalar as text; a plain number keeps its spelling, so `1.10` stays `1.10`. */
function scalarText(node: Scalar): string {
  const { value } = node;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(value);
}
