// Steps that run before routing on an entry point and may respond to a request themselves, such
// as the entry point redirection or the responses to ACME HTTP-01 challenges. The first step that
// claims a request responds to it, and a request that no step claims goes to the router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import type { RequestHandler, Scheme, UpgradeHandler } from './server.js';

/** Responds to `request` and returns true, or returns false and leaves it untouched. */
export type RequestClaim = (request: IncomingMessage, response: ServerResponse, scheme: Scheme) => boolean | Promise<boolean>;

/** Responds to an upgrade request on its socket and returns true, or returns false and leaves it untouched. */
export type UpgradeClaim = (request: IncomingMessage, socket: Duplex, head: Buffer, scheme: Scheme) => boolean | Promise<boolean>;

/** Returns a handler that offers each request to `claims` in order, then to `last`. */
export function chainRequestHandlers(claims: readonly RequestClaim[], last: RequestHandler): RequestHandler {
  if (claims.length === 0) return last;
  return async (request, response, scheme) => {
    for (const claim of claims) {
      if (await claim(request, response, scheme)) return;
    }
    await last(request, response, scheme);
  };
}

/** Returns an upgrade handler that offers each request to `claims` in order, then to `last`. */
export function chainUpgradeHandlers(claims: readonly UpgradeClaim[], last: UpgradeHandler): UpgradeHandler {
  if (claims.length === 0) return last;
  return async (request, socket, head, scheme) => {
    for (const claim of claims) {
      if (await claim(request, socket, head, scheme)) return;
    }
    await last(request, socket, head, scheme);
  };
}
