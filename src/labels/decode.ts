// Decoding of flat dotted labels into typed nested objects, driven by a schema.
// Decoding never throws: every unknown key and bad value becomes an issue that carries the full
// label key and the schema path it belongs to, so a caller can disable just the item at that path.

import { describeExpected, findOption, findUnsupported, listKnownKeys, parseBoolean, parseList, parseScalar } from './schema.js';
import type { ArrayField, FieldSchema, Infer, MapField, ObjectField, ScalarField } from './schema.js';
import { buildLabelTree, formatKeyPath, segmentText } from './tree.js';
import { createDictionary } from '../dictionary.js';
import { quoteValue, truncateValue } from '../quote.js';
import type { LabelNode } from './tree.js';

/** Returns the Levenshtein edit distance between two strings (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;

  // One row of the dynamic-programming table is enough, because each cell reads only the row above.
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const deletion = (previous[j] ?? 0) + 1;
      const insertion = (current[j - 1] ?? 0) + 1;
      current.push(Math.min(substitution, deletion, insertion));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Fills a known key's placeholders (`<name>`, `[0]`) with the user's segments at the same
 * position, so `customrequestheaders.<name>` is compared as `customrequestheaders.X-Trace`.
 */
function fillPlaceholders(known: readonly string[], written: readonly string[]): string[] {
  return known.map((segment, i) => {
    const user = written[i];
    if (user === undefined) return segment;
    if (segment.startsWith('<')) return user;
    if (segment === '[0]' && user.startsWith('[')) return user;
    return segment;
  });
}

/** Length of the longest key, in characters, that gets a "did you mean" suggestion. */
export const MAX_SUGGESTED_KEY_LENGTH = 256;

/**
 * Picks the known key closest to `written` (both given as segments relative to the same node).
 * A candidate that ends in the same option name (known keys are lower case) wins over closer spellings, so
 * `loadbalancer.port` suggests `loadbalancer.server.port` rather than a short unrelated key.
 * Ties go to the shorter key, then to alphabetical order, so the suggestion is stable.
 */
export function closestKey(written: readonly string[], known: readonly (readonly string[])[]): string[] | undefined {
  // The distance takes time in proportion to the product of the two lengths, and placeholders make
  // candidates as long as the key, so a key of thousands of characters would block the event loop
  // for seconds at every decoding. No real key is that long, so it gets no suggestion.
  if (written.reduce((length, segment) => length + segment.length + 1, 0) > MAX_SUGGESTED_KEY_LENGTH) return undefined;
  const target = written.map((segment) => segment.toLowerCase());
  const last = target[target.length - 1];
  let best: { key: string[]; rank: number; distance: number; text: string } | undefined;

  for (const candidate of known) {
    if (candidate.length === 0) continue;
    const filled = fillPlaceholders(candidate, written);
    const text = filled.join('.');
    // A placeholder always "matches" the written name, so only a real option name counts as the same ending.
    const ending = candidate[candidate.length - 1] ?? '';
    const isPlaceholder = ending.startsWith('<') || ending.startsWith('[');
    const rank = !isPlaceholder && ending === last ? 0 : 1;
    const distance = levenshtein(target.join('.'), text.toLowerCase());

    const better =
      best === undefined ||
      rank < best.rank ||
      (rank === best.rank && distance < best.distance) ||
      (rank === best.rank && distance === best.distance && text.length < best.text.length) ||
      (rank === best.rank && distance === best.distance && text.length === best.text.length && text < best.text);
    if (better) best = { key: filled, rank, distance, text };
  }

  return best?.key;
}

export interface LabelIssue {
  /** Full label key, for example `traefik.http.routers.web.priority`. */
  key: string;
  /**
   * Path of the deepest known field that contains the problem, with canonical option names and
   * user-chosen names as written, for example `['http', 'routers', 'web']`.
   */
  path: string[];
  message: string;
}

export interface DecodeResult<T> {
  value: T;
  issues: LabelIssue[];
}

/**
 * Known keys by schema, listed once per schema object. The list of the Docker label schema has
 * hundreds of keys, and listing it for every decoded label took most of a rebuild's decoding time.
 */
const knownKeysCache = new WeakMap<FieldSchema, readonly (readonly string[])[]>();

function knownKeysOf(schema: FieldSchema): readonly (readonly string[])[] {
  let known = knownKeysCache.get(schema);
  if (known === undefined) {
    known = listKnownKeys(schema);
    knownKeysCache.set(schema, known);
  }
  return known;
}

/** The nearest enclosing object, against whose known keys unknown labels are matched. */
interface ObjectContext {
  schema: ObjectField;
  path: string[];
  /** Length of the key text up to this object, so `key.slice(end)` is the part below it. */
  end: number;
}

/** A node with its schema path and the length of the key text that reaches it. */
interface Position {
  node: LabelNode;
  path: string[];
  end: number;
}

function childPosition(parent: Position, child: LabelNode, pathSegment: string, isRoot: boolean): Position {
  const text = segmentText(child.segment);
  const separator = isRoot || 'index' in child.segment ? 0 : 1;
  return { node: child, path: [...parent.path, pathSegment], end: parent.end + separator + text.length };
}

/** Splits the part of a key below an object into segment texts (`a`, `[0]`, `b`). */
function splitTail(tail: string): string[] {
  return tail.match(/\[\d+\]|[^.[\]]+/g) ?? [];
}

class LabelDecoder {
  readonly issues: LabelIssue[] = [];

  /** Decodes an object; `isRoot` is true only for the schema root, whose keys follow the prefix without a dot. */
  decodeObject(schema: ObjectField, at: Position, isRoot = false): Record<string, unknown> | undefined {
    const context: ObjectContext = { schema, path: at.path, end: at.end };
    const result: Record<string, unknown> = {};

    if (at.node.key !== undefined && !schema.flag) {
      const example = knownKeysOf(schema).find((key) => key.length > 0) ?? [];
      const key = truncateValue(at.node.key);
      this.issue(at.node.key, at.path, `label "${key}" cannot take a value; set one of its options, such as "${key}.${formatKeyPath(example)}"`);
    } else if (at.node.key !== undefined) {
      // A flag object such as `tls=true` switches the feature on with default options.
      const enabled = parseBoolean(at.node.value ?? '');
      if (enabled === undefined) this.invalid(at.node, at.path, 'true or false');
      if (enabled === false && at.node.children.length === 0) return undefined;
    }

    for (const child of at.node.children) {
      const option = 'name' in child.segment ? findOption(schema, child.segment.name) : undefined;
      const optionSchema = option === undefined ? undefined : schema.fields[option];
      const unsupported = 'name' in child.segment ? findUnsupported(schema, child.segment.name) : undefined;
      if (unsupported !== undefined) {
        this.unsupported(child, at.path, unsupported);
        continue;
      }
      if (option === undefined || optionSchema === undefined) {
        this.unknownBelow(child, context, false);
        continue;
      }
      const value = this.decodeField(optionSchema, childPosition(at, child, option, isRoot), context);
      if (value !== undefined) result[option] = value;
    }
    return result;
  }

  decodeField(schema: FieldSchema, at: Position, parent: ObjectContext): unknown {
    switch (schema.kind) {
      case 'object':
        return this.decodeObject(schema, at);
      case 'map':
        return this.decodeMap(schema, at, parent);
      case 'array':
        return this.decodeArray(schema, at, parent);
      case 'list':
        return this.decodeList(at, parent);
      case 'ignored':
        return true;
      default:
        return this.decodeScalar(schema, at, parent);
    }
  }

  private decodeScalar(schema: ScalarField, at: Position, parent: ObjectContext): unknown {
    // A scalar takes a value, so anything below it, such as `rule.host`, is an unknown key.
    this.unknownBelow(at.node, parent, true);
    if (at.node.key === undefined) return undefined;

    const parsed = parseScalar(schema, at.node.value ?? '');
    if (parsed.value === undefined) {
      this.invalid(at.node, at.path, describeExpected(schema));
      return undefined;
    }
    return parsed.value;
  }

  private decodeList(at: Position, parent: ObjectContext): string[] | undefined {
    const items: Array<{ index: number; value: string }> = [];
    for (const child of at.node.children) {
      if (!('index' in child.segment) || child.key === undefined) {
        this.unknownBelow(child, parent, false);
        continue;
      }
      this.unknownBelow(child, parent, true);
      items.push({ index: child.segment.index, value: child.value ?? '' });
    }

    if (at.node.key !== undefined && items.length > 0) {
      this.issue(at.node.key, at.path, `label ${quoteValue(at.node.key)} is set both as a comma-separated list and with [n] items; use one form`);
      return undefined;
    }
    if (at.node.key !== undefined) return parseList(at.node.value ?? '');
    if (items.length === 0) return undefined;
    return items.sort((a, b) => a.index - b.index).map((item) => item.value.trim());
  }

  private decodeMap(schema: MapField, at: Position, parent: ObjectContext): Record<string, unknown> {
    if (at.node.key !== undefined) {
      const key = truncateValue(at.node.key);
      this.issue(at.node.key, at.path, `label "${key}" cannot take a value; set "${key}.${schema.placeholder}..." instead`);
    }

    // The keys are names the user chose, such as header names, so `__proto__` must stay a key.
    const result = createDictionary<unknown>();
    for (const child of at.node.children) {
      if (!('name' in child.segment)) {
        this.unknownBelow(child, parent, false);
        continue;
      }
      const name = child.segment.name;
      const value = this.decodeField(schema.of, childPosition(at, child, name, false), parent);
      if (value !== undefined) result[name] = value;
    }
    return result;
  }

  private decodeArray(schema: ArrayField, at: Position, parent: ObjectContext): unknown[] {
    if (at.node.key !== undefined) {
      const key = truncateValue(at.node.key);
      this.issue(at.node.key, at.path, `label "${key}" cannot take a value; set "${key}[0]..." instead`);
    }

    const items: Array<{ index: number; value: unknown }> = [];
    for (const child of at.node.children) {
      if (!('index' in child.segment)) {
        this.unknownBelow(child, parent, false);
        continue;
      }
      const value = this.decodeField(schema.of, childPosition(at, child, String(child.segment.index), false), parent);
      if (value !== undefined) items.push({ index: child.segment.index, value });
    }
    return items.sort((a, b) => a.index - b.index).map((item) => item.value);
  }

  /**
   * Reports every label at or below `node` as unknown, suggesting the closest key known to the
   * enclosing object. With `belowOnly`, the node's own label is known and only its children are reported.
   */
  private unknownBelow(node: LabelNode, context: ObjectContext, belowOnly: boolean): void {
    const visit = (current: LabelNode, isStart: boolean): void => {
      if (current.key !== undefined && !(belowOnly && isStart)) this.unknown(current.key, context, knownKeysOf(context.schema));
      for (const child of current.children) visit(child, false);
    };
    visit(node, true);
  }

  private unknown(key: string, context: ObjectContext, known: readonly (readonly string[])[]): void {
    const prefix = key.slice(0, context.end);
    const written = splitTail(key.slice(context.end));
    const suggestion = closestKey(written, known);
    if (suggestion === undefined) {
      this.issue(key, context.path, `unknown label ${quoteValue(key)}`);
      return;
    }
    const tail = formatKeyPath(suggestion);
    const joiner = prefix === '' || prefix.endsWith('.') || tail.startsWith('[') ? '' : '.';
    this.issue(key, context.path, `unknown label "${key}"; did you mean "${prefix}${joiner}${tail}"?`);
  }

  /** Reports an option that Traefik defines and Berth does not implement, once for all the labels under it. */
  private unsupported(node: LabelNode, path: string[], message: string): void {
    const first = (current: LabelNode): string | undefined =>
      current.key ?? current.children.map(first).find((key) => key !== undefined);
    const key = first(node) ?? '';
    this.issue(key, path, `unsupported label "${key}": ${message}`);
  }

  private invalid(node: LabelNode, path: string[], expected: string): void {
    const key = node.key ?? '';
    this.issue(key, path, `invalid value ${quoteValue(node.value ?? '')} for label ${quoteValue(key)}: expected ${expected}`);
  }

  private issue(key: string, path: string[], message: string): void {
    this.issues.push({ key, path, message });
  }
}

/**
 * Decodes `labels` (keys relative to the schema root, any case) into an object shaped by `schema`.
 * `keyPrefix` is the part of the real label keys that was removed, such as `traefik.`; it is only
 * used to show full keys in messages. Options whose labels are invalid are left out of the value.
 */
export function decodeLabels<F extends Record<string, FieldSchema>>(
  schema: ObjectField<F>,
  labels: Record<string, string>,
  keyPrefix = '',
): DecodeResult<Infer<ObjectField<F>>> {
  const tree = buildLabelTree(labels, keyPrefix);
  const decoder = new LabelDecoder();
  const root: Position = { node: tree.root, path: [], end: keyPrefix.length };
  const value = decoder.decodeObject(schema, root, true) ?? {};
  const malformed = tree.malformed.map((entry) => ({ key: entry.key, path: entry.path ?? [], message: entry.message }));

  // The caller's schema fixes the shape; the decoder builds it option by option.
  return { value: value as Infer<ObjectField<F>>, issues: [...malformed, ...decoder.issues] };
}
