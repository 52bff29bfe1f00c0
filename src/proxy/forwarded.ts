// X-Forwarded-* and X-Real-Ip: what Berth reports to the server about the client and the entry point.
// From an untrusted peer every client-sent value is replaced, because anyone can send these headers.
import type { IncomingMessage } from 'node:http';

import type { ForwardContext } from './types.js';

/**
 * Request fields that Berth sets itself and removes from what the client sent, in lower case.
 * `Forwarded` (the standardized form of the same facts) is removed too, so an untrusted client cannot
 * spoof its address through it. Berth does not generate it.
 */
export const FORWARDED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-real-ip',
  'forwarded',
]);

export interface ForwardedOptions {
  /**
   * True when the peer is a trusted proxy, so its X-Forwarded-* values are kept and its address is appended
   * to X-Forwarded-For. False replaces every value with what Berth observed.
   */
  trusted: boolean;
}

/**
 * Computes the forwarding fields for one request, keyed by lower-case field name. A field whose value
 * cannot be known (no peer address on a closed socket, no Host) is left out.
 */
export function forwardedHeaders(request: IncomingMessage, context: ForwardContext, options: ForwardedOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const peer = peerAddress(request.socket?.remoteAddress);
  const host = clientHosts.get(request) ?? requestHost(request);

  const clientFor = options.trusted ? headerValue(request, 'x-forwarded-for') : undefined;
  const forwardedFor = [clientFor, peer].filter((part): part is string => part !== undefined && part !== '').join(', ');
  if (forwardedFor !== '') {
    headers['x-forwarded-for'] = forwardedFor;
  }

  headers['x-forwarded-proto'] = keptOr(request, options, 'x-forwarded-proto', forwardedProto(request, context.scheme));

  const forwardedHost = keptOr(request, options, 'x-forwarded-host', host);
  if (forwardedHost !== undefined) {
    headers['x-forwarded-host'] = forwardedHost;
  }

  headers['x-forwarded-port'] = keptOr(request, options, 'x-forwarded-port', forwardedPort(host, context.scheme));
  headers['x-forwarded-server'] = context.serverName;

  const realIp = keptOr(request, options, 'x-real-ip', peer);
  if (realIp !== undefined) {
    headers['x-real-ip'] = realIp;
  }

  if (options.trusted) {
    const forwarded = headerValue(request, 'forwarded');
    if (forwarded !== undefined) {
      headers.forwarded = forwarded;
    }
  }
  return headers;
}

/**
 * Returns the protocol the client used: `http` or `https`, or `ws` and `wss` for a WebSocket upgrade
 * request, which WebSocket servers and Traefik use to tell the two apart (RFC 6455 section 3 names the schemes).
 */
export function forwardedProto(request: IncomingMessage, scheme: 'http' | 'https'): string {
  const upgrade = request.headers.upgrade;
  const websocket = typeof upgrade === 'string' && upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
  if (!websocket) {
    return scheme;
  }
  return scheme === 'https' ? 'wss' : 'ws';
}

/** Returns the authority the client asked for: `Host`, or `:authority` when the request came over HTTP/2. */
/** The host each client asked for, kept for X-Forwarded-Host when a middleware changed the request's Host. */
const clientHosts = new WeakMap<IncomingMessage, string>();

/**
 * Sets the Host that the server receives, as the `headers` middleware's `customRequestHeaders.Host`
 * does in Traefik (Go's `req.Host`). X-Forwarded-Host keeps the host the client asked for, because
 * Traefik sets it at the entry point, before any middleware runs.
 */
export function replaceRequestHost(request: IncomingMessage, host: string): void {
  const original = requestHost(request);
  if (original !== undefined && !clientHosts.has(request)) clientHosts.set(request, original);
  request.headers.host = host;
}

export function requestHost(request: IncomingMessage): string | undefined {
  const host = request.headers.host;
  if (host !== undefined && host !== '') {
    return host;
  }
  const authority = request.headers[':authority'];
  return typeof authority === 'string' && authority !== '' ? authority : undefined;
}

/**
 * Normalizes a socket's remote address. An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`), which a dual-stack
 * listener reports for IPv4 clients, is given in IPv4 form.
 */
export function peerAddress(address: string | undefined): string | undefined {
  if (address === undefined || address === '') {
    return undefined;
  }
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Returns the port the client connected to, which is the port in Host or else the default port of the scheme
 * (80 or 443, RFC 9110 §4.2). Berth's listener may use another port, but a client that omits the port
 * in Host asked for the default one.
 */
export function forwardedPort(host: string | undefined, scheme: 'http' | 'https'): string {
  const port = host === undefined ? undefined : hostPort(host);
  return port ?? (scheme === 'https' ? '443' : '80');
}

/** Extracts the port from a Host value such as `example.test:8080` or `[::1]:8080`. */
function hostPort(host: string): string | undefined {
  let portStart: number;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1 || host[end + 1] !== ':') {
      return undefined;
    }
    portStart = end + 2;
  } else {
    const colon = host.indexOf(':');
    // Two colons means an unbracketed IPv6 address, which carries no port.
    if (colon === -1 || host.indexOf(':', colon + 1) !== -1) {
      return undefined;
    }
    portStart = colon + 1;
  }

  const port = host.slice(portStart);
  return /^\d{1,5}$/.test(port) ? port : undefined;
}

/** Returns the client's value of a field when the peer is trusted and sent one, otherwise Berth's value. */
function keptOr<T extends string | undefined>(request: IncomingMessage, options: ForwardedOptions, name: string, own: T): string | T {
  if (!options.trusted) {
    return own;
  }
  return headerValue(request, name) ?? own;
}

/** Reads a request field as one string. Node.js has already joined repeated lines with `, ` (RFC 9110 §5.3). */
function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined) {
    return undefined;
  }
  const text = typeof value === 'string' ? value : value.join(', ');
  return text.trim() === '' ? undefined : text;
}
