// Flat dotted labels as a tree: `a.b[0].c=v` becomes a → b → [0] → c with the value on the leaf.
// Names compare case-insensitively, as Traefik's label parser does, and each node keeps the
// spelling of the first label (in sorted key order) that created it, so the result does not
// depend on the order Docker lists the labels in.

/** One step of a label key: an option or chosen name, or a `[n]` list index. */
export type KeySegment = { name: string } | { index: number };

export interface LabelNode {
  segment: KeySegment;
  /** The value set on exactly this key, if any. */
  value?: string;
  /** Full label key that set `value`, for messages. */
  key?: string;
  children: LabelNode[];
}

/** A label that could not be placed in the tree, such as `a..b` or `a[x]`. */
export interface MalformedLabel {
  key: string;
  message: string;
  /**
   * Segments of the option that two labels set differently, as first written, with the section and
   * kind (`http`, `routers`) in lower case, so the caller can disable just the item it belongs to.
   * Unset for a key that cannot be parsed.
   */
  path?: string[];
}

export interface LabelTree {
  root: LabelNode;
  malformed: MalformedLabel[];
}

const SEGMENT = /^([^[\]]*)((?:\[\d+\])*)$/;

/** Splits `tls.domains[0].main` into segments, or returns undefined when the key is malformed. */
export function parseKeyPath(path: string): KeySegment[] | undefined {
  const segments: KeySegment[] = [];
  for (const part of path.split('.')) {
    const match = SEGMENT.exec(part);
    if (match === null || match[1] === '' || match[1] === undefined) return undefined;
    segments.push({ name: match[1] });
    for (const index of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) {
      segments.push({ index: Number(index[1]) });
    }
  }
  return segments;
}

/** Renders segments back into a key, with indices attached to the name before them. */
export function formatKeyPath(segments: readonly string[]): string {
  let text = '';
  for (const segment of segments) {
    if (segment.startsWith('[')) text += segment;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

/** Returns the segment as it appears in a key: the name, or `[n]`. */
export function segmentText(segment: KeySegment): string {
  return 'name' in segment ? segment.name : `[${segment.index}]`;
}

/** Returns a text that is equal for two segments exactly when they name the same child. Names compare case-insensitively. */
function segmentIdentity(segment: KeySegment): string {
  return 'name' in segment ? `.${segment.name.toLowerCase()}` : `[${segment.index}]`;
}

/**
 * Builds the tree of `labels`, whose keys are relative to the schema root.
 * `keyPrefix` is prepended to keys stored for messages (for example `traefik.`).
 */
export function buildLabelTree(labels: Record<string, string>, keyPrefix = ''): LabelTree {
  const root: LabelNode = { segment: { name: '' }, children: [] };
  const malformed: MalformedLabel[] = [];
  // Children by segment identity. A container may declare thousands of routers, and a linear
  // search of `children` for every label made building the tree quadratic in their number.
  const childIndex = new Map<LabelNode, Map<string, LabelNode>>();

  for (const path of Object.keys(labels).sort()) {
    const value = labels[path] ?? '';
    const fullKey = keyPrefix + path;
    const segments = parseKeyPath(path);
    if (segments === undefined) {
      malformed.push({ key: fullKey, message: `invalid label key "${fullKey}": expected dot-separated names with optional [n] indices` });
      continue;
    }

    let node = root;
    const names: string[] = [];
    for (const segment of segments) {
      let children = childIndex.get(node);
      if (children === undefined) {
        children = new Map();
        childIndex.set(node, children);
      }
      const identity = segmentIdentity(segment);
      let child = children.get(identity);
      if (child === undefined) {
        child = { segment, children: [] };
        node.children.push(child);
        children.set(identity, child);
      }
      node = child;
      const name = 'name' in child.segment ? child.segment.name : String(child.segment.index);
      names.push(names.length < 2 ? name.toLowerCase() : name);
    }

    // Two keys that differ only in case name the same option; identical values are harmless.
    if (node.key !== undefined && node.value !== value) {
      malformed.push({ key: fullKey, message: `labels "${node.key}" and "${fullKey}" set the same option to different values`, path: names });
      continue;
    }
    node.value = value;
    node.key ??= fullKey;
  }

  return { root, malformed };
}
