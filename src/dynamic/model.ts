// The dynamic configuration model: routers, services and middlewares as providers produce them.
// Field names follow Traefik's dynamic configuration so the API's JSON matches Traefik's shapes.

/** Errors and warnings attached to one item; an item with errors is disabled. */
export interface Diagnostics {
  errors: string[];
  warnings: string[];
}

/** Where an item came from, for messages and the API (for example the container name). */
export interface ItemSource {
  provider: string;
  /** Human-readable origin, such as `container web-1` or a file path. */
  origin: string;
}

export interface RouterConfig extends Diagnostics {
  rule: string;
  /** Empty means every entry point that is not internal. */
  entryPoints: string[];
  service: string;
  /** Explicit priority from a label; `undefined` means the rule's length. */
  priority?: number;
  middlewares: string[];
  ruleSyntax?: 'v2' | 'v3';
  sources: ItemSource[];
}

export interface ServerConfig {
  url: string;
  weight: number;
  /** Container that produced this server, for draining and the API. */
  containerId?: string;
}

export interface LoadBalancerConfig {
  servers: ServerConfig[];
  passHostHeader: boolean;
}

export interface ServiceConfig extends Diagnostics {
  loadBalancer: LoadBalancerConfig;
  sources: ItemSource[];
}

export interface MiddlewareConfig extends Diagnostics {
  /** Middleware type as written in labels, for example `stripprefix`. */
  type: string;
  options: Record<string, unknown>;
  sources: ItemSource[];
}

/** A container the provider saw and did not route, with the reason shown in the API. */
export interface SkippedContainer {
  id: string;
  name: string;
  reason: string;
}

/** Everything one provider produced from one snapshot of its source. Names are local (no `@provider`). */
export interface ProviderConfig {
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
  skipped: SkippedContainer[];
}

export function emptyProviderConfig(): ProviderConfig {
  return { routers: {}, services: {}, middlewares: {}, skipped: [] };
}

export function emptyDiagnostics(): Diagnostics {
  return { errors: [], warnings: [] };
}

/** Returns the status Traefik's API reports for an item. */
export function itemStatus(item: Diagnostics): 'enabled' | 'warning' | 'disabled' {
  if (item.errors.length > 0) return 'disabled';
  if (item.warnings.length > 0) return 'warning';
  return 'enabled';
}
