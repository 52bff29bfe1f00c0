// Turns merged settings into the final `StaticConfig`: parses every value with the schema, then
// applies the defaults that depend on other options and checks references between options.

import { resolve } from 'node:path';

import type * as z from 'zod';

import { ConfigError, invalidValueMessage } from './errors.js';
import { fileStyle, flagStyle } from './key-names.js';
import { type Setting, settingKey, toOptionObject } from './merge.js';
import { type StaticOptions, entryPointOptionsSchema, staticOptionsSchema } from './schema.js';
import { type EntryPointAddress, type EntryPointConfig, type FileProviderConfig, INTERNAL_ENTRY_POINT, type ServersTransportConfig, type StaticConfig } from './types.js';
import { Rejected, parseAddress } from './values.js';
import { buildCertificatesResolvers, checkChallengeEntryPoints } from './resolvers.js';
import { applyRedirections, entryPointTlsConfig } from './entrypoint-http.js';
import { createDictionary, getOwn } from '../dictionary.js';

export interface BuildContext {
  /** Whether stdout is a terminal, which makes `pretty` the default log format. */
  isTTY: boolean;
  /** Absolute path of the YAML file that was read, if any. */
  configFile: string | undefined;
  /** Directory that relative paths, such as an ACME storage file, start from. */
  cwd?: string;
}

const DEFAULT_ENTRY_POINT = 'web';
const DEFAULT_ENTRY_POINT_ADDRESS = ':80';
const INTERNAL_ENTRY_POINT_ADDRESS = ':8080';

/** Parses and completes merged settings, or throws a `ConfigError` naming the first problem. */
export function buildStaticConfig(merged: ReadonlyMap<string, Setting>, context: BuildContext): StaticConfig {
  const parsed = staticOptionsSchema.safeParse(toOptionObject(merged));
  if (!parsed.success) throw issueToError(parsed.error.issues[0], merged);
  const options: StaticOptions = parsed.data;

  const entryPoints = buildEntryPoints(options);
  applyRedirections(entryPoints, options, merged);
  const config: StaticConfig = {
    entryPoints,
    serversTransport: serversTransportConfig(options),
    providers: {},
    log: {
      level: options.log.level,
      format: options.log.format ?? (context.isTTY ? 'pretty' : 'json'),
    },
    internalEntryPoint: INTERNAL_ENTRY_POINT,
    certificatesResolvers: {},
  };

  const docker = options.providers.docker;
  if (docker !== undefined) {
    const { network, ...rest } = docker;
    config.providers.docker = network === undefined ? rest : { ...rest, network };
  }
  const file = fileProviderConfig(options, context.cwd, merged);
  if (file !== undefined) config.providers.file = file;
  if (options.api !== undefined) config.api = { ...options.api };
  if (options.ping !== undefined) config.ping = { ...options.ping };
  if (context.configFile !== undefined) config.configFile = context.configFile;
  config.certificatesResolvers = buildCertificatesResolvers(options, context.cwd, merged);
  checkChallengeEntryPoints(config, merged);

  checkPingEntryPoint(config, merged);
  checkAddressConflicts(entryPoints, merged);
  return config;
}

/**
 * Applies Traefik's entry point defaults. Entry point `web` on `:80` is added only when no entry
 * point is configured, because in Traefik any configured one replaces the default. The internal
 * entry point on `:8080` is added when the insecure API or `/ping` needs it and it is not configured.
 */
function buildEntryPoints(options: StaticOptions): Record<string, EntryPointConfig> {
  const entryPoints = createDictionary<EntryPointConfig>();
  for (const [name, entryPoint] of Object.entries(options.entryPoints ?? {})) {
    const config = entryPointConfig(entryPoint.address, entryPoint);
    if (entryPoint.http.tls !== undefined) config.http.tls = entryPointTlsConfig(name, entryPoint.http.tls);
    entryPoints[name] = config;
  }

  if (Object.keys(entryPoints).length === 0) {
    entryPoints[DEFAULT_ENTRY_POINT] = entryPointConfig(fixedAddress(DEFAULT_ENTRY_POINT_ADDRESS), entryPointOptionsSchema.parse({}));
  }

  const internalNeeded = options.api?.insecure === true || options.ping?.entryPoint === INTERNAL_ENTRY_POINT;
  if (internalNeeded && getOwn(entryPoints, INTERNAL_ENTRY_POINT) === undefined) {
    entryPoints[INTERNAL_ENTRY_POINT] = entryPointConfig(fixedAddress(INTERNAL_ENTRY_POINT_ADDRESS), entryPointOptionsSchema.parse({}));
  }
  return entryPoints;
}

function fixedAddress(address: string): EntryPointAddress {
  const parsed = parseAddress(address);
  if (parsed instanceof Rejected) throw new Error(`Built-in address ${address} is invalid: ${parsed.reason}`);
  return parsed;
}

function entryPointConfig(address: EntryPointAddress, options: z.output<typeof entryPointOptionsSchema>): EntryPointConfig {
  const { respondingTimeouts, lifeCycle } = options.transport;
  const config: EntryPointConfig = {
    ...address,
    forwardedHeaders: { trustedIPs: [...options.forwardedHeaders.trustedIPs], insecure: options.forwardedHeaders.insecure },
    transport: {
      respondingTimeouts: {
        readTimeoutMs: respondingTimeouts.readTimeout,
        writeTimeoutMs: respondingTimeouts.writeTimeout,
        idleTimeoutMs: respondingTimeouts.idleTimeout,
      },
      lifeCycle: { graceTimeOutMs: lifeCycle.graceTimeOut },
      keepAliveMaxRequests: options.transport.keepAliveMaxRequests,
      keepAliveMaxTimeMs: options.transport.keepAliveMaxTime,
    },
    http: { maxHeaderBytes: options.http.maxHeaderBytes },
    http2: { ...options.http2 },
  };
  if (options.http.tls !== undefined) config.http.tls = {};
  return config;
}

function serversTransportConfig(options: StaticOptions): ServersTransportConfig {
  const timeouts = options.serversTransport.forwardingTimeouts;
  return {
    forwardingTimeouts: {
      dialTimeoutMs: timeouts.dialTimeout,
      responseHeaderTimeoutMs: timeouts.responseHeaderTimeout,
      idleConnTimeoutMs: timeouts.idleConnTimeout,
    },
  };
}

function checkPingEntryPoint(config: StaticConfig, merged: ReadonlyMap<string, Setting>): void {
  const name = config.ping?.entryPoint;
  if (name === undefined || getOwn(config.entryPoints, name) !== undefined) return;

  const setting = merged.get('ping.entryPoint');
  const origin = setting?.origin ?? { source: 'default' as const, label: '--ping.entrypoint' };
  const defined = Object.keys(config.entryPoints).sort().join(', ');
  const reason = `no entry point is named ${name}; the entry points are ${defined}`;
  throw new ConfigError(invalidValueMessage(origin, name, reason), { option: origin.label, value: name, file: origin.file });
}

/**
 * Rejects two entry points on the same port when their hosts overlap, because the second listen
 * would fail with EADDRINUSE. Host names are compared as written, since resolving them here
 * would send DNS queries at configuration time.
 */
function checkAddressConflicts(entryPoints: Record<string, EntryPointConfig>, merged: ReadonlyMap<string, Setting>): void {
  const names = Object.keys(entryPoints).sort();
  for (const [index, first] of names.entries()) {
    for (const second of names.slice(index + 1)) {
      const a = getOwn(entryPoints, first);
      const b = getOwn(entryPoints, second);
      if (a === undefined || b === undefined || a.port !== b.port || !hostsOverlap(a.host, b.host)) continue;

      const where = (name: string): string =>
        merged.get(`entryPoints.${name}.address`)?.origin.label ?? `the default of entry point ${name}`;
      throw new ConfigError(
        `Entry points ${first} (${a.address}, from ${where(first)}) and ${second} (${b.address}, from ${where(second)}) both listen on port ${a.port}: give one of them another port, as in ${flagStyle.path(['entryPoints', second, 'address'])}=:${nextPort(a.port)}.`,
        { option: flagStyle.path(['entryPoints', second, 'address']), value: b.address },
      );
    }
  }
}

/** Builds the file provider's settings with absolute paths, or rejects a provider with no file or with two. */
function fileProviderConfig(options: StaticOptions, cwd: string | undefined, merged: ReadonlyMap<string, Setting>): FileProviderConfig | undefined {
  const file = options.providers.file;
  if (file === undefined) return undefined;

  const origin = (option: string): string => merged.get(`providers.file.${option}`)?.origin.label ?? flagStyle.path(['providers', 'file', option]);
  if (file.filename !== undefined && file.directory !== undefined) {
    throw new ConfigError(`Both ${origin('filename')} and ${origin('directory')} are set: the file provider reads one file or one directory, so remove one of them.`, {
      option: origin('directory'),
    });
  }
  if (file.filename === undefined && file.directory === undefined) {
    const enabledBy = merged.get('providers.file')?.origin.label ?? flagStyle.path(['providers', 'file']);
    throw new ConfigError(`The file provider, enabled by ${enabledBy}, needs a file: set --providers.file.filename=FILE or --providers.file.directory=DIRECTORY.`, {
      option: flagStyle.path(['providers', 'file', 'filename']),
    });
  }

  const base = cwd ?? process.cwd();
  return {
    ...(file.filename === undefined ? {} : { filename: resolve(base, file.filename) }),
    ...(file.directory === undefined ? {} : { directory: resolve(base, file.directory) }),
    watch: file.watch,
  };
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

function hostsOverlap(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || WILDCARD_HOSTS.has(a) || WILDCARD_HOSTS.has(b);
}

function nextPort(port: number): number {
  return port === 65535 ? port - 1 : port + 1;
}

/** Converts the first schema issue into a message that names the source of the value. */
function issueToError(issue: z.core.$ZodIssue | undefined, merged: ReadonlyMap<string, Setting>): ConfigError {
  const path = (issue?.path ?? []).map(String);
  const setting = merged.get(settingKey(path));

  if (setting !== undefined) {
    const reason = issue?.message ?? 'the value is invalid';
    return new ConfigError(invalidValueMessage(setting.origin, setting.value, reason), {
      option: setting.origin.label,
      value: setting.value === null ? '' : String(setting.value),
      file: setting.origin.file,
    });
  }

  // A required option is missing, so name the source that declared its section instead.
  const parentKey = settingKey(path.slice(0, -1));
  const declaring = [...merged.values()].find((candidate) => {
    const key = settingKey(candidate.path);
    return key === parentKey || key.startsWith(`${parentKey}.`);
  });
  const declaredBy = declaring === undefined ? '' : `, which ${declaring.origin.label} needs`;
  return new ConfigError(`Missing option ${flagStyle.path(path)} (${fileStyle.path(path)} in YAML)${declaredBy}.`, {
    option: flagStyle.path(path),
    file: declaring?.origin.file,
  });
}
