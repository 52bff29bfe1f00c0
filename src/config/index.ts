// Static configuration: entry points, providers, API, ping and logs, read at start from flags,
// environment variables and a YAML file in Traefik's names.

export { ConfigError, type ConfigErrorDetails } from './errors.js';
export { staticConfigHelp } from './help.js';
export { type StaticConfigInput, loadStaticConfig } from './load.js';
export { CONFIG_FILE_NAMES } from './sources/file.js';
export {
  type ApiConfig,
  type DockerProviderConfig,
  type EntryPointConfig,
  INTERNAL_ENTRY_POINT,
  INTERNAL_ENTRY_POINT_ALIAS,
  type LogConfig,
  type LogFormat,
  type LogLevel,
  type PingConfig,
  type StaticConfig,
} from './types.js';
