// Reads request header fields the way Traefik's Go code does, where `Header.Get` returns only the
// first line of a repeated field. Node.js joins repeated lines of most fields with ", ", which
// would make an exact comparison (Origin, sslProxyHeaders) see a value that no client sent.
import type { IncomingMessage } from 'node:http';

/**
 * Returns the first line of the request field `name` (any case), or `undefined` when it is absent.
 * A value that a middleware has set in `headers` since the request arrived is returned whole.
 */
export function firstHeaderValue(request: IncomingMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  const current = request.headers[lower];
  if (current === undefined) return undefined;
  if (Array.isArray(current)) return current[0];

  const lines: string[] = [];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === lower) lines.push(raw[i + 1] as string);
  }
  if (lines.length > 1 && lines.join(', ') === current) return lines[0];
  return current;
}

/** Returns the request's authority as the client sent it, with its port: Host, or `:authority` in HTTP/2. */
export function requestAuthority(request: IncomingMessage): string {
  const host = request.headers.host ?? request.headers[':authority'];
  return Array.isArray(host) ? (host[0] ?? '') : (host ?? '');
}
