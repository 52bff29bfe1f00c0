// Match time per request for 10, 1,000 and 10,000 routers, through the host-indexed RouteTable and
// through a linear scan of the same routes in the same order, so the ratio shows what the index
// saves. Run with `npx vitest bench --run --project unit bench/routing.bench.ts`; results are in
// bench/README.md.
import { bench, describe } from 'vitest';
import { compileRule, defaultPriority, literalHosts, parseRule } from '../src/rules/index.js';
import type { RequestFacts } from '../src/rules/types.js';
import { RouteTable, type Route } from '../src/routing/table.js';

const SIZES = [10, 1_000, 10_000];
const REQUESTS = 4_096;

/** Deterministic pseudo-random numbers (mulberry32), so every run matches the same requests. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Builds `count` routers: 1% without a host (PathPrefix or PathRegexp, at least one), a fifth with
 * Host and a PathPrefix, and the rest with Host only, as a host serving many small sites has.
 */
function buildRoutes(count: number): Route[] {
  const hostLess = Math.max(1, Math.floor(count / 100));
  const routes: Route[] = [];
  for (let i = 0; i < count; i++) {
    let rule: string;
    if (i < hostLess) rule = i % 2 === 0 ? `PathPrefix(\`/shared${i}\`)` : `PathRegexp(\`^/files${i}/[0-9]+$\`)`;
    else if (i % 5 === 0) rule = `Host(\`app${i}.example.com\`) && PathPrefix(\`/api\`)`;
    else rule = `Host(\`site${i}.example.com\`)`;

    const parsed = parseRule(rule);
    if (!parsed.ok) throw new Error(parsed.error.message);
    routes.push({
      name: `r${i}@docker`,
      rule,
      priority: defaultPriority(rule),
      matcher: compileRule(parsed.tree),
      hosts: literalHosts(parsed.tree),
      service: `s${i}@docker`,
      middlewares: [],
    });
  }
  return routes;
}

/**
 * Builds requests: 60% for a Host-only site, 20% for an API path, 10% for a non-API path of an
 * API host and 10% for an unknown host. The last two match no hosted router, so they walk every
 * host-less router and mostly end in a 404, the slowest case.
 */
function buildRequests(count: number): RequestFacts[] {
  const next = random(count);
  const pick = (test: (i: number) => boolean): number => {
    for (;;) {
      const i = Math.floor(next() * count);
      if (test(i)) return i;
    }
  };
  const hostLess = Math.max(1, Math.floor(count / 100));
  const isApi = (i: number) => i >= hostLess && i % 5 === 0;
  const isSite = (i: number) => i >= hostLess && i % 5 !== 0;
  const hasApi = count > hostLess && Array.from({ length: count }, (_, i) => i).some(isApi);

  const requests: RequestFacts[] = [];
  for (let n = 0; n < REQUESTS; n++) {
    const roll = next();
    let host: string;
    let path = '/';
    if (roll < 0.6 || !hasApi) host = `site${pick(isSite)}.example.com`;
    else if (roll < 0.8) [host, path] = [`app${pick(isApi)}.example.com`, '/api/users/42'];
    else if (roll < 0.9) [host, path] = [`app${pick(isApi)}.example.com`, '/about'];
    else [host, path] = [`unknown${n}.example.org`, `/files${n % 7}/123`];
    requests.push({ host, path, rawQuery: '', method: 'GET', headers: {}, clientIp: '127.0.0.1' });
  }
  return requests;
}

/** Matches like RouteTable.match but tries every route in table order, without the host index. */
function linearMatch(routes: readonly Route[], request: RequestFacts): Route | undefined {
  for (const route of routes) {
    if (route.matcher(request)) return route;
  }
  return undefined;
}

for (const size of SIZES) {
  describe(`${size} routers`, () => {
    const table = new RouteTable(buildRoutes(size));
    const ordered = table.routes;
    const requests = buildRequests(size);

    // Both loops must pick the same router, or the comparison would be meaningless.
    for (const request of requests) {
      if (table.match(request) !== linearMatch(ordered, request)) throw new Error(`index and scan disagree for ${request.host}${request.path}`);
    }

    let indexed = 0;
    bench('host index (RouteTable.match)', () => {
      table.match(requests[indexed++ % REQUESTS] as RequestFacts);
    });

    // Requests that a hosted router takes never reach the host-less routers, so their cost should
    // stay flat as routers are added. The other requests meet every host-less router.
    const hostedHits = requests.filter((request) => table.match(request)?.hosts !== null);
    let hosted = 0;
    bench('host index, hosted hits only', () => {
      table.match(hostedHits[hosted++ % hostedHits.length] as RequestFacts);
    });

    let scanned = 0;
    bench('linear scan', () => {
      linearMatch(ordered, requests[scanned++ % REQUESTS] as RequestFacts);
    });
  });
}
