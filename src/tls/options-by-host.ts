// Chooses the TLS options of a handshake from its server name. As in Traefik, a TLS router applies
// its options to the hosts of its rule; other server names get the `default` options.
import { DEFAULT_TLS_OPTIONS_NAME, withOrigin, type MergedRouter } from '../dynamic/merged.js';
import type { TlsOptions } from './options.js';

/** One TLS router on one entry point, with the options it uses there. */
export interface TlsRouterUse {
  router: MergedRouter;
  /** Lower-case hosts of the rule, or null when the rule names no literal host. */
  hosts: readonly string[] | null;
  /** Name of the options, such as `default` or `modern@file`. */
  optionsName: string;
}

/** Returns `name` as hosts are compared: lower case, without a trailing dot. */
export function normalizeServerName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The TLS options of each server name on one entry point. Immutable; each runtime builds its own. */
export class TlsOptionsSelector {
  readonly #namesByHost: ReadonlyMap<string, string>;
  readonly #options: ReadonlyMap<string, TlsOptions>;

  /** `options` contains the usable options only, so a name missing from it means its options are invalid. */
  constructor(namesByHost: ReadonlyMap<string, string>, options: ReadonlyMap<string, TlsOptions>) {
    this.#namesByHost = namesByHost;
    this.#options = options;
  }

  /** Returns the name of the options for `serverName` (the SNI, or a Host header); no name means `default`. */
  optionsNameFor(serverName: string | undefined): string {
    if (serverName === undefined || serverName === '') return DEFAULT_TLS_OPTIONS_NAME;
    return this.#namesByHost.get(normalizeServerName(serverName)) ?? DEFAULT_TLS_OPTIONS_NAME;
  }

  /**
   * Returns the options of a handshake for `serverName`, or undefined when those options are
   * invalid, in which case the handshake must be rejected rather than served with other settings.
   */
  forServerName(serverName: string | undefined): TlsOptions | undefined {
    return this.#options.get(this.optionsNameFor(serverName));
  }
}

/**
 * Builds the selector of one entry point from its TLS routers. A host whose routers name
 * different options gets the `default` options, with a warning on each of those routers, because
 * a handshake can carry only one set of options.
 */
export function buildTlsOptionsSelector(uses: readonly TlsRouterUse[], options: ReadonlyMap<string, TlsOptions>): TlsOptionsSelector {
  const usesByHost = new Map<string, Map<string, MergedRouter[]>>();

  for (const use of uses) {
    if (use.hosts === null) {
      if (use.optionsName !== DEFAULT_TLS_OPTIONS_NAME) {
        use.router.warnings.push(
          withOrigin(
            use.router,
            `the rule names no host, so TLS options "${use.optionsName}" apply only to server names that another router with these options names; add a Host matcher to the rule`,
          ),
        );
      }
      continue;
    }
    for (const host of use.hosts) {
      const byName = usesByHost.get(host) ?? new Map<string, MergedRouter[]>();
      const routers = byName.get(use.optionsName) ?? [];
      if (!routers.includes(use.router)) routers.push(use.router);
      byName.set(use.optionsName, routers);
      usesByHost.set(host, byName);
    }
  }

  const namesByHost = new Map<string, string>();
  for (const [host, byName] of usesByHost) {
    if (byName.size === 1) {
      const [name] = byName.keys();
      if (name !== undefined && name !== DEFAULT_TLS_OPTIONS_NAME) namesByHost.set(host, name);
      continue;
    }

    const names = [...byName.keys()].sort();
    for (const routers of byName.values()) {
      for (const router of routers) {
        router.warnings.push(
          withOrigin(router, `routers on host ${host} use different TLS options (${names.join(', ')}), so the default TLS options are used for ${host}; give them the same tls.options`),
        );
      }
    }
  }

  return new TlsOptionsSelector(namesByHost, options);
}
