// `/ping` on a user entry point, set with `--ping.entrypoint`. Traefik v3 serves it as the router
// ping@internal with the rule PathPrefix(`/ping`) and the highest priority, so it comes before
// every router and before the entry point redirection, and it responds 200 OK to any method.
// Like any router without a `tls` section of its own, it serves plain HTTP on an entry point
// without `http.tls`, and only requests over TLS on an entry point with it.
import type { Duplex } from 'node:stream';

import { cleanPath, decodeUnreserved, requestFacts } from '../routing/facts.js';
import type { RequestClaim, UpgradeClaim } from './handler-chain.js';
import type { Scheme } from './server.js';

const PING_PATH = '/ping';
const BODY = 'OK';

/** Builds the steps that respond to `/ping` on one entry point. `tls` is whether the entry point has `http.tls`. */
export function createPingClaims(options: { tls: boolean }): { request: RequestClaim; upgrade: UpgradeClaim } {
  const served = (scheme: Scheme): boolean => scheme === (options.tls ? 'https' : 'http');

  const request: RequestClaim = (incoming, response, scheme) => {
    if (!served(scheme) || !isPingPath(requestFacts(incoming).path)) return false;
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': BODY.length });
    response.end(BODY);
    return true;
  };

  // An upgrade request to /ping gets the same response, and the connection closes after it.
  const upgrade: UpgradeClaim = (incoming, socket, _head, scheme) => {
    if (!served(scheme) || !isPingPath(requestFacts(incoming).path)) return false;
    endSocket(socket, `HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${BODY.length}\r\nconnection: close\r\n\r\n${BODY}`);
    return true;
  };

  return { request, upgrade };
}

/** Compares as the PathPrefix of a router does, on the path that routing matches, so `/%70ing` and `/a/../ping` match too. */
function isPingPath(path: string): boolean {
  return cleanPath(decodeUnreserved(path)).startsWith(PING_PATH);
}

function endSocket(socket: Duplex, text: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(text);
}
