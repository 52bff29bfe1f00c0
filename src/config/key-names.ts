// Spelling of option keys in each source, and explanations of unknown keys.
//
// Each source spells an option its own way, and messages and help use the user's spelling:
// `--providers.docker.exposedbydefault` (Traefik's CLI reference is in lower case),
// `BERTH_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT`, and `providers.docker.exposedByDefault` in YAML.
// An unknown key is explained with the closest known option for a typo, else with the options
// of the deepest section the key did reach.

import { type SectionNode, type UnresolvedKey, listOptions, optionTree } from './option-tree.js';

export interface KeyStyle {
  /** Spells a whole canonical path. */
  path(path: readonly string[]): string;
  /** Spells one key, for lists of the options of a section. */
  segment(segment: string): string;
}

export const flagStyle: KeyStyle = {
  path: (path) => `--${path.join('.').toLowerCase()}`,
  segment: (segment) => segment.toLowerCase(),
};

/** Prefixes of environment variables, highest precedence first. */
export const ENV_PREFIXES = ['BERTH_', 'TRAEFIK_'] as const;

export type EnvPrefix = (typeof ENV_PREFIXES)[number];

export function envStyle(prefix: EnvPrefix = 'BERTH_'): KeyStyle {
  return {
    path: (path) => `${prefix}${path.join('_').toUpperCase()}`,
    segment: (segment) => segment.toUpperCase(),
  };
}

export const fileStyle: KeyStyle = {
  path: (path) => path.join('.'),
  segment: (segment) => segment,
};

/**
 * Returns the edit distance between two strings, counting an insertion, a deletion, a
 * substitution or a swap of two neighbours as one edit (optimal string alignment), so that the
 * common typo `dokcer` is one edit from `docker`.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j += 1) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(distance);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * Finds the option whose path is closest to `segments`, reading item names from the segments at
 * the same position, so `entrypoint.web.address` finds `entryPoints.web.address`. Returns
 * `undefined` when nothing is within a few edits.
 */
export function closestOption(segments: readonly string[], root: SectionNode = optionTree): string[] | undefined {
  const written = segments.join('.').toLowerCase();
  let best: string[] | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;

  for (const pattern of listOptions(root)) {
    const candidate = pattern.segments.map((segment, index) =>
      segment.startsWith('<') ? (segments[index] ?? segment).toLowerCase() : segment,
    );
    if (candidate.some((segment) => segment.startsWith('<'))) continue;

    const distance = editDistance(written, candidate.join('.').toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }

  return bestDistance > 0 && bestDistance <= typoLimit(written) ? best : undefined;
}

// One edit per five characters allows a few typos in a long key, but never turns a short
// unrelated word into a suggestion (`foo` is two edits from `log`).
function typoLimit(written: string): number {
  return Math.max(1, Math.floor(written.length / 5));
}

/** Finds the key of `section` closest to `segment`, for keys that are wrong before the last level. */
function closestChild(section: SectionNode, segment: string): string | undefined {
  const written = segment.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const child of section.children.values()) {
    const distance = editDistance(written, child.key.toLowerCase());
    if (distance < bestDistance) {
      best = child.key;
      bestDistance = distance;
    }
  }
  return bestDistance > 0 && bestDistance <= typoLimit(written) ? best : undefined;
}

/** Explains why `segments` names no option, in the spelling of `style`, as a sentence to follow a colon. */
export function explainUnknownKey(segments: readonly string[], unresolved: UnresolvedKey, style: KeyStyle): string {
  if (unresolved.reason !== undefined) return `${unresolved.reason}.`;

  const closest = closestOption(segments);
  if (closest !== undefined) return `did you mean ${style.path(closest)}?`;

  const { knownPath, knownNode } = unresolved;
  const unknownSegment = segments[knownPath.length] ?? '';
  if (knownNode.kind === 'leaf') {
    return `${style.path(knownPath)} is an option and has no option "${unknownSegment}" under it.`;
  }
  if (knownNode.kind !== 'section') return 'run "berth --help" for the list of options.';

  const sibling = closestChild(knownNode, unknownSegment);
  if (sibling !== undefined) return `did you mean ${style.path([...knownPath, sibling])}?`;

  const options = [...knownNode.children.values()].map((child) => style.segment(child.key)).join(', ');
  if (knownPath.length === 0) return `the top-level keys are ${options}; run "berth --help" for every option.`;
  return `${style.path(knownPath)} has no option "${unknownSegment}"; its options are ${options}.`;
}
