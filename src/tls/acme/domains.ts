// The certificates that routers request: a router with `tls.certresolver` gets one certificate
// for its `tls.domains` entries (one per entry), or else one for the Host values of its rule that
// no `!` negates, in rule order, as Traefik's ParseDomains collects them. A router without `tls` of its own uses the `http.tls` settings (resolver and
// domains) of its entry points, and a disabled router requests nothing.

import type { Runtime } from '../../routing/runtime.js';
import { parseRule } from '../../rules/index.js';
import type { RuleNode } from '../../rules/tree.js';
import { itemStatus, type RouterTlsConfig } from '../../dynamic/model.js';
import type { AcmeResolverConfig } from '../../config/index.js';
import { quoteValue, truncateValue } from '../../quote.js';
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

/** The ACME challenge type (RFC 8555 section 8) that a resolver validates names with. */
export type ChallengeType = 'dns-01' | 'http-01' | 'tls-alpn-01';

/**
 * Returns the challenge a resolver uses, in the order the resolver picks one: DNS-01, then
 * HTTP-01, then TLS-ALPN-01. Returns `undefined` for a resolver with none configured.
 */
export function resolverChallenge(config: Pick<AcmeResolverConfig, 'dnsChallenge' | 'httpChallenge' | 'tlsChallenge'>): ChallengeType | undefined {
  if (config.dnsChallenge !== undefined) return 'dns-01';
  if (config.httpChallenge !== undefined) return 'http-01';
  if (config.tlsChallenge) return 'tls-alpn-01';
  return undefined;
}

/** Returns the challenge type of each resolver that has one, by resolver name. */
export function resolverChallenges(resolvers: readonly AcmeResolverConfig[]): Map<string, ChallengeType> {
  const challenges = new Map<string, ChallengeType>();
  for (const resolver of resolvers) {
    const challenge = resolverChallenge(resolver);
    if (challenge !== undefined) challenges.set(resolver.name, challenge);
  }
  return challenges;
}

/** Returns the sorted, lower-case identity of a set of names. */
export function certificateKey(names: readonly string[]): string {
  return [...new Set(names.map((name) => name.toLowerCase()))].sort().join(',');
}

/**
 * Returns the certificates that the resolver of `router` orders for it, and a message for each
 * setting that yields none. The messages do not name the router, because they go on the router.
 * `challenge` is the resolver's challenge type; without it, no challenge-specific check is made.
 */
export function routerCertificateRequests(router: CertificateRouter, challenge?: ChallengeType): { requests: OrderRequest[]; problems: string[] } {
  const tls = router.tls;
  const resolver = tls?.certResolver ?? '';
  const served = `the router still serves, but without a certificate from resolver ${quoteValue(resolver)}`;
  if (tls?.domains !== undefined && tls.domains.length > 0) {
    return domainsCertificateRequests(tls.domains, challenge, served);
  }

  const parsed = parseRule(router.rule, router.ruleSyntax ?? 'v3');
  const names = parsed.ok ? ruleDomains(parsed.tree) : [];
  if (names.length === 0) {
    const problem = `the rule has no Host matcher outside a negation, and a certificate order needs a name from one (HostRegexp gives no name), so ${served}; set tls.domains[0].main, for example to *.example.com`;
    return { requests: [], problems: [problem] };
  }

  // Names that cannot be ordered are left out, so that a rule such as Host(`app.example.com`) ||
  // Host(`10.0.0.1`) still gets a certificate for app.example.com. Traefik would put them into
  // the order too, and the CA would reject the whole order.
  const orderable = names.filter((name) => whyNotOrderable(name, challenge) === undefined);
  const left = names.filter((name) => !orderable.includes(name)).map((name) => `${quoteValue(name)} ${whyNotOrderable(name, challenge)}`);
  const [main, ...sans] = orderable;
  if (main === undefined) {
    return { requests: [], problems: [`no certificate can be ordered for the Host values of the rule, so ${served}: ${left.join('; ')}`] };
  }
  const problems = left.length === 0 ? [] : [`the certificate for ${quoteValue(main)} leaves out Host values of the rule that resolver ${quoteValue(resolver)} cannot order: ${left.join('; ')}`];
  return { requests: [{ main, sans }], problems };
}

/** Returns one request per `tls.domains` entry, and a problem for each entry with a name that cannot be ordered. */
function domainsCertificateRequests(domains: ReadonlyArray<{ main: string; sans: readonly string[] }>, challenge: ChallengeType | undefined, served: string): { requests: OrderRequest[]; problems: string[] } {
  const requests: OrderRequest[] = [];
  const problems: string[] = [];
  for (const domain of domains) {
    const request = { main: domain.main.toLowerCase(), sans: domain.sans.map((name) => name.toLowerCase()) };
    const reasons = [request.main, ...request.sans].flatMap((name) => {
      const reason = whyNotOrderable(name, challenge);
      return reason === undefined ? [] : [`${quoteValue(name)} ${reason}`];
    });
    if (reasons.length === 0) {
      requests.push(request);
      continue;
    }
    problems.push(`no certificate can be ordered for ${quoteValue(request.main)}, so ${served}: ${reasons.join('; ')}`);
  }
  return { requests, problems };
}

/**
 * Collects the values of the Host matchers that no `!` negates, lower-cased, without a trailing
 * dot and without repeats, in rule order. Traefik's ParseDomains collects the same values, and
 * HostHeader (v2 syntax) and HostRegexp give none there either. `!!Host(...)` counts as positive.
 */
function ruleDomains(tree: RuleNode): string[] {
  const names: string[] = [];
  const visit = (node: RuleNode, negated: boolean): void => {
    switch (node.type) {
      case 'matcher':
        if (node.name !== 'Host' || negated) return;
        for (const value of node.args) {
          const name = value.toLowerCase().replace(/\.$/, '');
          if (name !== '' && !names.includes(name)) names.push(name);
        }
        return;
      case 'not':
        visit(node.child, !negated);
        return;
      case 'and':
      case 'or':
        for (const child of node.children) visit(child, negated);
    }
  };
  visit(tree, false);
  return names;
}

/**
 * Collects the certificates that the runtime's enabled routers request from `resolver`, merging
 * identical requests. Each router is read with its TLS settings on each of its entry points.
 */
export function wantedCertificates(runtime: Runtime, resolver: string, challenge?: ChallengeType): { wanted: WantedCertificate[]; problems: DomainProblem[] } {
  const byKey = new Map<string, WantedCertificate>();
  const problems: DomainProblem[] = [];

  for (const router of runtime.config.routers.values()) {
    // A disabled router serves no request, so a certificate for it would only use up the CA's rate limits.
    if (itemStatus(router) === 'disabled') continue;

    const messages = new Set<string>();
    for (const tls of routerTlsSettings(runtime, router.name)) {
      if (tls.certResolver?.toLowerCase() !== resolver) continue;

      const { requests, problems: routerProblems } = routerCertificateRequests({ rule: router.rule, ruleSyntax: router.ruleSyntax, tls }, challenge);
      for (const message of routerProblems) messages.add(`router ${truncateValue(router.name)}: ${message}`);
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

/**
 * Says why `name` cannot be in an order of a resolver with `challenge`, and how to fix it, or
 * returns `undefined` when it can.
 */
function whyNotOrderable(name: string, challenge: ChallengeType | undefined): string | undefined {
  if (!isCertificateName(name)) return whyNotCertificateName(name, challenge);
  // HTTP-01 and TLS-ALPN-01 prove control of one host only, so CAs such as Let's Encrypt accept only DNS-01 for a wildcard.
  if (name.startsWith('*.') && challenge !== undefined && challenge !== 'dns-01') {
    return `is a wildcard, which the CA validates only with DNS-01, but the resolver uses ${challenge.toUpperCase()}; set dnschallenge on a resolver and name it in tls.certresolver, with tls.domains[0].main=${name}`;
  }
  return undefined;
}

/** Says why a CA would reject `name`, which isCertificateName rejected, and how to fix it. */
function whyNotCertificateName(name: string, challenge: ChallengeType | undefined): string {
  if (name.includes('*')) {
    // RFC 8555 section 7.1.3 and the CA/Browser Forum rules allow "*" only as the whole leftmost label.
    return 'has a wildcard that is not exactly the leftmost label; a CA issues wildcards only in the form *.example.com, one level deep';
  }
  if (DOTTED_NUMBERS.test(name) || name.includes(':')) {
    // RFC 8738 does not allow DNS-01 for IP identifiers, and Berth orders DNS identifiers only.
    if (challenge === 'dns-01') return 'is an IP address, and DNS-01 validates DNS names only';
    return 'is an IP address, and Berth orders certificates for DNS names only';
  }
  const labels = name.replace(/\.$/, '').split('.');
  if (labels.length < 2) return 'has a single label, and a CA issues only for DNS names with two or more labels';
  if (labels.some((label) => !LABEL.test(label))) {
    return 'is not a valid DNS name; each label needs 1 to 63 letters, digits or hyphens, and no hyphen at either end';
  }
  return 'is not a DNS name a CA issues for';
}
