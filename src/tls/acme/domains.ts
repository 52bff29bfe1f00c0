// The certificates that routers request: a router with `tls.certresolver` gets one certificate
// for its `tls.domains` entries (one per entry), or else one for all the literal hosts of its rule,
// as Traefik does. A router without `tls` of its own uses the `http.tls` settings (resolver and
// domains) of its entry points, and a disabled router requests nothing.

import type { Runtime } from '../../routing/runtime.js';
import { literalHosts, parseRule } from '../../rules/index.js';
import { itemStatus, type RouterTlsConfig } from '../../dynamic/model.js';
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

/** The router fields that decide which certificates its resolver orders for it. */
export interface CertificateRouter {
  rule: string;
  ruleSyntax?: 'v2' | 'v3' | undefined;
  tls?: RouterTlsConfig | undefined;
}

// A name a public CA can issue for: letters, digits and hyphens in two or more labels, and an
// optional `*.` in front. IP addresses and single-label names such as `localhost` are left out.
const CERTIFICATE_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOTTED_NUMBERS = /^[0-9.]+$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Returns the sorted, lower-case identity of a set of names. */
export function certificateKey(names: readonly string[]): string {
  return [...new Set(names.map((name) => name.toLowerCase()))].sort().join(',');
}

/**
 * Returns the certificates that the resolver of `router` orders for it, and a message for each
 * setting that yields none. The messages do not name the router, because they go on the router.
 */
export function routerCertificateRequests(router: CertificateRouter): { requests: OrderRequest[]; problems: string[] } {
  const tls = router.tls;
  const resolver = tls?.certResolver ?? '';
  const requests: OrderRequest[] = [];
  const problems: string[] = [];
  const served = `the router still serves, but without a certificate from resolver "${resolver}"`;

  const candidates: OrderRequest[] = [];
  if (tls?.domains !== undefined && tls.domains.length > 0) {
    for (const domain of tls.domains) candidates.push({ main: domain.main.toLowerCase(), sans: domain.sans.map((name) => name.toLowerCase()) });
  } else {
    const parsed = parseRule(router.rule, router.ruleSyntax ?? 'v3');
    const hosts = parsed.ok ? literalHosts(parsed.tree) : null;
    const [main, ...sans] = hosts ?? [];
    if (main === undefined) {
      problems.push(`the rule names no literal Host, which a certificate order needs (HostRegexp gives no name), so ${served}; set tls.domains[0].main, for example to *.example.com`);
    } else {
      candidates.push({ main, sans });
    }
  }

  for (const request of candidates) {
    const invalid = [request.main, ...request.sans].filter((name) => !isCertificateName(name));
    if (invalid.length === 0) {
      requests.push(request);
      continue;
    }
    const reasons = invalid.map((name) => `"${name}" ${whyNotCertificateName(name)}`).join('; ');
    problems.push(`no certificate can be ordered for ${request.main}, so ${served}: ${reasons}`);
  }
  return { requests, problems };
}

/**
 * Collects the certificates that the runtime's enabled routers request from `resolver`, merging
 * identical requests. Each router is read with its TLS settings on each of its entry points.
 */
export function wantedCertificates(runtime: Runtime, resolver: string): { wanted: WantedCertificate[]; problems: DomainProblem[] } {
  const byKey = new Map<string, WantedCertificate>();
  const problems: DomainProblem[] = [];

  for (const router of runtime.config.routers.values()) {
    // A disabled router serves no request, so a certificate for it would only use up the CA's rate limits.
    if (itemStatus(router) === 'disabled') continue;

    const messages = new Set<string>();
    for (const tls of routerTlsSettings(runtime, router.name)) {
      if (tls.certResolver?.toLowerCase() !== resolver) continue;

      const { requests, problems: routerProblems } = routerCertificateRequests({ rule: router.rule, ruleSyntax: router.ruleSyntax, tls });
      for (const message of routerProblems) messages.add(`router ${router.name}: ${message}`);
      for (const request of requests) {
        const key = certificateKey([request.main, ...request.sans]);
        const entry = byKey.get(key) ?? { request, key, routers: [] };
        if (!entry.routers.includes(router.name)) entry.routers.push(router.name);
        byKey.set(key, entry);
      }
    }
    for (const message of messages) problems.push({ router: router.name, message });
  }

  const wanted = [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  return { wanted, problems };
}

/**
 * Returns the distinct TLS settings of a router across its entry points. Two entry points with the
 * same `http.tls` yield two settings objects, and the caller merges their identical requests.
 */
function routerTlsSettings(runtime: Runtime, router: string): RouterTlsConfig[] {
  const view = runtime.routerViews.get(router);
  return view === undefined ? [] : [...new Set(view.tlsByEntryPoint.values())];
}

function isCertificateName(name: string): boolean {
  return CERTIFICATE_NAME.test(name) && !DOTTED_NUMBERS.test(name);
}

/** Says why a CA would reject `name`, which isCertificateName rejected, and how to fix it. */
function whyNotCertificateName(name: string): string {
  if (name.includes('*')) {
    // RFC 8555 section 7.1.3 and the CA/Browser Forum rules allow "*" only as the whole leftmost label.
    return 'has a wildcard that is not exactly the leftmost label; a CA issues wildcards only in the form *.example.com, one level deep';
  }
  if (DOTTED_NUMBERS.test(name) || name.includes(':')) return 'is an IP address, and a DNS-01 order covers DNS names only';
  const labels = name.replace(/\.$/, '').split('.');
  if (labels.length < 2) return 'has a single label, and a CA issues only for DNS names with two or more labels';
  if (labels.some((label) => !LABEL.test(label))) {
    return 'is not a valid DNS name; each label needs 1 to 63 letters, digits or hyphens, and no hyphen at either end';
  }
  return 'is not a DNS name a CA issues for';
}
