// Loads `docker inspect` documents from test/fixtures/inspect as ContainerInfo snapshots.
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import type { ContainerInfo } from '../../../src/providers/docker/container-info.js';
import { toContainerInfo } from '../../../src/providers/docker/inspect.js';

const directory = new URL('../../fixtures/inspect/', import.meta.url);

/** Reads one fixture document as Docker returns it. */
export function readInspect(name: string): Dockerode.ContainerInspectInfo {
  return JSON.parse(readFileSync(new URL(`${name}.json`, directory), 'utf8')) as Dockerode.ContainerInspectInfo;
}

/** Converts one fixture; `labels` replaces the fixture's labels when given. */
export function fixture(name: string, labels?: Record<string, string>): ContainerInfo {
  const info = toContainerInfo(readInspect(name));
  if (labels !== undefined) info.labels = labels;
  return info;
}

/** Builder options as Traefik's defaults set them, with every container exposed. */
export const defaultOptions = {
  labelPrefix: 'traefik',
  exposedByDefault: true,
  defaultRule: 'Host(`{{ normalize .Name }}`)',
};

/** Creates a running container on network `app_default` at `ip` with port 80 exposed, for label tables. */
export function container(name: string, labels: Record<string, string> = {}, overrides: Partial<ContainerInfo> = {}, ip = '172.30.0.2'): ContainerInfo {
  return {
    id: name.replace(/[^a-z0-9]/gi, '').padEnd(64, '0'),
    name,
    labels,
    state: 'running',
    paused: false,
    health: 'none',
    networkMode: 'app_default',
    networks: [{ name: 'app_default', ipAddress: ip }],
    exposedPorts: [80],
    ...overrides,
  };
}
