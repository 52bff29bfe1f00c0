// Certificate resolvers: turns the parsed `certificatesResolvers.<name>.acme` options into
// `AcmeResolverConfig`, applying Traefik's older option names and checking what a resolver needs
// to obtain certificates at all.

import { resolve } from 'node:path';

import { ConfigError } from './errors.js';
import { flagStyle } from './key-names.js';
import type { Setting } from './merge.js';
import type { StaticOptions } from './schema.js';
import type { AcmeResolverConfig, DnsChallengeConfig, StaticConfig } from './types.js';
import { createDictionary, getOwn } from '../dictionary.js';

/** DNS providers that Berth can create TXT records with. */
export const SUPPORTED_DNS_PROVIDERS = ['cloudflare'] as const;

/** Builds every resolver, with storage paths made absolute against `cwd`. */
export function buildCertificatesResolvers(
  options: StaticOptions,
  cwd: string | undefined,
  merged: ReadonlyMap<string, Setting>,
): Record<string, AcmeResolverConfig> {
  const resolvers = createDictionary<AcmeResolverConfig>();
  for (const [name, resolver] of Object.entries(options.certificatesResolvers ?? {})) {
    const acme = resolver.acme;
    const config: AcmeResolverConfig = {
      name,
      storage: resolve(cwd ?? process.cwd(), acme.storage),
      caServer: acme.caServer,
      keyType: acme.keyType,
      certificatesDurationHours: acme.certificatesDuration,
      tlsChallenge: acme.tlsChallenge !== undefined,
    };
    if (acme.email !== undefined) config.email = acme.email;
    if (acme.preferredChain !== undefined) config.preferredChain = acme.preferredChain;
    if (acme.eab !== undefined) config.eab = { kid: acme.eab.kid, hmacEncoded: acme.eab.hmacEncoded };
    if (acme.httpChallenge !== undefined) config.httpChallenge = { entryPoint: acme.httpChallenge.entryPoint };
    if (acme.dnsChallenge !== undefined) config.dnsChallenge = buildDnsChallenge(name, acme.dnsChallenge, merged);

    if (config.dnsChallenge === undefined && config.httpChallenge === undefined && !config.tlsChallenge) {
      const prefix = flagStyle.path(['certificatesResolvers', name, 'acme']);
      throw new ConfigError(
        `Certificate resolver ${name} has no challenge: set ${prefix}.dnschallenge.provider=cloudflare, ${prefix}.httpchallenge.entrypoint=NAME or ${prefix}.tlschallenge.`,
        { option: prefix },
      );
    }
    resolvers[name] = config;
  }
  return resolvers;
}

type DnsChallengeOptions = NonNullable<NonNullable<StaticOptions['certificatesResolvers']>[string]['acme']['dnsChallenge']>;

function buildDnsChallenge(name: string, options: DnsChallengeOptions, merged: ReadonlyMap<string, Setting>): DnsChallengeConfig {
  const provider = options.provider.toLowerCase();
  if (!SUPPORTED_DNS_PROVIDERS.some((supported) => supported === provider)) {
    const path = ['certificatesResolvers', name, 'acme', 'dnsChallenge', 'provider'];
    const label = merged.get(path.join('.'))?.origin.label ?? flagStyle.path(path);
    throw new ConfigError(
      `Invalid value "${options.provider}" for ${label}: Berth supports the DNS providers ${SUPPORTED_DNS_PROVIDERS.join(', ')}.`,
      { option: label, value: options.provider },
    );
  }

  // The propagation section replaced Traefik's flat names in v3.3; the newer name wins when both are set.
  return {
    provider,
    resolvers: options.resolvers ?? [],
    delayBeforeChecksMs: options.propagation?.delayBeforeChecks ?? options.delayBeforeCheck ?? 0,
    disableChecks: options.propagation?.disableChecks === true || options.disablePropagationCheck === true,
  };
}

/** Rejects an HTTP-01 challenge on an entry point that does not exist. */
export function checkChallengeEntryPoints(config: StaticConfig, merged: ReadonlyMap<string, Setting>): void {
  for (const resolver of Object.values(config.certificatesResolvers)) {
    const entryPoint = resolver.httpChallenge?.entryPoint;
    if (entryPoint === undefined || getOwn(config.entryPoints, entryPoint) !== undefined) continue;

    const path = ['certificatesResolvers', resolver.name, 'acme', 'httpChallenge', 'entryPoint'];
    const label = merged.get(path.join('.'))?.origin.label ?? flagStyle.path(path);
    const defined = Object.keys(config.entryPoints).sort().join(', ');
    throw new ConfigError(`Invalid value "${entryPoint}" for ${label}: no entry point is named ${entryPoint}; the entry points are ${defined}.`, {
      option: label,
      value: entryPoint,
    });
  }
}
