// Router table keys derived from a rule: the literal hosts a router is indexed under, and the
// default priority that orders routers.
import { normalizeRuleHost } from './request-values.js';
import type { RuleNode } from './tree.js';

/**
 * Traefik's default router priority: the length of the rule text in bytes (Go's `len`), so a
 * longer rule is tried first. It equals `rule.length` for ASCII rules. Traefik ignores a
 * configured priority of 0 and uses this value instead.
 */
export function defaultPriority(rule: string): number {
  return Buffer.byteLength(rule, 'utf8');
}

/**
 * Returns the lower-cased hosts outside of which the rule cannot match, or `null` when it may
 * match a request for any host. The router table indexes routers by these hosts.
 *
 * - ``Host(`a`)`` gives `a`; a v2 `Host` or `HostHeader` with several values gives all of them.
 * - `||` gives the union, and `null` as soon as one branch has no host constraint.
 * - `&&` gives the intersection of the branches that constrain the host (an empty list means the
 *   rule can never match).
 * - `!`, `HostRegexp`, wildcards (`*`, `*.example.com`) and hosts with a colon (IPv6 literals,
 *   ports) give `null`, because their matching is not a plain string lookup.
 */
export function literalHosts(tree: RuleNode): string[] | null {
  const hosts = hostsOf(tree);
  return hosts === null ? null : [...hosts].sort();
}

function hostsOf(node: RuleNode): Set<string> | null {
  switch (node.type) {
    case 'matcher': {
      if (node.name !== 'Host' && node.name !== 'HostHeader') return null;
      const hosts = new Set<string>();
      for (const value of node.args) {
        const host = indexKey(value);
        if (host === null) return null;
        hosts.add(host);
      }
      return hosts;
    }
    case 'not':
      return null;
    case 'or': {
      const union = new Set<string>();
      for (const child of node.children) {
        const hosts = hostsOf(child);
        if (hosts === null) return null;
        for (const host of hosts) union.add(host);
      }
      return union;
    }
    case 'and': {
      let intersection: Set<string> | null = null;
      for (const child of node.children) {
        const hosts = hostsOf(child);
        if (hosts === null) continue;
        intersection = intersection === null ? hosts : intersect(intersection, hosts);
      }
      return intersection;
    }
  }
}

function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a].filter((host) => b.has(host)));
}

/** Returns the table key for a Host value, or `null` when the value is not a plain host name. */
function indexKey(value: string): string | null {
  const host = normalizeRuleHost(value);
  if (host === '' || host.includes('*') || host.includes(':') || host.includes('[')) return null;
  return host;
}
