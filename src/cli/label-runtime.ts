// Builds a runtime from container labels without serving anything, for `berth check` and
// `berth explain --compose`: the same builder, merge and compile steps as `berth run`, so every
// error and warning is the one a running Berth would report.
import Docker from 'dockerode';
import { ConfigError, loadStaticConfig, type DockerProviderConfig, type StaticConfig } from '../config/index.js';
import { mergeProviders } from '../dynamic/merged.js';
import type { ContainerInfo } from '../providers/docker/container-info.js';
import { buildProviderConfig } from '../providers/docker/build.js';
import { dockerOptions } from '../providers/docker/endpoint.js';
import { toContainerInfo } from '../providers/docker/inspect.js';
import { buildRuntime, type Runtime } from '../routing/runtime.js';
import { UsageError, type CommandIO } from './args.js';
import { readComposeFile, type ComposeOptions, type ComposeProject } from './compose.js';
import { staticRuntimeOptions } from './runtime-options.js';

/** Loads the static configuration from `flags`, the environment and the configuration file, as `berth run` does. */
export async function loadConfig(flags: readonly string[], io: CommandIO): Promise<StaticConfig> {
  return loadStaticConfig({ argv: flags, env: io.env, cwd: io.cwd, isTTY: io.isTTY });
}

/** Returns the Docker provider's options, which decide how labels are read, or throws when the provider is off. */
export function dockerProviderOf(config: StaticConfig): DockerProviderConfig {
  const docker = config.providers.docker;
  if (docker === undefined && config.providers.file !== undefined) {
    // The Docker provider is on by default only while no source mentions any provider.
    throw new ConfigError('the Docker provider is off, because a file provider is configured and the Docker provider is on by default only without one, but labels are read with its options; add --providers.docker');
  }
  if (docker === undefined) {
    throw new ConfigError('the Docker provider is off (--providers.docker=false), but labels are read with its options; turn it on');
  }
  return docker;
}

/** Compiles the routers, services and middlewares that `containers` declare into a runtime. */
export function runtimeFromContainers(containers: ContainerInfo[], config: StaticConfig): Runtime {
  const docker = dockerProviderOf(config);
  const providerConfig = buildProviderConfig(containers, {
    labelPrefix: docker.labelPrefix,
    exposedByDefault: docker.exposedByDefault,
    defaultRule: docker.defaultRule,
    ...(docker.network ? { network: docker.network } : {}),
    selfNetworks: [],
    allowEmptyServices: docker.allowEmptyServices,
  });
  // The entry points' TLS and redirection settings and the resolvers are those of `berth run`.
  return buildRuntime(mergeProviders(new Map([['docker', providerConfig]])), { ...staticRuntimeOptions(config), generation: 1 });
}

/** The `--project-name` and `--profile` options of a command that reads a compose file. */
export interface ComposeSelection {
  projectName?: string | undefined;
  profiles?: readonly string[] | undefined;
}

export interface ComposeRuntime {
  project: ComposeProject;
  config: StaticConfig;
  runtime: Runtime;
}

/**
 * Reads a compose file and builds its runtime. Entry point and Docker provider options on the
 * command line of a Traefik or Berth service in the file apply first, and `flags` override them.
 */
export async function composeRuntime(file: string, selection: ComposeSelection, flags: readonly string[], io: CommandIO): Promise<ComposeRuntime> {
  const userConfig = await loadConfig(flags, io);
  const read = (config: StaticConfig): Promise<ComposeProject> => {
    const docker = dockerProviderOf(config);
    const options: ComposeOptions = { env: io.env, labelPrefix: docker.labelPrefix, exposedByDefault: docker.exposedByDefault };
    if (selection.projectName !== undefined) options.projectName = selection.projectName;
    if (selection.profiles !== undefined && selection.profiles.length > 0) options.profiles = selection.profiles;
    return readComposeFile(file, options);
  };
  let project = await read(userConfig);

  let config = userConfig;
  if (project.proxyFlags.length > 0) {
    try {
      config = await loadConfig([...project.proxyFlags, ...flags], io);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`the command of the Traefik or Berth service in ${project.file} has an option Berth cannot use: ${error.message}`);
    }
    // The proxy service's own flags may change the prefix or exposedByDefault, which decide the notes and assumed ports.
    const before = dockerProviderOf(userConfig);
    const after = dockerProviderOf(config);
    if (before.labelPrefix !== after.labelPrefix || before.exposedByDefault !== after.exposedByDefault) project = await read(config);
  }
  return { project, config, runtime: runtimeFromContainers(project.containers, config) };
}

/** Reads every container of the Docker endpoint, as the provider does at start. */
export async function dockerContainers(endpoint: string): Promise<ContainerInfo[]> {
  const docker = new Docker(dockerOptions(endpoint));
  const listed = await docker.listContainers({ all: true });
  const containers: ContainerInfo[] = [];
  for (const item of listed) {
    try {
      containers.push(toContainerInfo(await docker.getContainer(item.Id).inspect()));
    } catch (error) {
      // A container removed between the list and its inspection is simply gone.
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }
  return containers;
}
