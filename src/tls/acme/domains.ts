// The certificates that routers request: a router with `tls.certresolver` gets one certificate
// for its `tls.domains` entries (one per entry), or else one for all the literal hosts of its rule,
// as Traefik does.

import type { Runtime } from '../../routing/runtime.js';
import { literalHosts, parseRule } from '../../rules/index.js';
import type { OrderRequest } from './order.js';

/** A certificate that routers need, with the routers that need it. */
export interface WantedCertificate {
  request: OrderRequest;
  /** Stable identity: the sorted names. */
  key: string;
  routers: string[];
}

/** A router setting that cannot produce a certificate, shown in the resolver's status. */
export interface DomainProblem {
  router: string;
  message: string;
}

// A name a public CA can issue for: letters, digits and hyphens in two or more labels, and an
// optional `*.` in front. IP addresses and single-label names such as `localhost` are left out.
const CERTIFICATE_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOTTED_NUMBERS = /^[0-9.]+$/;

/** Returns the sorted, lower-case identity of a set of names. */
export function certificateKey(names: readonly string[]): string {
  return [...new Set(names.map((name) => name.toLowerCase()))].sort().join(',');
}

/** Collects the certificates that the runtime's routers ask `resolver` for, merging identical requests. */
export function wantedCertificates(runtime: Runtime, resolver: string): { wanted: WantedCertificate[]; problems: DomainProblem[] } {
  const byKey = new Map<string, WantedCertificate>();
  const problems: DomainProblem[] = [];

  for (const router of runtime.config.routers.values()) {
    const tls = router.tls;
    if (tls?.certResolver?.toLowerCase() !== resolver) continue;

    const requests: OrderRequest[] = [];
    if (tls.domains !== undefined && tls.domains.length > 0) {
      for (const domain of tls.domains) requests.push({ main: domain.main.toLowerCase(), sans: domain.sans.map((name) => name.toLowerCase()) });
    } else {
      const parsed = parseRule(router.rule, router.ruleSyntax ?? 'v3');
      const hosts = parsed.ok ? literalHosts(parsed.tree) : null;
      if (hosts === null || hosts.length === 0) {
        problems.push({ router: router.name, message: `router ${router.name} names no literal Host in its rule, so set tls.domains[0].main for its certificate` });
        continue;
      }
      const [main, ...sans] = hosts;
      if (main !== undefined) requests.push({ main, sans });
    }

    for (const request of requests) {
      const names = [request.main, ...request.sans];
      const invalid = names.filter((name) => !isCertificateName(name));
      if (invalid.length > 0) {
        problems.push({ router: router.name, message: `router ${router.name}: no certificate can be ordered for ${invalid.join(', ')}, because a CA issues only for DNS names with two or more labels` });
        continue;
      }
      const key = certificateKey(names);
      const entry = byKey.get(key) ?? { request, key, routers: [] };
      entry.routers.push(router.name);
      byKey.set(key, entry);
    }
  }

  const wanted = [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  return { wanted, problems };
}

function isCertificateName(name: string): boolean {
  return CERTIFICATE_NAME.test(name) && !DOTTED_NUMBERS.test(name);
}
