// Settings and their merging. A setting is what a source produces: one canonical option path
// with a raw value and the place it came from. Sources never parse values, so every value error
// is reported the same way, whichever source the value came from.
//
// Sources are merged option by option: a flag overrides an environment variable, which
// overrides the file, which overrides a default. A source overrides only the options it names,
// so `BERTH_LOG_LEVEL=debug` leaves the file's `log.format` in place.

import { ConfigError, invalidValueMessage } from './errors.js';
import { nodesAlong } from './option-tree.js';
import { type RawValue, Rejected, parseBoolean } from './values.js';
import { createDictionary, getOwn } from '../dictionary.js';

/** Sources in increasing order of precedence. */
export type SourceName = 'default' | 'file' | 'env' | 'flag';

export interface Origin {
  source: SourceName;
  /** The option as the user wrote it: `--api.insecure`, `BERTH_API_INSECURE` or `api.insecure (/srv/berth.yaml:4)`. */
  label: string;
  /** The YAML file, for settings read from one. */
  file?: string;
}

/**
 * Kind of the thing a setting path names. A `value` path names an option, such as
 * `entryPoints.web.address`. A `toggle` path names a section that can be turned on or off, such
 * as `ping` or `providers.docker`. An `item` path names an item declared with no options, such as
 * `entryPoints: { web: {} }`.
 */
export type SettingKind = 'value' | 'toggle' | 'item';

export interface Setting {
  /** Canonical path, such as `['providers', 'docker', 'exposedByDefault']`. */
  path: string[];
  kind: SettingKind;
  /** Raw value, which is `null` for an `item` and for an empty YAML value. */
  value: RawValue;
  origin: Origin;
}

/** Returns the key of a canonical path in a map of settings. */
export function settingKey(path: readonly string[]): string {
  return path.join('.');
}

const DOCKER_PROVIDER = ['providers', 'docker'];
const DOCKER_ENDPOINT = ['providers', 'docker', 'endpoint'];

/**
 * Merges sources given in increasing order of precedence into settings by key, then drops the
 * sections that the winning toggle turns off, and adds the defaults that depend on the others.
 * Only the winning value of an option is parsed later, so a flag can replace a file value that
 * Berth rejects, such as Traefik's `log.format: common`. Unknown keys are rejected in every source.
 */
export function mergeSources(sources: readonly Setting[][], env: Readonly<Record<string, string | undefined>>): Map<string, Setting> {
  const merged = new Map<string, Setting>();
  for (const settings of sources) {
    for (const setting of withImpliedToggles(settings)) merged.set(settingKey(setting.path), setting);
  }

  dropDisabledSections(merged);
  addDefaultProvider(merged);
  addDockerHost(merged, env);
  return merged;
}

/**
 * Adds, for every option inside a toggle section, a setting that turns the section on, unless
 * the same source sets the toggle itself. So `--providers.docker.network=web` alone enables the
 * provider, and overrides a `BERTH_PROVIDERS_DOCKER=false` of lower precedence.
 */
function withImpliedToggles(settings: readonly Setting[]): Setting[] {
  const explicit = new Set(settings.filter((setting) => setting.kind === 'toggle').map((setting) => settingKey(setting.path)));
  const implied = new Map<string, Setting>();

  for (const setting of settings) {
    const nodes = nodesAlong(setting.path);
    // The last node is the setting's own, so only its ancestors can imply a toggle.
    for (let depth = 0; depth < nodes.length - 1; depth += 1) {
      const node = nodes[depth];
      if (node?.kind !== 'section' || !node.toggle) continue;

      const path = setting.path.slice(0, depth + 1);
      const key = settingKey(path);
      if (explicit.has(key) || implied.has(key)) continue;
      implied.set(key, { path, kind: 'toggle', value: true, origin: setting.origin });
    }
  }

  // Implied toggles go first, so they never override anything within the same source.
  return [...implied.values(), ...settings];
}

/** Removes everything under a toggle that is off, after checking every toggle's value. */
function dropDisabledSections(merged: Map<string, Setting>): void {
  const disabled: string[] = [];
  for (const [key, setting] of merged) {
    if (setting.kind !== 'toggle') continue;
    const enabled = parseBoolean(setting.value === null ? '' : String(setting.value).trim(), setting.value);
    if (enabled instanceof Rejected) {
      throw new ConfigError(invalidValueMessage(setting.origin, setting.value, enabled.reason), {
        option: setting.origin.label,
        value: String(setting.value),
        file: setting.origin.file,
      });
    }
    setting.value = enabled;
    if (!enabled) disabled.push(key);
  }

  for (const key of merged.keys()) {
    if (disabled.some((section) => key.startsWith(`${section}.`))) merged.delete(key);
  }
}

/**
 * Enables the Docker provider when no source mentions any provider, because routing containers
 * is Berth's main job and `berth` with no arguments should do it. An explicit
 * `--providers.docker=false` counts as a mention and keeps it off.
 */
function addDefaultProvider(merged: Map<string, Setting>): void {
  for (const setting of merged.values()) {
    if (setting.path[0] === 'providers') return;
  }
  merged.set(settingKey(DOCKER_PROVIDER), {
    path: DOCKER_PROVIDER,
    kind: 'toggle',
    value: true,
    origin: { source: 'default', label: 'the default Docker provider' },
  });
}

/** Uses `DOCKER_HOST` as the endpoint when the Docker provider is on and no source sets one, as the Docker CLI does. */
function addDockerHost(merged: Map<string, Setting>, env: Readonly<Record<string, string | undefined>>): void {
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost === undefined || dockerHost === '') return;
  if (merged.get(settingKey(DOCKER_PROVIDER))?.value !== true) return;
  if (merged.has(settingKey(DOCKER_ENDPOINT))) return;

  merged.set(settingKey(DOCKER_ENDPOINT), {
    path: DOCKER_ENDPOINT,
    kind: 'value',
    value: dockerHost,
    origin: { source: 'default', label: 'DOCKER_HOST' },
  });
}

/** Builds the nested object that the schema parses, from settings whose toggles are booleans. */
export function toOptionObject(merged: ReadonlyMap<string, Setting>): Record<string, unknown> {
  const root = createDictionary<unknown>();
  for (const setting of merged.values()) {
    if (setting.kind === 'toggle' && setting.value !== true) continue;

    const parent = objectAt(root, setting.path.slice(0, -1));
    const last = setting.path[setting.path.length - 1] ?? '';
    if (setting.kind === 'value') parent[last] = setting.value;
    else objectAt(parent, [last]);
  }
  return root;
}

function objectAt(root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  let current = root;
  for (const segment of path) {
    const existing = getOwn(current, segment);
    if (typeof existing === 'object' && existing !== null) {
      current = existing as Record<string, unknown>;
    } else {
      const created = createDictionary<unknown>();
      current[segment] = created;
      current = created;
    }
  }
  return current;
}
