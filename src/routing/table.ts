// The routers of one entry point, indexed by literal host and ordered by priority.
import type { Matcher, RequestFacts } from '../rules/types.js';

/** One compiled router, ready to match requests. */
export interface Route {
  name: string;
  rule: string;
  priority: number;
  matcher: Matcher;
  /** Lower-cased hosts the rule can match, or `null` when it may match any host. */
  hosts: readonly string[] | null;
  service: string;
  middlewares: readonly string[];
}

/**
 * Returns true when `a` must be tried before `b`: higher priority first, then the name, so the
 * order is total and stays the same across rebuilds.
 */
export function routeComesFirst(a: Route, b: Route): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.name < b.name;
}

function compareRoutes(a: Route, b: Route): number {
  if (a === b) return 0;
  return routeComesFirst(a, b) ? -1 : 1;
}

/**
 * Routers of one entry point. A request is checked against the routers of its host and the
 * host-less routers only, merged in priority order, so lookup cost does not grow with the number
 * of hosts.
 */
export class RouteTable {
  readonly #byHost = new Map<string, Route[]>();
  readonly #anyHost: Route[] = [];
  readonly #all: Route[];

  constructor(routes: Route[]) {
    this.#all = [...routes].sort(compareRoutes);
    for (const route of this.#all) {
      if (route.hosts === null) {
        this.#anyHost.push(route);
        continue;
      }
      for (const host of new Set(route.hosts)) {
        const list = this.#byHost.get(host);
        if (list) list.push(route);
        else this.#byHost.set(host, [route]);
      }
    }
  }

  /** All routes in the order they are tried. */
  get routes(): readonly Route[] {
    return this.#all;
  }

  /** Returns the first route whose rule matches, or `undefined` for a 404. */
  match(request: RequestFacts): Route | undefined {
    for (const route of this.candidates(request.host)) {
      if (route.matcher(request)) return route;
    }
    return undefined;
  }

  /** Yields the routes that could match a request for `host`, in the order they are tried. */
  *candidates(host: string): Generator<Route> {
    const hosted = this.#byHost.get(host) ?? [];
    const anyHost = this.#anyHost;
    let i = 0;
    let j = 0;
    while (i < hosted.length || j < anyHost.length) {
      const a = hosted[i];
      const b = anyHost[j];
      if (a && (!b || routeComesFirst(a, b))) {
        yield a;
        i++;
      } else if (b) {
        yield b;
        j++;
      }
    }
  }
}
