// Reads a compose file into the containers docker compose would start, so labels can be checked
// and requests explained without Docker. Each container is a running host-network container,
// because the addresses compose would assign are unknown offline: its server is
// http://127.0.0.1:PORT with the port from labels, `expose` or `ports`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ContainerInfo } from '../providers/docker/container-info.js';
import { parseBoolean } from '../labels/schema.js';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from '../providers/docker/naming.js';
import { interpolateTree, readDotEnv, type Environment } from './compose-interpolation.js';
import { composePorts, proxyFlags } from './compose-fields.js';
import { createDictionary, getOwn } from '../dictionary.js';
import { quoteOptionValue, quoteValue } from '../quote.js';

export interface ComposeProject {
  /** Absolute path of the compose file. */
  file: string;
  projectName: string;
  containers: ContainerInfo[];
  /** Static configuration flags from the `command` of a Traefik or Berth service in the file. */
  proxyFlags: string[];
  /** Things the reader assumed or could not read, for the user to know. */
  notes: string[];
}

export interface ComposeOptions {
  /** `--project-name`; otherwise COMPOSE_PROJECT_NAME, the file's `name`, then the folder name. */
  projectName?: string;
  /** Variables for interpolation; the `.env` file next to the compose file fills in unset ones. */
  env: Environment;
  /** Label prefix of the Docker provider, to tell which services Berth would route. */
  labelPrefix: string;
  /** The Docker provider's exposedByDefault; true, Traefik's default, when unset. */
  exposedByDefault?: boolean;
  /** `--profile` values; otherwise COMPOSE_PROFILES, comma-separated. `*` enables every profile. */
  profiles?: readonly string[];
}

/** Port assumed for a routed service whose compose entry and labels show none, because images usually EXPOSE 80. */
export const ASSUMED_PORT = 80;

/** A compose file that cannot be read as docker compose would read it. */
export class ComposeFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ComposeFileError';
  }
}

/** Reads and interprets the compose file at `path`. Throws ComposeFileError for an unreadable file. */
export async function readComposeFile(path: string, options: ComposeOptions): Promise<ComposeProject> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ComposeFileError(`cannot read compose file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const dotEnv = await readDotEnv(dirname(file));
  return composeProject(text, file, { ...options, env: { ...dotEnv, ...definedOnly(options.env) } });
}

/** Interprets compose YAML `text` read from `file`. */
export function composeProject(text: string, file: string, options: ComposeOptions): ComposeProject {
  let document: unknown;
  try {
    // Merge keys (`<<: *defaults`) are common in compose files, and docker compose accepts them.
    document = parseYaml(text, { merge: true });
  } catch (error) {
    throw new ComposeFileError(`${file} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!isRecord(document) || !('services' in document)) {
    throw new ComposeFileError(`${file} has no services section; a compose file lists its containers under services:`);
  }
  const services = serviceMap(document.services, file);

  const notes: string[] = [];
  const projectName = chooseProjectName(options, document.name, file, notes);
  const project: ComposeProject = { file, projectName, containers: [], proxyFlags: [], notes };
  if (Object.keys(services).length === 0) {
    notes.push(`services is ${emptyForm(document.services)}, so the file declares no services and there is nothing to route`);
  }

  const enabledProfiles = new Set(options.profiles ?? parseProfileList(options.env.COMPOSE_PROFILES ?? ''));
  for (const [service, raw] of Object.entries(services)) {
    if (!isRecord(raw)) {
      // docker compose rejects such a service too, rather than skipping it.
      const form = raw === null ? 'empty' : Array.isArray(raw) ? 'a list' : `the ${typeof raw} ${quoteValue(String(raw))}`;
      throw new ComposeFileError(`services.${service} in ${file} is ${form}, but it must be a mapping of the service's settings, as in "${service}: {image: nginx}"`);
    }
    const definition = interpolateTree(pickFields(raw), options.env, notes, `services.${service}`) as Record<string, unknown>;
    const inactive = inactiveNote(service, definition.profiles, enabledProfiles);
    if (inactive !== undefined) {
      notes.push(inactive);
      continue;
    }
    project.containers.push(...serviceContainers(projectName, service, definition, options, notes));
    project.proxyFlags.push(...proxyFlags(definition.image, definition.command));
  }
  return project;
}

/** The service fields the reader uses; only these are interpolated, as the rest is never read. */
const FIELDS = ['image', 'command', 'labels', 'deploy', 'scale', 'container_name', 'expose', 'ports', 'extends', 'profiles'] as const;

function pickFields(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(FIELDS.filter((field) => raw[field] !== undefined).map((field) => [field, raw[field]]));
}

function serviceContainers(project: string, service: string, definition: Record<string, unknown>, options: ComposeOptions, notes: string[]): ContainerInfo[] {
  const deploy = isRecord(definition.deploy) ? definition.deploy : {};
  const labels = { ...labelRecord(deploy.labels, `services.${service}.deploy.labels`), ...labelRecord(definition.labels, `services.${service}.labels`) };
  const prefix = options.labelPrefix.toLowerCase();
  const prefixed = Object.keys(labels).filter((key) => key.toLowerCase().startsWith(`${prefix}.`));

  if (prefixed.length > 0 && Object.keys(labelRecord(deploy.labels, '')).length > 0) {
    notes.push(`service ${service}: deploy.labels are read like labels here, but docker compose without Swarm does not put them on containers, so a running Berth does not see them`);
  }
  if (definition.extends !== undefined) {
    notes.push(`service ${service}: extends is not followed, so labels and ports of the extended service are missing`);
  }

  const routed = isRouted(labels, prefix, options.exposedByDefault ?? true);
  const replicaField = definition.scale !== undefined ? 'scale' : 'deploy.replicas';
  const replicas = replicasOf(service, definition.scale, deploy.replicas);
  if (replicas === 0) {
    // Routers come from the labels of running containers, so a service scaled to 0 has none.
    if (routed) notes.push(zeroReplicasNote(service, replicaField, routerNames(prefixed)));
    return [];
  }

  let ports = composePorts(definition.expose, definition.ports);
  // A server.port or server.url label sets the port itself, so the container's ports are not needed.
  const portLabel = prefixed.some((key) => /^[^.]+\.http\.services\.[^.]+\.loadbalancer\.server\.(port|url)$/i.test(key));
  if (ports.length === 0 && routed && !portLabel) {
    const portHint = `set a ${options.labelPrefix}.http.services.<name>.loadbalancer.server.port label`;
    notes.push(
      prefixed.length > 0
        ? `service ${service}: no expose, ports or loadbalancer.server.port label, and the ports its image EXPOSEs are unknown offline; port ${ASSUMED_PORT} is assumed (${portHint} to be sure)`
        : `service ${service}: has no labels but is routed because exposedByDefault is true; a running Berth uses the port its image EXPOSEs, which is unknown offline, so port ${ASSUMED_PORT} is assumed (${portHint}, or ${options.labelPrefix}.enable=false if it should not be routed)`,
    );
    ports = [ASSUMED_PORT];
  }

  const containers: ContainerInfo[] = [];
  for (let number = 1; number <= replicas; number++) {
    const customName = typeof definition.container_name === 'string' && replicas === 1 ? definition.container_name : undefined;
    const name = customName ?? `${project}-${service}-${number}`;
    containers.push({
      id: createHash('sha256').update(`${project}/${service}/${number}`).digest('hex'),
      name,
      // The labels docker compose adds win over the file's own, as they do on real containers.
      labels: {
        ...labels,
        [COMPOSE_PROJECT_LABEL]: project,
        [COMPOSE_SERVICE_LABEL]: service,
        'com.docker.compose.container-number': String(number),
        'com.docker.compose.oneoff': 'False',
      },
      state: 'running',
      paused: false,
      health: 'none',
      networkMode: 'host',
      networks: [],
      exposedPorts: ports,
    });
  }
  return containers;
}

/**
 * Returns the services of a compose file by name. An empty list and an empty `services:` mean no
 * services. A list of services is an error, because compose names each service by its key.
 */
function serviceMap(value: unknown, file: string): Record<string, unknown> {
  if (isRecord(value)) return value;
  if (value === null || (Array.isArray(value) && value.length === 0)) return {};
  const form = Array.isArray(value) ? 'a list' : `the ${typeof value} ${JSON.stringify(value)}`;
  throw new ComposeFileError(`services in ${file} is ${form}, but it must be a mapping from service names to their settings, as in "services: {web: {image: nginx}}"`);
}

function emptyForm(value: unknown): string {
  if (Array.isArray(value)) return 'an empty list';
  return value === null ? 'empty' : 'an empty mapping';
}

/** Splits a COMPOSE_PROFILES value; blanks around names and empty names are dropped. */
function parseProfileList(text: string): string[] {
  return text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/**
 * Returns the note for a service that docker compose would not start, or undefined when it runs.
 * A service with `profiles` runs only when one of them is enabled (or `*` is), and a service
 * without them always runs.
 */
function inactiveNote(service: string, value: unknown, enabled: ReadonlySet<string>): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ComposeFileError(`services.${service}.profiles must be a list of profile names, such as profiles: [debug]`);
  const profiles = value.map(String);
  if (profiles.length === 0 || enabled.has('*') || profiles.some((profile) => enabled.has(profile))) return undefined;
  const first = profiles[0] ?? '';
  return `service ${service}: inactive, because none of its profiles (${profiles.join(', ')}) is enabled, so it has no containers or routers here; enable one with --profile ${first} or COMPOSE_PROFILES=${first}`;
}

/** Returns the router names that labels such as `traefik.http.routers.NAME.rule` declare, in order. */
function routerNames(prefixedKeys: readonly string[]): string[] {
  const names = prefixedKeys.map((key) => /^[^.]+\.http\.routers\.([^.]+)\./i.exec(key)?.[1]).filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}

function zeroReplicasNote(service: string, field: string, routers: readonly string[]): string {
  const declared = routers.length === 0 ? 'its default router is' : `its router${routers.length === 1 ? '' : 's'} ${routers.join(', ')} ${routers.length === 1 ? 'is' : 'are'}`;
  return `service ${service}: ${field} is 0, so it runs no containers and ${declared} not created; requests that only it would match get 404 until the service is scaled up`;
}

/** Returns whether the Docker provider would route a container with `labels`, from `<prefix>.enable` and exposedByDefault. */
function isRouted(labels: Record<string, string>, prefix: string, exposedByDefault: boolean): boolean {
  const enableKey = Object.keys(labels).find((key) => key.toLowerCase() === `${prefix}.enable`);
  if (enableKey === undefined) return exposedByDefault;
  // The builder reads the label the same way, and skips the container for an invalid value.
  return parseBoolean(getOwn(labels, enableKey) ?? '') === true;
}

/** Reads labels in map form (`key: value`) or list form (`- key=value`). */
function labelRecord(value: unknown, where: string): Record<string, string> {
  const labels = createDictionary<string>();
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = String(entry);
      const equals = text.indexOf('=');
      labels[equals === -1 ? text : text.slice(0, equals)] = equals === -1 ? '' : text.slice(equals + 1);
    }
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) labels[key] = item === null || item === undefined ? '' : String(item);
  } else if (value !== undefined && value !== null) {
    throw new ComposeFileError(`${where} must be a map or a list of "key=value" strings`);
  }
  return labels;
}

/**
 * Returns the number of containers of a service from `scale` and `deploy.replicas`, 1 without
 * either. Both may be set only to the same number, as docker compose v2 requires.
 */
function replicasOf(service: string, scale: unknown, replicas: unknown): number {
  const fromScale = replicaCount(service, 'scale', scale);
  const fromReplicas = replicaCount(service, 'deploy.replicas', replicas);
  if (fromScale !== undefined && fromReplicas !== undefined && fromScale !== fromReplicas) {
    throw new ComposeFileError(`service ${service}: scale is ${fromScale} but deploy.replicas is ${fromReplicas}; docker compose rejects two different counts, so keep one of them`);
  }
  return fromScale ?? fromReplicas ?? 1;
}

function replicaCount(service: string, field: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const count = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(count) || count < 0) {
    throw new ComposeFileError(`services.${service}.${field} ${quoteOptionValue(value)} is invalid: write a whole number of containers, 0 or more`);
  }
  return count;
}

/**
 * Chooses the project name with docker compose's precedence: the option, COMPOSE_PROJECT_NAME, the
 * file's top-level `name`, then the folder of the file in lower case with characters other than
 * letters, digits, `-` and `_` removed.
 */
function chooseProjectName(options: ComposeOptions, fileName: unknown, file: string, notes: string[]): string {
  let explicit = options.projectName ?? options.env.COMPOSE_PROJECT_NAME;
  if (explicit === undefined && typeof fileName === 'string') explicit = interpolateTree(fileName, options.env, notes, 'name') as string;
  if (explicit !== undefined && explicit !== '') {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(explicit)) {
      throw new ComposeFileError(`project name "${explicit}" is invalid: use lower-case letters, digits, "-" and "_", starting with a letter or digit`);
    }
    return explicit;
  }
  const folder = basename(dirname(file))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
  if (folder === '') throw new ComposeFileError(`no project name can be derived from the folder of ${file}; pass --project-name`);
  return folder;
}

function definedOnly(env: Environment): Record<string, string> {
  return createDictionary(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
