// Works out what the middlewares of the router that takes an explained request would do with it:
// the preview of each one, in the order the dispatcher runs them, with chains expanded into their
// members. Nothing runs for real, so no counter, breaker or authentication server is touched.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

import { chainMemberNames, isChain } from '../middlewares/chain.js';
import type { MiddlewarePreview, RequestContext } from '../middlewares/types.js';
import type { RequestFacts } from '../rules/types.js';
import type { Runtime } from './runtime.js';
import type { Route } from './table.js';

/** One middleware on the path of the request and what it would do with it. */
export interface ExplainedMiddleware {
  name: string;
  type: string;
  /** The chain that runs this middleware, when the router names it through a chain. */
  chain?: string;
  /**
   * `passes`: calls the next one. `responds`: sends `status` itself for this request.
   * `may-respond`: may send one of `statuses` instead, on the condition `reason` states.
   * `not-reached`: an earlier middleware responds.
   */
  effect: MiddlewarePreview['effect'] | 'not-reached';
  status?: number;
  /** The statuses a `may-respond` middleware can send; empty when another server chooses the status. */
  statuses?: number[];
  /** The Location of a redirect. */
  location?: string;
  reason?: string;
}

/** The response a middleware sends for the request in place of the service's. */
export interface MiddlewareResponse {
  middleware: string;
  type: string;
  status: number;
  reason: string;
  location?: string;
}

/** The described request in the form the dispatcher hands to middlewares. */
export interface PreviewRequest {
  facts: RequestFacts;
  /** Normalized origin-form target, as the dispatcher leaves `request.url`. */
  target: string;
  rawHeaders: string[];
  entryPoint: string;
  scheme: 'http' | 'https';
}

/** Chains nest at most this deep in explain; the runtime already rejects loops of chains. */
const MAX_CHAIN_DEPTH = 16;

/**
 * Previews the middlewares of `route` for `request`. Stops at the first one that responds for
 * certain, and marks the rest `not-reached`.
 */
export function explainMiddlewares(runtime: Runtime, route: Route, request: PreviewRequest): { middlewares: ExplainedMiddleware[]; response?: MiddlewareResponse } {
  const context = previewContext(route, request);
  const middlewares: ExplainedMiddleware[] = [];
  let response: MiddlewareResponse | undefined;

  for (const { name, chain } of expandChains(runtime, route.middlewares, undefined, 0)) {
    const type = runtime.config.middlewares.get(name)?.type ?? '';
    const explained: ExplainedMiddleware = { name, type, effect: 'not-reached' };
    if (chain !== undefined) explained.chain = chain;
    middlewares.push(explained);
    if (response !== undefined) continue;

    // A middleware without a preview always calls the next one.
    const preview = runtime.middlewares.get(name)?.preview?.(context) ?? { effect: 'passes' };
    explained.effect = preview.effect;
    if (preview.effect === 'responds') {
      explained.status = preview.status;
      explained.reason = preview.reason;
      response = { middleware: name, type, status: preview.status, reason: preview.reason };
      if (preview.location !== undefined) {
        explained.location = preview.location;
        response.location = preview.location;
      }
    } else if (preview.effect === 'may-respond') {
      explained.statuses = [...preview.statuses];
      explained.reason = preview.reason;
    }
  }
  return response === undefined ? { middlewares } : { middlewares, response };
}

/**
 * Lists the middlewares that run for `names`, each chain replaced by its members. Names the runtime
 * did not build are left out, as the dispatcher leaves them out.
 */
function expandChains(runtime: Runtime, names: readonly string[], chain: string | undefined, depth: number): Array<{ name: string; chain: string | undefined }> {
  const expanded: Array<{ name: string; chain: string | undefined }> = [];
  for (const name of names) {
    const config = runtime.config.middlewares.get(name);
    if (config === undefined || !runtime.middlewares.has(name)) continue;
    if (isChain(config) && depth < MAX_CHAIN_DEPTH) expanded.push(...expandChains(runtime, chainMemberNames(config), name, depth + 1));
    else expanded.push({ name, chain });
  }
  return expanded;
}

/**
 * Builds the context a middleware would get for the request. The request object is a real
 * IncomingMessage on an unconnected socket, so previews read it with the same helpers as the
 * middlewares, and nothing can be written to a client.
 * NOTE: every preview reads the request as the entry point hands it on, with the forwarding
 * fields of an untrusted client removed. The rewrites of earlier middlewares (stripPrefix,
 * headers) are not applied.
 */
function previewContext(route: Route, described: PreviewRequest): RequestContext {
  const request = new IncomingMessage(new Socket());
  request.method = described.facts.method;
  request.url = described.target;
  request.headers = { ...described.facts.headers };
  request.rawHeaders = [...described.rawHeaders];
  request.httpVersion = '1.1';
  request.httpVersionMajor = 1;
  request.httpVersionMinor = 1;
  const response = new ServerResponse(request);
  return { request, response, facts: described.facts, entryPoint: described.entryPoint, scheme: described.scheme, router: route.name };
}
