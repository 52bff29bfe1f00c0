// Sends one active health check request to a server and decides whether it passed. Checks use
// a connection pool of their own, separate from the one that forwards requests.
import { Agent, request } from 'undici';

import type { ActiveCheckOptions } from './health-options.js';

export interface ProbeResult {
  passed: boolean;
  /** Observed result, such as `status 200` or `request failed (ECONNREFUSED): ...`. */
  detail: string;
}

/** Checks one server. A failed request is a result, so the promise resolves for it too. */
export type HealthProbe = (server: URL, options: ActiveCheckOptions) => Promise<ProbeResult>;

export interface HttpHealthProbe {
  probe: HealthProbe;
  /** Closes the pooled connections of the checks. */
  close(): Promise<void>;
}

/** Redirects followed within one check before it counts as failed (Go's http.Client stops at 10). */
const MAX_REDIRECTS = 10;
/** Time an idle connection of the checks is kept, shorter than most servers' own idle timeouts. */
const IDLE_TIMEOUT_MS = 1_000;

/** Returns the URL a check requests: the server URL with the check's scheme, port and path. */
export function checkUrl(server: URL, options: ActiveCheckOptions): URL {
  const url = new URL(options.path, server);
  if (options.scheme !== undefined) url.protocol = `${options.scheme}:`;
  if (options.port !== undefined) url.port = String(options.port);
  return url;
}

/** Returns whether a status passes: the configured one, else any from 200 to 399 as in Traefik. */
export function statusPasses(status: number, options: Pick<ActiveCheckOptions, 'status'>): boolean {
  return options.status === undefined ? status >= 200 && status < 400 : status === options.status;
}

/**
 * Creates the probe that sends checks over HTTP/1.1 with undici.
 * NOTE: an https check verifies the server certificate against Node's default CAs, so a server
 * with a self-signed certificate shows as down until serversTransport settings are supported.
 */
export function createHttpHealthProbe(): HttpHealthProbe {
  const agent = new Agent({ keepAliveTimeout: IDLE_TIMEOUT_MS, keepAliveMaxTimeout: IDLE_TIMEOUT_MS, pipelining: 1 });

  const probe: HealthProbe = async (server, options) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const headers: Record<string, string> = { ...options.headers };
    if (options.hostname !== undefined) headers.host = options.hostname;

    let url = checkUrl(server, options);
    try {
      for (let redirects = 0; ; redirects++) {
        const response = await request(url, {
          dispatcher: agent,
          method: options.method,
          headers,
          signal,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        await response.body.dump();

        const status = response.statusCode;
        const location = response.headers.location;
        if (options.followRedirects && status >= 300 && status < 400 && typeof location === 'string') {
          const next = new URL(location, url);
          // A redirect is followed only on the server itself, because Berth sends traffic to
          // configured servers only. A redirect elsewhere is judged by its own status.
          if (next.origin === url.origin) {
            if (redirects >= MAX_REDIRECTS) return { passed: false, detail: `more than ${MAX_REDIRECTS} redirects` };
            url = next;
            continue;
          }
        }
        return { passed: statusPasses(status, options), detail: `status ${status}` };
      }
    } catch (error) {
      if (signal.aborted) return { passed: false, detail: `no response within ${options.timeoutMs} ms` };
      return { passed: false, detail: describeFailure(error) };
    }
  };

  return { probe, close: () => agent.close() };
}

function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `request failed (${code}): ${message}` : `request failed: ${message}`;
}
