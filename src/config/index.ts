// Static configuration: entry points, providers, API, ping and logs, read at start from flags,
// environment variables and a YAML file in Traefik's names.

export { ConfigError, type ConfigErrorDetails } from './errors.js';
export { staticConfigHelp } from './help.js';
export { type StaticConfigInput, loadStaticConfig } from './load.js';
export { CONFIG_FILE_NAMES } from './sources/file.js';
export {
  type AcmeKeyType,
  type AcmeResolverConfig,
  type DnsChallengeConfig,
  LETS_ENCRYPT_DIRECTORY,
  type ApiConfig,
  type DockerProviderConfig,
  type EntryPointAddress,
  type EntryPointConfig,
  type EntryPointRedirectionConfig,
  type EntryPointTlsConfig,
  type FileProviderConfig,
  INTERNAL_ENTRY_POINT,
  INTERNAL_ENTRY_POINT_ALIAS,
  type LogConfig,
  type LogFormat,
  type LogLevel,
  type PingConfig,
  type ServersTransportConfig,
  type StaticConfig,
} from './types.js';
