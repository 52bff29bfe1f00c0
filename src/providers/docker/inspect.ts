// Conversion of one `docker inspect` document into the plain ContainerInfo the builder reads.
// Fields that Docker reports as null or leaves out (Labels, ExposedPorts, Ports, Networks, Health)
// are treated as empty, because real documents contain both forms.

import type Dockerode from 'dockerode';
import type { ContainerHealth, ContainerInfo, ContainerNetwork } from './container-info.js';
import { compareNames } from './naming.js';
import { copyDictionary } from '../../dictionary.js';

const HEALTH_STATES: ReadonlySet<string> = new Set(['starting', 'healthy', 'unhealthy']);

/** Keys such as `80/tcp` or `53/udp`; Docker omits the protocol only for TCP. */
const PORT_KEY = /^(\d+)(?:\/([a-z]+))?$/i;

function tcpPort(key: string): number | undefined {
  const match = PORT_KEY.exec(key);
  if (match === null) return undefined;
  const protocol = (match[2] ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp') return undefined;
  const port = Number(match[1]);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Collects TCP ports from `Config.ExposedPorts` and `NetworkSettings.Ports`. Both are read because
 * host-network and `none` containers have an empty `NetworkSettings.Ports` even when the image or
 * `--expose` declares ports.
 */
function exposedTcpPorts(inspect: Dockerode.ContainerInspectInfo): number[] {
  const keys = [
    ...Object.keys(inspect.Config?.ExposedPorts ?? {}),
    ...Object.keys(inspect.NetworkSettings?.Ports ?? {}),
  ];
  const ports = new Set<number>();
  for (const key of keys) {
    const port = tcpPort(key);
    if (port !== undefined) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

function health(inspect: Dockerode.ContainerInspectInfo): ContainerHealth {
  const status = inspect.State?.Health?.Status;
  return status !== undefined && HEALTH_STATES.has(status) ? (status as ContainerHealth) : 'none';
}

function networks(inspect: Dockerode.ContainerInspectInfo): ContainerNetwork[] {
  const entries = Object.entries(inspect.NetworkSettings?.Networks ?? {});
  return entries
    .map(([name, endpoint]): ContainerNetwork => {
      const network: ContainerNetwork = { name, ipAddress: endpoint?.IPAddress ?? '' };
      const ipv6 = endpoint?.GlobalIPv6Address ?? '';
      if (ipv6 !== '') network.ipv6Address = ipv6;
      return network;
    })
    .sort((a, b) => compareNames(a.name, b.name));
}

/** Converts a `docker inspect` document into a ContainerInfo. */
export function toContainerInfo(inspect: Dockerode.ContainerInspectInfo): ContainerInfo {
  const state = inspect.State?.Status ?? 'unknown';
  return {
    id: inspect.Id,
    name: (inspect.Name ?? '').replace(/^\//, ''),
    labels: copyDictionary(inspect.Config?.Labels ?? {}),
    state,
    paused: inspect.State?.Paused === true || state === 'paused',
    health: health(inspect),
    networkMode: inspect.HostConfig?.NetworkMode ?? '',
    networks: networks(inspect),
    exposedPorts: exposedTcpPorts(inspect),
  };
}
