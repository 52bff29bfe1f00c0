// Decoding of one container's labels under the configured prefix (`traefik` by default) into the
// Docker provider's options and the HTTP routers, services and middlewares they declare.
// Issues are sorted by the item they belong to, so a bad label disables only that item.
// Traefik v1 labels (`traefik.port`, `traefik.frontend.rule`, `traefik.<segment>.port`, ...), which v2
// and v3 no longer read, are reported as warnings with their v3 equivalent instead of as unknown
// keys, because a container that still carries them usually has working v3 labels too.

import { decodeLabels } from '../../labels/decode.js';
import type { LabelIssue } from '../../labels/decode.js';
import { httpSchema } from '../../labels/http-schemas.js';
import type { MiddlewareLabels, RouterLabels, ServiceLabels } from '../../labels/http-schemas.js';
import { field } from '../../labels/schema.js';
import { createDictionary } from '../../dictionary.js';

/** All labels a container may carry under the prefix, as Traefik v3's Docker provider reads them. */
export const dockerLabelSchema = field.object({
  enable: field.bool(),
  docker: field.object({
    network: field.string(),
    allowNonRunning: field.bool(),
    // Read by Traefik's Swarm provider only; known here so Swarm-era labels do not raise errors.
    lbSwarm: field.bool(),
  }),
  http: httpSchema,
  tcp: field.ignored(),
  udp: field.ignored(),
});

/** Kind of v3 item that replaces a v1 label. */
export type LegacyTarget = 'router' | 'service';

export interface LegacyLabel {
  /** Full label key as written, for example `traefik.port`. */
  key: string;
  target: LegacyTarget;
  /** The v3 key relative to the prefix, with `<name>` where the router or service name goes. */
  replacement: string;
}

interface LegacyRule {
  /** Lower-case v1 key relative to the prefix; a trailing `*` matches any rest. */
  pattern: string;
  target: LegacyTarget;
  replacement: string;
}

// Most specific patterns first, because the first match wins.
const RULES: readonly LegacyRule[] = [
  { pattern: 'port', target: 'service', replacement: 'http.services.<name>.loadbalancer.server.port' },
  { pattern: 'protocol', target: 'service', replacement: 'http.services.<name>.loadbalancer.server.scheme' },
  { pattern: 'weight', target: 'service', replacement: 'http.services.<name>.loadbalancer.server.weight' },
  { pattern: 'backend', target: 'router', replacement: 'http.routers.<name>.service' },
  { pattern: 'backend.healthcheck.*', target: 'service', replacement: 'http.services.<name>.loadbalancer.healthcheck.path' },
  { pattern: 'backend.loadbalancer.stickiness*', target: 'service', replacement: 'http.services.<name>.loadbalancer.sticky.cookie' },
  { pattern: 'backend.*', target: 'service', replacement: 'http.services.<name>.loadbalancer.*' },
  { pattern: 'frontend.rule', target: 'router', replacement: 'http.routers.<name>.rule' },
  { pattern: 'frontend.entrypoints', target: 'router', replacement: 'http.routers.<name>.entrypoints' },
  { pattern: 'frontend.priority', target: 'router', replacement: 'http.routers.<name>.priority' },
  { pattern: 'frontend.passhostheader', target: 'service', replacement: 'http.services.<name>.loadbalancer.passhostheader' },
  { pattern: 'frontend.auth.basic*', target: 'router', replacement: 'http.middlewares.<name>.basicauth.users' },
  { pattern: 'frontend.redirect.*', target: 'router', replacement: 'http.middlewares.<name>.redirectscheme.scheme' },
  { pattern: 'frontend.headers.*', target: 'router', replacement: 'http.middlewares.<name>.headers.*' },
  { pattern: 'frontend.*', target: 'router', replacement: 'http.routers.<name>.*' },
];

/** First segments of the v3 label namespace; nothing under them is v1 syntax. */
const V3_ROOTS: ReadonlySet<string> = new Set(['enable', 'docker', 'http', 'tcp', 'udp']);

function matchRule(relative: string): LegacyRule | undefined {
  return RULES.find((rule) =>
    rule.pattern.endsWith('*') ? relative.startsWith(rule.pattern.slice(0, -1)) : relative === rule.pattern,
  );
}

/**
 * Finds v1 labels among `relative` (keys without the prefix and its dot). Segment labels such as
 * `web.frontend.rule` are recognized by dropping their first segment.
 */
export function findLegacyLabels(relative: Record<string, string>, keyPrefix: string): LegacyLabel[] {
  const found: LegacyLabel[] = [];
  for (const key of Object.keys(relative).sort()) {
    const lower = key.toLowerCase();
    const first = lower.split('.')[0] ?? '';
    if (V3_ROOTS.has(first)) continue;

    const segmentRest = lower.slice(first.length + 1);
    const rule = matchRule(lower) ?? (segmentRest === '' ? undefined : matchRule(segmentRest));
    if (rule !== undefined) found.push({ key: keyPrefix + key, target: rule.target, replacement: rule.replacement });
  }
  return found;
}

/** Returns the warning for one v1 label, naming its v3 equivalent for the item `name`. */
export function legacyWarning(label: LegacyLabel, keyPrefix: string, name: string): string {
  const replacement = keyPrefix + label.replacement.replace('<name>', name);
  return `unknown label "${label.key}": Traefik v1 syntax, which is ignored; the v3 equivalent is "${replacement}"`;
}

export type ItemKind = 'routers' | 'services' | 'middlewares';

const ITEM_KINDS: readonly ItemKind[] = ['routers', 'services', 'middlewares'];

export interface ContainerLabels {
  /** `<prefix>.enable` when set to a valid boolean. */
  enable?: boolean;
  /** `<prefix>.docker.network`. */
  network?: string;
  /** `<prefix>.docker.allownonrunning`: keep routers and services of a container that is not running. */
  allowNonRunning: boolean;
  routers: Record<string, RouterLabels>;
  services: Record<string, ServiceLabels>;
  middlewares: Record<string, MiddlewareLabels>;
  /** Whether labels under `<prefix>.tcp` or `<prefix>.udp` exist; Berth does not route them yet. */
  hasTcpOrUdp: boolean;
  /** Whether any label starts with the prefix. */
  hasPrefixedLabels: boolean;
  /** Issue messages of one router, service or middleware, by kind and item name. */
  itemIssues: Record<ItemKind, Map<string, string[]>>;
  /** Issues outside any item, such as an unknown `<prefix>.<key>` or an invalid `<prefix>.enable`. */
  containerIssues: LabelIssue[];
  /** Traefik v1 labels, reported as warnings. */
  legacy: LegacyLabel[];
}

/** Returns the labels whose key starts with `prefix.` (in any case), keyed by the rest of the key. */
export function selectPrefixed(labels: Record<string, string>, prefix: string): Record<string, string> {
  const start = `${prefix.toLowerCase()}.`;
  const selected = createDictionary<string>();
  for (const [key, value] of Object.entries(labels)) {
    if (key.toLowerCase().startsWith(start) && key.length > start.length) selected[key.slice(start.length)] = value;
  }
  return selected;
}

function itemOf(issue: LabelIssue): { kind: ItemKind; name: string } | undefined {
  const [section, kind, name] = issue.path;
  if (section !== 'http' || name === undefined) return undefined;
  const itemKind = ITEM_KINDS.find((candidate) => candidate === kind);
  return itemKind === undefined ? undefined : { kind: itemKind, name };
}

/** Decodes the labels of one container under `prefix` (without the trailing dot). */
export function readContainerLabels(labels: Record<string, string>, prefix: string): ContainerLabels {
  const keyPrefix = `${prefix}.`;
  const relative = selectPrefixed(labels, prefix);
  const legacy = findLegacyLabels(relative, keyPrefix);
  const legacyKeys = new Set(legacy.map((label) => label.key.slice(keyPrefix.length)));
  const current = createDictionary(Object.entries(relative).filter(([key]) => !legacyKeys.has(key)));

  const { value, issues } = decodeLabels(dockerLabelSchema, current, keyPrefix);

  const itemIssues: Record<ItemKind, Map<string, string[]>> = { routers: new Map(), services: new Map(), middlewares: new Map() };
  const containerIssues: LabelIssue[] = [];
  for (const issue of issues) {
    const item = itemOf(issue);
    if (item === undefined) {
      containerIssues.push(issue);
      continue;
    }
    const byName = itemIssues[item.kind];
    const messages = byName.get(item.name) ?? [];
    messages.push(issue.message);
    byName.set(item.name, messages);
  }

  const result: ContainerLabels = {
    allowNonRunning: value.docker?.allowNonRunning ?? false,
    routers: value.http?.routers ?? createDictionary(),
    services: value.http?.services ?? createDictionary(),
    middlewares: value.http?.middlewares ?? createDictionary(),
    hasTcpOrUdp: value.tcp === true || value.udp === true,
    hasPrefixedLabels: Object.keys(relative).length > 0,
    itemIssues,
    containerIssues,
    legacy,
  };
  if (value.enable !== undefined) result.enable = value.enable;
  if (value.docker?.network !== undefined) result.network = value.docker.network;
  return result;
}
