// The short plain-text responses that ipAllowList, inFlightReq, rateLimit and basicAuth send
// themselves, shaped like Go's: the reason phrase as the body, in text/plain.
import { STATUS_CODES } from 'node:http';

import type { RequestContext } from './types.js';

/**
 * Sends `status` with `body` (the reason phrase by default) and the extra `headers`, given as a
 * flat name/value list as the forwarder passes them, so middlewares that edit response headers see them.
 */
export function sendStatus(context: RequestContext, status: number, headers: string[] = [], body = STATUS_CODES[status] ?? ''): void {
  context.response.writeHead(status, [...headers, 'Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))]);
  context.response.end(body);
}
