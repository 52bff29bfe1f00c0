// The trailer fields of a client's request, passed on to an HTTP/1.1 server at the end of a chunked body, as
// Go's ReverseProxy does. undici 7.30.3 cannot send them, so these requests go through node:http (expect-continue.ts).
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

import { FORWARDED_HEADER_NAMES } from './forwarded.js';
import { connectionOptions } from './headers.js';
import { announcedTrailers, forwardedTrailers, type ExcludedNames } from './trailers.js';

/** Tests of the field names that a middleware sets or removes in a request's header section, by request. */
const managedFields = new WeakMap<IncomingMessage, Array<(name: string) => boolean>>();

/**
 * Records that a middleware sets or removes the request fields that `matches` accepts (lower-case names), so
 * that a trailer field cannot bring them back. A server that merges trailer fields into the header section
 * would otherwise receive the client's value. Only a request that announces trailers is recorded.
 */
export function manageRequestFields(request: IncomingMessage, matches: (name: string) => boolean): void {
  if (request.headers.trailer === undefined) return;
  const list = managedFields.get(request);
  if (list === undefined) managedFields.set(request, [matches]);
  else list.push(matches);
}

/** The trailer section a request announced, to send after its body. */
export interface RequestTrailers {
  /** The value of the `Trailer` field sent to the server, without the names that may not be trailers. */
  announced: string;
  /** Returns the client's trailer fields that the server gets, or undefined when none is left. Call it once the body has ended. */
  fields(): OutgoingHttpHeaders | undefined;
}

/**
 * Returns the trailer section announced in the request's `Trailer` field, or undefined when no name in it may
 * be passed on. Trailers need a chunked body (RFC 9112 §7.1.2), so a request with a Content-Length gets none.
 * `sentHeaders` is the flat header list sent to the server: a trailer never adds a value to one of those fields,
 * nor to the X-Forwarded-* fields Berth sets or to a field a middleware manages (`manageRequestFields`).
 */
export function requestTrailers(request: IncomingMessage, sentHeaders: readonly string[]): RequestTrailers | undefined {
  const value = request.headers.trailer;
  if (typeof value !== 'string' || request.headers['content-length'] !== undefined) {
    return undefined;
  }
  // The names a trailer may not carry: those in Connection, in the header section sent, X-Forwarded-* and managed ones.
  const names = new Set(requestConnectionOptions(request));
  for (let i = 0; i < sentHeaders.length; i += 2) names.add((sentHeaders[i] ?? '').toLowerCase());
  for (const name of FORWARDED_HEADER_NAMES) names.add(name);
  const managed = managedFields.get(request) ?? [];
  const excluded: ExcludedNames = { has: (name) => names.has(name) || managed.some((matches) => matches(name)) };

  const announced = announcedTrailers(value, excluded);
  if (announced === undefined) {
    return undefined;
  }
  return { announced, fields: () => forwardedTrailers(request.trailers, excluded, false) };
}

/**
 * Pipes `body` into `clientRequest`, then adds the client's trailer fields, complete at the body's 'end', and
 * ends the request. A field that Node.js rejects goes to `onRejected`, and the request ends without trailers.
 */
export function pipeWithTrailers(body: Readable, clientRequest: ClientRequest, trailers: RequestTrailers, onRejected: (error: unknown) => void): void {
  body.once('end', () => {
    // An exchange that failed or ended early destroyed the request.
    if (clientRequest.destroyed) {
      return;
    }
    const fields = trailers.fields();
    if (fields !== undefined) {
      try {
        clientRequest.addTrailers(fields);
      } catch (error) {
        // addTrailers starts its section anew, so an empty one drops the fields already added.
        clientRequest.addTrailers({});
        onRejected(error);
      }
    }
    clientRequest.end();
  });
  body.pipe(clientRequest, { end: false });
}

/**
 * Returns the options of the request's `Connection` field (RFC 9110 §7.6.1), from `rawHeaders`, because
 * hop-by-hop removal deletes Connection from `request.headers` when the request arrives.
 */
function requestConnectionOptions(request: IncomingMessage): ReadonlySet<string> {
  const values: string[] = [];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'connection') values.push(raw[i + 1] ?? '');
  }
  return connectionOptions(values.length > 0 ? values : undefined);
}
