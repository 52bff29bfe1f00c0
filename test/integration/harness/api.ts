// Shapes of the API responses that the tests read, as Traefik's API returns them.

import { apiGet, type BerthProcess } from './berth.js';

export interface ApiRouter {
  /** `name@provider`, for example `a@docker`. */
  name: string;
  rule: string;
  service: string;
  entryPoints: string[];
  priority: number;
  /** `enabled`, `warning` or `disabled`. */
  status: string;
  error?: string[];
  provider: string;
}

export interface ApiService {
  name: string;
  loadBalancer?: { servers?: Array<{ url: string }> };
  status: string;
  usedBy?: string[];
  /** Server URL to `UP` or `DOWN`. */
  serverStatus?: Record<string, string>;
  provider?: string;
}

export function getRouters(berth: Pick<BerthProcess, 'apiUrl'>): Promise<ApiRouter[]> {
  return apiGet<ApiRouter[]>(berth, '/api/http/routers');
}

export function getServices(berth: Pick<BerthProcess, 'apiUrl'>): Promise<ApiService[]> {
  return apiGet<ApiService[]>(berth, '/api/http/services');
}

/** Returns the router called `name` (with its `@provider` suffix), or undefined. */
export async function findRouter(berth: Pick<BerthProcess, 'apiUrl'>, name: string): Promise<ApiRouter | undefined> {
  return (await getRouters(berth)).find((router) => router.name === name);
}

/** Returns the service whose servers include a URL ending in `:port` for every port given. */
export async function findServiceWithPorts(
  berth: Pick<BerthProcess, 'apiUrl'>,
  ports: number[],
): Promise<ApiService | undefined> {
  const services = await getServices(berth);
  return services.find((service) => {
    const urls = (service.loadBalancer?.servers ?? []).map((server) => server.url.replace(/\/$/, ''));
    return ports.every((port) => urls.some((url) => url.endsWith(`:${port}`)));
  });
}
