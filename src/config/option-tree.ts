// A plain tree of the options in `schema.ts`, built once, that the sources use to resolve the keys
// users write (any case, Traefik's aliases, multi-word names in environment variables) to the
// canonical paths of the schema.

import * as z from 'zod';

import { type OptionDoc, optionDocs, staticOptionsSchema } from './schema.js';
import { Rejected, type ValueKind, normalizeName, valueKinds } from './values.js';

interface NodeBase {
  /** Canonical spelling of the key, such as `exposedByDefault`, or `''` for the root and for items. */
  key: string;
  doc: OptionDoc | undefined;
}

export interface SectionNode extends NodeBase {
  kind: 'section';
  /** Children by lower-case key. */
  children: Map<string, OptionNode>;
  /** Whether `--<section>` alone turns the section on, as `--ping` does. */
  toggle: boolean;
}

/** A section of named items, such as `entryPoints`, where every item has the shape of `item`. */
export interface ItemsNode extends NodeBase {
  kind: 'items';
  item: OptionNode;
  itemName: string;
  aliases: Readonly<Record<string, string>>;
}

export interface LeafNode extends NodeBase {
  kind: 'leaf';
  value: ValueKind;
  /** Default for help text, or `undefined` when the option has none. */
  defaultText: string | undefined;
}

export type OptionNode = SectionNode | ItemsNode | LeafNode;

/** Builds the tree of a schema made of strict objects, records and value schemas. */
export function buildOptionTree(schema: z.ZodType, key = ''): OptionNode {
  let doc: OptionDoc | undefined;
  let defaultValue: unknown;
  let current: z.ZodType = schema;

  // Documentation may sit on any wrapper, so collect it while unwrapping to the real type.
  for (;;) {
    doc ??= optionDocs.get(current);
    if (current instanceof z.ZodDefault) {
      defaultValue = current.def.defaultValue;
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodOptional || current instanceof z.ZodPrefault) {
      current = current.unwrap() as z.ZodType;
    } else {
      break;
    }
  }

  if (current instanceof z.ZodObject) {
    const children = new Map<string, OptionNode>();
    for (const [childKey, childSchema] of Object.entries(current.shape)) {
      children.set(childKey.toLowerCase(), buildOptionTree(childSchema as z.ZodType, childKey));
    }
    return { kind: 'section', key, doc, children, toggle: doc?.toggle === true };
  }

  if (current instanceof z.ZodRecord) {
    const item = buildOptionTree(current.valueType as z.ZodType);
    return { kind: 'items', key, doc, item, itemName: doc?.itemName ?? 'name', aliases: doc?.aliases ?? {} };
  }

  const value = valueKinds.get(current);
  if (value === undefined) throw new Error(`Static option "${key}" has no value type from values.ts`);
  const defaultText = doc?.defaultText ?? (defaultValue === undefined ? undefined : String(defaultValue));
  return { kind: 'leaf', key, doc, value, defaultText };
}

/** The tree of Berth's static options. */
export const optionTree = buildOptionTree(staticOptionsSchema) as SectionNode;

/** The result of following one key segment from a node. */
export type Step = { ok: true; node: OptionNode; key: string } | { ok: false; reason?: string };

/** Follows one segment: a child key in any case, or an item name (lower-cased, aliases applied). */
export function step(node: OptionNode, segment: string): Step {
  if (node.kind === 'section') {
    const child = node.children.get(segment.toLowerCase());
    return child === undefined ? { ok: false } : { ok: true, node: child, key: child.key };
  }
  if (node.kind === 'items') {
    const name = normalizeName(segment, node.aliases);
    if (name instanceof Rejected) return { ok: false, reason: `"${segment}" is not a valid ${node.itemName}: ${name.reason}` };
    return { ok: true, node: node.item, key: name };
  }
  return { ok: false };
}

export interface ResolvedKey {
  /** Canonical path, such as `['entryPoints', 'web', 'address']`. */
  path: string[];
  node: OptionNode;
}

/** Why a key did not resolve: how far it did, and what was wrong with the next segment. */
export interface UnresolvedKey {
  /** Canonical path of the longest prefix that resolved. */
  knownPath: string[];
  /** The node at `knownPath`. */
  knownNode: OptionNode;
  /** The reason the next segment was rejected, when there is more to say than "unknown". */
  reason: string | undefined;
}

export type Resolution = { ok: true; key: ResolvedKey } | { ok: false; unresolved: UnresolvedKey };

/** Resolves the segments of a dotted key, as flags and YAML files write them. */
export function resolveKey(segments: readonly string[], root: OptionNode = optionTree): Resolution {
  let node = root;
  const path: string[] = [];
  for (const segment of segments) {
    const next = step(node, segment);
    if (!next.ok) return { ok: false, unresolved: { knownPath: path, knownNode: node, reason: next.reason } };
    node = next.node;
    path.push(next.key);
  }
  return { ok: true, key: { path, node } };
}

/**
 * Resolves the `_`-separated segments of an environment variable. An item name may span several
 * segments, so `ENTRYPOINTS_MY_WEB_ADDRESS` names entry point `my_web`. The shortest name that
 * leaves a valid rest wins.
 */
export function resolveEnvKey(segments: readonly string[], root: OptionNode = optionTree): Resolution {
  const found = resolveEnvFrom(root, segments, 0, []);
  return found === undefined ? resolveKey(segments, root) : { ok: true, key: found };
}

function resolveEnvFrom(node: OptionNode, segments: readonly string[], index: number, path: string[]): ResolvedKey | undefined {
  if (index === segments.length) return { path, node };

  if (node.kind === 'items') {
    for (let end = index + 1; end <= segments.length; end += 1) {
      const next = step(node, segments.slice(index, end).join('_'));
      if (!next.ok) continue;
      const found = resolveEnvFrom(next.node, segments, end, [...path, next.key]);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  const next = step(node, segments[index] ?? '');
  if (!next.ok) return undefined;
  return resolveEnvFrom(next.node, segments, index + 1, [...path, next.key]);
}

/** Returns the nodes along a canonical path, starting with the root's child. */
export function nodesAlong(path: readonly string[], root: OptionNode = optionTree): OptionNode[] {
  const nodes: OptionNode[] = [];
  let node = root;
  for (const segment of path) {
    const next = step(node, segment);
    if (!next.ok) break;
    node = next.node;
    nodes.push(node);
  }
  return nodes;
}

/** An option or toggle section of the tree, with `<name>` in place of item names. */
export interface OptionPattern {
  segments: string[];
  node: LeafNode | SectionNode;
}

/** Lists every option and toggle section under `node` in schema order. */
export function listOptions(node: OptionNode = optionTree, prefix: string[] = []): OptionPattern[] {
  if (node.kind === 'leaf') return [{ segments: prefix, node }];
  if (node.kind === 'items') return listOptions(node.item, [...prefix, `<${node.itemName}>`]);

  const own: OptionPattern[] = node.toggle ? [{ segments: prefix, node }] : [];
  const nested = [...node.children.values()].flatMap((child) => listOptions(child, [...prefix, child.key]));
  return [...own, ...nested];
}
