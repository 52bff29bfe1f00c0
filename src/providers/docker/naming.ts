// Names Traefik's Docker provider derives from a container: the `normalize` function of the
// defaultRule template, and the name of the default router and service.

import type { ContainerInfo } from './container-info.js';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/**
 * Replaces every run of characters that are neither letters nor digits with one `-`, and drops
 * such runs at both ends, as Traefik's `provider.Normalize` does (it splits on them and joins with `-`).
 * Letters and digits of any script are kept, so `café_1` becomes `café-1`.
 */
export function normalizeName(name: string): string {
  return name
    .split(/[^\p{L}\p{N}]+/u)
    .filter((part) => part !== '')
    .join('-');
}

/** Returns the compose project and service when both labels are set and not empty. */
export function composeIdentity(container: ContainerInfo): { project: string; service: string } | undefined {
  const project = container.labels[COMPOSE_PROJECT_LABEL] ?? '';
  const service = container.labels[COMPOSE_SERVICE_LABEL] ?? '';
  if (project === '' || service === '') return undefined;
  return { project, service };
}

/**
 * Returns the name Traefik gives the container's default router and service:
 * `normalize(<compose service>_<compose project>)` for compose containers, so all replicas of a
 * service share it, and `normalize(<container name>)` otherwise.
 */
export function containerServiceName(container: ContainerInfo): string {
  const compose = composeIdentity(container);
  const raw = compose === undefined ? container.name : `${compose.service}_${compose.project}`;
  return normalizeName(raw);
}

/**
 * Orders strings by UTF-16 code units. Unlike localeCompare it does not depend on the host's
 * locale, so sorted names come out the same on every machine.
 */
export function compareNames(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** Returns the container's name, or its short id when it has none, for log fields. */
export function containerLogName(container: ContainerInfo): string {
  return container.name === '' ? container.id.slice(0, 12) : container.name;
}

/** Returns a label for messages, such as `container myproj-web-1`. */
export function describeContainer(container: ContainerInfo): string {
  return `container ${containerLogName(container)}`;
}
