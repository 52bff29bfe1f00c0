// Explains where a request goes and why. The report lists every router tried in order with each
// matcher's result, and the router that wins with its middlewares, its service and the server the
// balancer would pick. For a request that no router takes, it lists the routers that nearly matched.
import type { MergedRouter } from '../dynamic/merged.js';
import type { ForwardedHeadersOptions } from '../entrypoints/forwarded-trust.js';
import { redactServerUrl } from '../observability/redact.js';
import { evaluateRule, HOST_MATCHERS, type MatcherResult } from '../rules/explain.js';
import { parseRule, type RuleNode } from '../rules/index.js';
import type { RequestFacts } from '../rules/types.js';
import { explainMiddlewares, type ExplainedMiddleware, type MiddlewareResponse } from './explain-middlewares.js';
import { chooseEntryPoint, explainTarget, schemeOf, type ExplainRequest, type ExplainTarget } from './explain-request.js';
import { routeTableFor, type Runtime } from './runtime.js';
import type { Route } from './table.js';
import { createDictionary } from '../dictionary.js';
import { servesPing, type PingEntryPoint } from '../entrypoints/ping.js';
import { outrankingRoute, redirectLocationFor, redirectStatus } from '../entrypoints/redirect.js';

export { InvalidExplainRequestError, type ExplainRequest } from './explain-request.js';
export type { ForwardedHeadersOptions } from '../entrypoints/forwarded-trust.js';
export type { MatcherResult } from '../rules/explain.js';
export type { ExplainedMiddleware } from './explain-middlewares.js';

/** One router the entry point's table considered for the request. */
export interface ExplainedCandidate {
  router: string;
  rule: string;
  priority: number;
  /** `host` when the table found the router under the request's host, `any host` when its rule names no literal host. */
  index: 'host' | 'any host';
  /** False for routers after the winner, which routing never reaches; they are evaluated all the same. */
  tried: boolean;
  matched: boolean;
  matchers: MatcherResult[];
  warnings?: string[];
}

export interface ExplainedServer {
  /** The server URL with any password replaced by `<redacted>`. */
  url: string;
  weight: number;
  /** Whether the balancer would pick this server for the request; replicas may share a URL, so this is per entry. */
  next: boolean;
}

export interface ExplainedService {
  name: string;
  servers: ExplainedServer[];
  /** URL of the server the balancer would pick for this request; absent when no server can take it. */
  next?: string;
}

export interface ExplainedWinner {
  router: string;
  rule: string;
  priority: number;
  /** Middlewares in the order they run, chains replaced by their members, each with what it would do. */
  middlewares: ExplainedMiddleware[];
  service: ExplainedService;
}

/** A router that did not take the request but might be the one the user meant. */
export type NearMiss =
  | { kind: 'host-matched'; router: string; rule: string; failed: MatcherResult[] }
  | { kind: 'other-entry-point'; router: string; rule: string; entryPoint: string; scheme: Scheme }
  | { kind: 'disabled'; router: string; rule: string; errors: string[]; reason: Relevance }
  | { kind: 'skipped-container'; container: string; skipReason: string; router: string; rule: string; reason: Relevance };

/** The reason a router that cannot take the request may still be the one the user meant. */
type Relevance = 'rule-matches' | 'rule-names-host';

type Scheme = 'http' | 'https';

/** The response Berth sends itself, in place of a server's. */
export interface ExplainedResponse {
  status: number;
  reason: string;
  /** The Location of a redirect. */
  location?: string;
  /** The middleware that sends it, for the outcome `middleware-response`. */
  middleware?: string;
}

/**
 * The result of the request:
 * - `routed`: a router takes it and a server gets it, unless a `may-respond` middleware responds first.
 * - `middleware-response`: a middleware of the router responds itself, such as a redirect (`response`).
 * - `no-server`: the router's service has no server (503).
 * - `not-found`: no router matches (404).
 * - `rejected`: the entry point rejects the request before routing it (`response`, usually 400).
 * - `entry-point-redirect`: the entry point redirects the plain HTTP request before routing it
 *   (`http.redirections.entryPoint`), because no router with a higher priority matches (`response`).
 * - `ping`: the entry point is the one `ping.entrypoint` names, and `/ping` responds 200 before any
 *   router or redirection (`response`).
 */
export type ExplainOutcome = 'routed' | 'middleware-response' | 'no-server' | 'not-found' | 'rejected' | 'entry-point-redirect' | 'ping';

export interface ExplainReport {
  /**
   * The request as evaluated. `path` is the path routers match, after normalization, and
   * `receivedPath` the path as written, present only when the two differ. An `https` request is
   * matched against the entry point's TLS routers.
   */
  request: Pick<RequestFacts, 'host' | 'path' | 'rawQuery' | 'method' | 'clientIp'> & {
    receivedPath?: string;
    entryPoint: string;
    scheme: Scheme;
    /** The headers routers and middlewares see, after the entry point removed untrusted forwarding fields. */
    headers: Record<string, string>;
    /** Forwarding fields the client sent and the entry point removes, because `clientIp` is not a trusted peer. */
    removedHeaders?: string[];
  };
  outcome: ExplainOutcome;
  /** The response Berth sends itself; absent for `routed`. */
  response?: ExplainedResponse;
  candidates: ExplainedCandidate[];
  winner?: ExplainedWinner;
  nearMisses: NearMiss[];
}

/** Entry point settings that explain reads beyond the runtime. */
export interface ExplainOptions {
  /**
   * The `forwardedHeaders` settings of each entry point. An entry point missing here trusts no
   * peer, as an entry point without the settings does.
   */
  forwardedHeaders?: ReadonlyMap<string, ForwardedHeadersOptions>;
  /** The user entry point that `ping.entrypoint` names, with whether it has `http.tls`. */
  ping?: PingEntryPoint;
}

/**
 * Explains `request` against `runtime`. The request target goes through the entry point's checks
 * and the dispatcher's normalization first. Then it walks `RouteTable.candidates` in the order that
 * `RouteTable.match` does and decides each router with the same compiled matcher, so the winner is
 * the router that serves such a request, and previews the winner's middlewares. Throws
 * InvalidExplainRequestError for a request that cannot be evaluated. Nothing in the runtime
 * changes, not even the balancer's rotation.
 */
export function explain(runtime: Runtime, request: ExplainRequest, options: ExplainOptions = {}): ExplainReport {
  const entryPoint = chooseEntryPoint(request.entryPoint, [...runtime.tables.keys()]);
  const target = explainTarget(request, options.forwardedHeaders?.get(entryPoint));
  const { facts } = target;
  const scheme = schemeOf(request.url);
  const report: ExplainReport = { request: describeRequest(target, entryPoint, scheme), outcome: 'routed', candidates: [], nearMisses: [] };

  // The entry point rejects such a request before any router receives it.
  if (target.rejection !== undefined) {
    report.outcome = 'rejected';
    report.response = { status: target.rejection.status, reason: target.rejection.reason };
    return report;
  }

  // Like Traefik's ping@internal router, /ping comes before every router and the entry point's redirection.
  const ping = options.ping;
  if (ping !== undefined && ping.entryPoint === entryPoint && servesPing(facts.path, scheme, ping.tls)) {
    report.outcome = 'ping';
    report.response = { status: 200, reason: `ping.entrypoint is ${entryPoint}, so /ping responds before any router` };
    return report;
  }

  const table = routeTableFor(runtime, entryPoint, scheme);
  const redirect = entryPointRedirect(runtime, entryPoint, scheme, target);
  if (redirect !== undefined) {
    report.outcome = redirect.status === 400 ? 'rejected' : 'entry-point-redirect';
    report.response = redirect;
    return report;
  }

  let winnerRoute: Route | undefined;
  for (const route of table?.candidates(facts.host) ?? []) {
    const tried = winnerRoute === undefined;
    const matched = route.matcher(facts);
    if (tried && matched) winnerRoute = route;
    report.candidates.push(describeCandidate(runtime, route, facts, tried, matched));
  }

  let winner: ExplainedWinner | undefined;
  if (winnerRoute === undefined) {
    report.outcome = 'not-found';
    report.response = { status: 404, reason: 'no router matches' };
  } else {
    const chain = explainMiddlewares(runtime, winnerRoute, { facts, target: target.target, rawHeaders: target.rawHeaders, entryPoint, scheme });
    winner = describeWinner(runtime, winnerRoute, chain.middlewares);
    report.winner = winner;
    // Middlewares run before the service is called, so one that responds wins over a missing server.
    if (chain.response !== undefined) {
      report.outcome = 'middleware-response';
      report.response = middlewareResponse(chain.response);
    } else if (winner.service.next === undefined) {
      report.outcome = 'no-server';
      report.response = { status: 503, reason: `service ${winner.service.name} has no available server` };
    }
  }

  report.nearMisses = nearMisses(runtime, { entryPoint, scheme }, facts, report.candidates, winner);
  return report;
}

/**
 * Returns the response of the entry point's redirection, or undefined when the entry point routes
 * the request: over TLS, without a redirection, or when a router above the redirection's priority
 * matches. Mirrors the redirect step of `berth run` in `entrypoints/redirect.ts`.
 */
function entryPointRedirect(runtime: Runtime, entryPoint: string, scheme: Scheme, target: ExplainTarget): ExplainedResponse | undefined {
  const redirection = runtime.redirections.get(entryPoint);
  if (scheme !== 'http' || redirection === undefined) return undefined;
  const table = routeTableFor(runtime, entryPoint, 'http');
  if (outrankingRoute(table, () => target.facts, redirection) !== undefined) return undefined;

  // The redirect keeps the target as the client writes it, not the normalized one routers match.
  const { facts } = target;
  const written = `${target.receivedPath}${facts.rawQuery === '' ? '' : `?${facts.rawQuery}`}`;
  const location = redirectLocationFor(facts.headers.host ?? facts.host, written, redirection);
  if (location === undefined) return { status: 400, reason: `the Host header is missing or invalid, so entry point ${entryPoint} cannot redirect the request` };
  let reason = `entry point ${entryPoint} redirects plain HTTP requests to ${redirection.to}`;
  // Only routers above the redirection's priority could have served the request, so name that bound when one exists.
  const highest = table?.routes[0];
  if (highest !== undefined && highest.priority > redirection.priority) reason += `, and no router with a priority above ${redirection.priority} matches`;
  return { status: redirectStatus(redirection), reason, location };
}

function describeRequest(target: ExplainTarget, entryPoint: string, scheme: Scheme): ExplainReport['request'] {
  const { facts } = target;
  const described: ExplainReport['request'] = { entryPoint, scheme, host: facts.host, path: facts.path, rawQuery: facts.rawQuery, method: facts.method, clientIp: facts.clientIp, headers: flatHeaders(facts) };
  if (target.receivedPath !== facts.path) described.receivedPath = target.receivedPath;
  if (target.removedHeaders.length > 0) described.removedHeaders = [...target.removedHeaders];
  return described;
}

function middlewareResponse(response: MiddlewareResponse): ExplainedResponse {
  const explained: ExplainedResponse = { status: response.status, reason: response.reason, middleware: response.middleware };
  if (response.location !== undefined) explained.location = response.location;
  return explained;
}

/** Parsed rules by route. Routes belong to one immutable runtime, so a rule is parsed once per runtime. */
const trees = new WeakMap<Route, RuleNode | null>();

function treeOf(route: Route, router: MergedRouter | undefined): RuleNode | null {
  let tree = trees.get(route);
  if (tree === undefined) {
    const parsed = parseRule(route.rule, router?.ruleSyntax ?? 'v3');
    tree = parsed.ok ? parsed.tree : null;
    trees.set(route, tree);
  }
  return tree;
}

function describeCandidate(runtime: Runtime, route: Route, facts: RequestFacts, tried: boolean, matched: boolean): ExplainedCandidate {
  const router = runtime.config.routers.get(route.name);
  const tree = treeOf(route, router);
  const candidate: ExplainedCandidate = {
    router: route.name,
    rule: route.rule,
    priority: route.priority,
    index: route.hosts === null ? 'any host' : 'host',
    tried,
    matched,
    matchers: tree === null ? [] : evaluateRule(tree, facts).matchers,
  };
  if (router !== undefined && router.warnings.length > 0) candidate.warnings = [...router.warnings];
  return candidate;
}

function describeWinner(runtime: Runtime, route: Route, middlewares: ExplainedMiddleware[]): ExplainedWinner {
  const service = runtime.services.get(route.service);
  // NOTE: this is the balancer's next pick. A request that carries a sticky cookie of the service
  // can be sent to the server the cookie names instead, and explain does not read that cookie yet.
  const next = service?.balancer.peek();
  // The report goes to the API, the dashboard and the terminal, so server URLs lose their password.
  const explained: ExplainedService = {
    name: route.service,
    servers: (service?.servers ?? []).map((server) => ({ url: redactServerUrl(server.url), weight: server.weight, next: server === next })),
  };
  if (next !== undefined) explained.next = redactServerUrl(next.url);
  return { router: route.name, rule: route.rule, priority: route.priority, middlewares, service: explained };
}

/**
 * Collects the near misses. For a 404 these include the routers whose host matcher matched but
 * whose rule did not. Always included are the router that would take the request on each other
 * entry point or over the other scheme (plain HTTP and TLS routers are separate tables), and the
 * disabled routers and the routers of skipped containers whose rule matches the request or names
 * its host.
 */
function nearMisses(runtime: Runtime, place: { entryPoint: string; scheme: Scheme }, facts: RequestFacts, candidates: ExplainedCandidate[], winner: ExplainedWinner | undefined): NearMiss[] {
  const misses: NearMiss[] = [];

  if (winner === undefined) {
    for (const candidate of candidates) {
      const hostMatched = candidate.matchers.some((result) => HOST_MATCHERS.has(result.name) && result.matched && !result.negated);
      if (!hostMatched) continue;
      const failed = candidate.matchers.filter((result) => result.matched === result.negated);
      misses.push({ kind: 'host-matched', router: candidate.router, rule: candidate.rule, failed });
    }
  }

  const entryPoints = [...runtime.tables.keys()].sort();
  for (const entryPoint of entryPoints) {
    for (const scheme of ['http', 'https'] as const) {
      if (entryPoint === place.entryPoint && scheme === place.scheme) continue;
      const route = routeTableFor(runtime, entryPoint, scheme)?.match(facts);
      if (route === undefined || route.name === winner?.router) continue;
      misses.push({ kind: 'other-entry-point', router: route.name, rule: route.rule, entryPoint, scheme });
    }
  }

  for (const router of runtime.config.routers.values()) {
    if (router.errors.length === 0) continue;
    const reason = relevance(router, facts);
    if (reason === undefined) continue;
    misses.push({ kind: 'disabled', router: router.name, rule: router.rule, errors: [...router.errors], reason });
  }

  // A skipped container (stopped, unhealthy, not enabled) has no routers in the runtime at all.
  for (const container of runtime.config.skipped) {
    for (const router of container.routers ?? []) {
      const reason = relevance(router, facts);
      if (reason === undefined) continue;
      misses.push({ kind: 'skipped-container', container: container.name, skipReason: container.reason, router: `${router.name}@${container.provider}`, rule: router.rule, reason });
    }
  }
  return misses;
}

/** Returns why a router that cannot take the request may be the one the user meant, or undefined when it is unrelated. */
function relevance(router: Pick<MergedRouter, 'rule' | 'ruleSyntax'>, facts: RequestFacts): Relevance | undefined {
  if (router.rule === '') return undefined;
  const parsed = parseRule(router.rule, router.ruleSyntax ?? 'v3');
  if (parsed.ok && evaluateRule(parsed.tree, facts).matched) return 'rule-matches';
  if (facts.host !== '' && router.rule.toLowerCase().includes(facts.host)) return 'rule-names-host';
  return undefined;
}

function flatHeaders(facts: RequestFacts): Record<string, string> {
  const headers = createDictionary<string>();
  for (const [name, value] of Object.entries(facts.headers)) {
    if (value !== undefined) headers[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return headers;
}
