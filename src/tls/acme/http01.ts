// The HTTP-01 challenge (RFC 8555 section 8.3): the CA fetches
// `http://<domain>/.well-known/acme-challenge/<token>` on port 80 and expects the key
// authorization as the body. The entry point named in `httpchallenge.entrypoint` calls
// `challengeResponder` before routing, so the response is served whatever the routers match.

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ChallengeCleanup, ChallengeSolver, PendingChallenge } from './challenges.js';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';

/** Key authorizations by token, shared by every resolver of the process. */
const keyAuthorizations = new Map<string, string>();

/**
 * Serves the key authorization of a pending HTTP-01 challenge. Returns true when it responded,
 * and false for any other request, which the caller then routes as usual.
 */
export function challengeResponder(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = (request.url ?? '').split('?')[0] ?? '';
  if (!path.startsWith(CHALLENGE_PATH)) return false;

  const keyAuthorization = keyAuthorizations.get(path.slice(CHALLENGE_PATH.length));
  if (keyAuthorization === undefined) return false;

  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(keyAuthorization), 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : keyAuthorization);
  return true;
}

export class Http01Solver implements ChallengeSolver {
  readonly type = 'http-01';

  async present(challenges: readonly PendingChallenge[]): Promise<ChallengeCleanup> {
    const tokens = challenges.map((item) => item.challenge.token);
    for (const item of challenges) keyAuthorizations.set(item.challenge.token, item.keyAuthorization);
    return async () => {
      for (const token of tokens) keyAuthorizations.delete(token);
    };
  }
}
