// Extracts what rules match on from an incoming request.
import type { IncomingMessage } from 'node:http';
import type { RequestFacts } from '../rules/types.js';

/** Lower-cases a host, removes its port and a trailing dot; brackets of an IPv6 literal are kept. */
export function normalizeHost(value: string): string {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Returns the peer address, with IPv4-mapped IPv6 addresses in IPv4 form. */
export function peerAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Builds the facts for rule matching. The path stays exactly as received, so `%2F` is not
 * decoded into `/`. An absolute-form target (`GET http://host/path`) supplies host and path.
 */
export function requestFacts(request: IncomingMessage): RequestFacts {
  let target = request.url ?? '/';
  let host = request.headers.host ?? '';

  if (!target.startsWith('/') && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const afterScheme = target.indexOf('//') + 2;
    const pathStart = target.indexOf('/', afterScheme);
    host = target.slice(afterScheme, pathStart === -1 ? undefined : pathStart);
    target = pathStart === -1 ? '/' : target.slice(pathStart);
  }

  const queryAt = target.indexOf('?');
  return {
    host: normalizeHost(host),
    path: queryAt === -1 ? target : target.slice(0, queryAt),
    rawQuery: queryAt === -1 ? '' : target.slice(queryAt + 1),
    method: request.method ?? 'GET',
    headers: request.headers,
    clientIp: peerAddress(request),
  };
}
