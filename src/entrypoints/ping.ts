// `/ping` on a user entry point, set with `--ping.entrypoint`. Traefik v3 serves it as the router
// ping@internal with the rule PathPrefix(`/ping`) and the highest priority, so it comes before
// every router and before the entry point redirection, and it responds 200 OK to any method.
// Like any router without a `tls` section of its own, it serves plain HTTP on an entry point
// without `http.tls`, and only requests over TLS on an entry point with it.
import type { Duplex } from 'node:stream';

import type { StaticConfig } from '../config/index.js';
import { getOwn } from '../dictionary.js';

import { cleanPath, decodeUnreserved, requestFacts } from '../routing/facts.js';
import type { RequestClaim, UpgradeClaim } from './handler-chain.js';
import type { Scheme } from './server.js';

const PING_PATH = '/ping';

/** The user entry point that `ping.entrypoint` names. */
export interface PingEntryPoint {
  entryPoint: string;
  /** Whether the entry point has `http.tls`, so that /ping is served over TLS only. */
  tls: boolean;
}

/** Returns the entry point that serves /ping before its routers, or undefined when ping is off or on the internal entry point. */
export function pingEntryPoint(config: Pick<StaticConfig, 'ping' | 'entryPoints' | 'internalEntryPoint'>): PingEntryPoint | undefined {
  const name = config.ping?.entryPoint;
  if (name === undefined || name === config.internalEntryPoint) return undefined;
  const entryPoint = getOwn(config.entryPoints, name);
  return entryPoint === undefined ? undefined : { entryPoint: name, tls: entryPoint.http.tls !== undefined };
}
const BODY = 'OK';

/** Builds the steps that respond to `/ping` on one entry point. `tls` is whether the entry point has `http.tls`. */
export function createPingClaims(options: { tls: boolean }): { request: RequestClaim; upgrade: UpgradeClaim } {
  const request: RequestClaim = (incoming, response, scheme) => {
    if (!servesPing(requestFacts(incoming).path, scheme, options.tls)) return false;
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': BODY.length });
    response.end(BODY);
    return true;
  };

  // An upgrade request to /ping gets the same response, and the connection closes after it.
  const upgrade: UpgradeClaim = (incoming, socket, _head, scheme) => {
    if (!servesPing(requestFacts(incoming).path, scheme, options.tls)) return false;
    endSocket(socket, `HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${BODY.length}\r\nconnection: close\r\n\r\n${BODY}`);
    return true;
  };

  return { request, upgrade };
}

/**
 * Returns whether `/ping` on an entry point (with `http.tls` when `tls`) responds to a request for the
 * written `path` over `scheme`. The path is compared as the PathPrefix of a router compares it, after
 * the normalization routing applies, so `/%70ing` and `/a/../ping` match too.
 */
export function servesPing(path: string, scheme: Scheme, tls: boolean): boolean {
  return scheme === (tls ? 'https' : 'http') && cleanPath(decodeUnreserved(path)).startsWith(PING_PATH);
}

function endSocket(socket: Duplex, text: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(text);
}
