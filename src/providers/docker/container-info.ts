// A plain snapshot of one container, read from `docker inspect`, so the configuration builder
// is a pure function that tests can feed with captured JSON.

export interface ContainerNetwork {
  /** Network name as Docker reports it, for example `myproj_proxy`. */
  name: string;
  ipAddress: string;
  ipv6Address?: string;
}

export type ContainerHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface ContainerInfo {
  id: string;
  /** Name without Docker's leading slash. */
  name: string;
  labels: Record<string, string>;
  /** `running`, `paused`, `exited`, `created`, ... as in `State.Status`. */
  state: string;
  paused: boolean;
  health: ContainerHealth;
  /** `HostConfig.NetworkMode`: `host`, `bridge`, `none`, `container:<id>`, or a network name. */
  networkMode: string;
  networks: ContainerNetwork[];
  /** Exposed TCP ports from `Config.ExposedPorts` and `NetworkSettings.Ports`, ascending, deduplicated. */
  exposedPorts: number[];
  /** True between a `kill`/`stop` event and the container's `die`: the server is draining. */
  stopping?: boolean;
}
