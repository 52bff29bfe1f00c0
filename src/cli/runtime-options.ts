// The parts of the static configuration that decide how routers are built: the entry points, their
// `http.tls` and `http.redirections.entryPoint` settings, and the certificate resolvers. `berth run`
// and the commands that build a runtime without serving (`check`, `explain --compose`) take them
// from here, so that both report the same TLS routers, warnings and redirects.
import type { EntryPointRedirectionConfig, StaticConfig } from '../config/index.js';
import type { RouterTlsConfig } from '../dynamic/model.js';
import { getOwn } from '../dictionary.js';
import { resolverChallenges, type ChallengeType } from '../tls/acme/domains.js';

export interface StaticRuntimeOptions {
  /** Entry points that serve routers: all but the internal one, sorted by name. */
  entryPoints: string[];
  entryPointTls: Map<string, RouterTlsConfig>;
  entryPointRedirections: Map<string, EntryPointRedirectionConfig>;
  /** Names of the configured certificate resolvers, in lower case. */
  certResolvers: string[];
  /** Challenge type of each configured resolver that has one, by name. */
  certResolverChallenges: Map<string, ChallengeType>;
}

/** Collects the runtime build options that `config` sets. */
export function staticRuntimeOptions(config: StaticConfig): StaticRuntimeOptions {
  const entryPoints = Object.keys(config.entryPoints)
    .filter((name) => name !== config.internalEntryPoint)
    .sort();
  const entryPointTls = new Map<string, RouterTlsConfig>();
  const entryPointRedirections = new Map<string, EntryPointRedirectionConfig>();
  for (const name of entryPoints) {
    const http = getOwn(config.entryPoints, name)?.http;
    if (http?.tls) entryPointTls.set(name, http.tls);
    if (http?.redirections) entryPointRedirections.set(name, http.redirections.entryPoint);
  }
  const resolvers = Object.values(config.certificatesResolvers);
  const certResolvers = resolvers.map((resolver) => resolver.name);
  return { entryPoints, entryPointTls, entryPointRedirections, certResolvers, certResolverChallenges: resolverChallenges(resolvers) };
}
