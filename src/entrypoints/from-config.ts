// Turns the static configuration of an entry point and the current runtime into the settings of
// its listener.
import type { EntryPointConfig } from '../config/index.js';
import type { Runtime } from '../routing/runtime.js';
import { DEFAULT_TLS_OPTIONS, type TlsOptions } from '../tls/options.js';
import type { ForwardedHeadersOptions } from './forwarded-trust.js';
import type { EntryPointOptions } from './server.js';

type ListenerSettings = Pick<EntryPointOptions, 'address' | 'forwardedHeaders' | 'timeouts' | 'http2' | 'graceTimeOutMs' | 'maxHeaderSize' | 'keepAlive'>;

/** Returns the listener settings of an entry point from its static configuration. */
export function listenerSettings(config: EntryPointConfig): ListenerSettings {
  const { respondingTimeouts, lifeCycle } = config.transport;
  return {
    address: config.address,
    forwardedHeaders: { trustedIPs: config.forwardedHeaders.trustedIPs, insecure: config.forwardedHeaders.insecure },
    timeouts: {
      readTimeoutMs: respondingTimeouts.readTimeoutMs,
      writeTimeoutMs: respondingTimeouts.writeTimeoutMs,
      idleTimeoutMs: respondingTimeouts.idleTimeoutMs,
    },
    http2: { maxConcurrentStreams: config.http2.maxConcurrentStreams, h2c: config.http2.h2c },
    graceTimeOutMs: lifeCycle.graceTimeOutMs,
    maxHeaderSize: config.http.maxHeaderBytes,
    keepAlive: { maxRequests: config.transport.keepAliveMaxRequests, maxTimeMs: config.transport.keepAliveMaxTimeMs },
  };
}

/** Returns the forwardedHeaders settings of every entry point in `entryPoints`, by name, for explain. */
export function forwardedHeadersByEntryPoint(entryPoints: Readonly<Record<string, EntryPointConfig>>): Map<string, ForwardedHeadersOptions> {
  return new Map(Object.entries(entryPoints).map(([name, config]) => [name, listenerSettings(config).forwardedHeaders ?? { trustedIPs: [], insecure: false }]));
}

/**
 * Returns the TLS options of a handshake on `entryPoint` for `serverName`, from the runtime that is
 * current at the time of the handshake. Undefined means the options that apply are invalid.
 */
export function tlsOptionsFor(runtime: Runtime, entryPoint: string, serverName: string | undefined): TlsOptions | undefined {
  const selector = runtime.tlsOptionsSelectors.get(entryPoint);
  if (selector !== undefined) return selector.forServerName(serverName);
  return runtime.tlsOptions.get('default') ?? DEFAULT_TLS_OPTIONS;
}
