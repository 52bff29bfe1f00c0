// The trailer fields of a server's response, as they are passed on to the client, and those of a client's
// request, as they are passed on to the server (request-trailers.ts). RFC 9110 §6.5.1
// forbids trailer fields that a recipient needs before the content, and a proxy drops hop-by-hop
// fields wherever they appear (§7.6.1). Node.js (20.20 and 24.22) sends an HTTP/2 response's trailers
// from its 'wantTrailers' event, outside any handler, and throws there on a connection-specific field
// (RFC 9113 §8.2.2) or a repeated single-value field, which ended the whole process.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

import { createDictionary } from '../dictionary.js';
import { foldSingleValueFields } from '../entrypoints/http2-single-value.js';
import { HOP_BY_HOP_HEADERS } from './headers.js';

/**
 * Fields that are not valid as trailers, in lower case: those describing framing, routing,
 * authentication, request modifiers, response controls or the content format (RFC 9110 §6.5.1).
 * It is the list of golang.org/x/net's `httpguts.ValidTrailerHeader`, which Go's servers and so
 * Traefik apply, and which also rejects every `If-*` field. The hop-by-hop fields are dropped as well.
 */
const FORBIDDEN_TRAILER_FIELDS: ReadonlySet<string> = new Set([
  'authorization',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-range',
  'content-type',
  'expect',
  'host',
  'keep-alive',
  'max-forwards',
  'pragma',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'range',
  'realm',
  'te',
  'trailer',
  'transfer-encoding',
  'www-authenticate',
]);

/**
 * Names a trailer section may not carry besides the forbidden ones, all in lower case: at least the fields
 * named in the message header's `Connection` field, which are hop-by-hop for this message (RFC 9110 §7.6.1).
 */
export type ExcludedNames = Pick<ReadonlySet<string>, 'has'>;

/** Returns whether a field may be passed on as a trailer: it is neither forbidden, hop-by-hop nor in `excluded`. */
export function isForwardedTrailer(name: string, excluded: ExcludedNames): boolean {
  const lowerName = name.toLowerCase();
  if (FORBIDDEN_TRAILER_FIELDS.has(lowerName) || HOP_BY_HOP_HEADERS.has(lowerName) || excluded.has(lowerName)) {
    return false;
  }
  return !lowerName.startsWith('if-');
}

/**
 * Returns the value of the `Trailer` field to announce to the next hop: the names the sender announced,
 * without those that `isForwardedTrailer` drops, or undefined when none is left.
 */
export function announcedTrailers(value: string, excluded: ExcludedNames): string | undefined {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && isForwardedTrailer(name, excluded));
  return names.length > 0 ? names.join(', ') : undefined;
}

/**
 * Returns the trailer fields that the next hop gets, in the form `addTrailers` takes, or undefined
 * when none is left. For an HTTP/2 client, repeated single-value fields are folded as in the header
 * section, because Node.js accepts them only once.
 */
export function forwardedTrailers(trailers: IncomingHttpHeaders, excluded: ExcludedNames, http2: boolean): OutgoingHttpHeaders | undefined {
  let list: string[] = [];
  for (const [name, value] of Object.entries(trailers)) {
    if (value === undefined || !isForwardedTrailer(name, excluded)) continue;
    for (const item of typeof value === 'string' ? [value] : value) list.push(name, item);
  }
  if (http2) list = foldSingleValueFields(list);
  if (list.length === 0) return undefined;

  // Repeated lines of one field become an array value, which both Node.js servers send as repeated lines.
  // A record without a prototype, because a field named `__proto__` would otherwise replace it.
  const fields = createDictionary<string | string[]>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    const existing = fields[name];
    if (existing === undefined) fields[name] = value;
    else if (typeof existing === 'string') fields[name] = [existing, value];
    else existing.push(value);
  }
  return fields;
}

/**
 * Returns the trailer fields of the server's response. NOTE: undici 7.30.3 loses those of an h2c server: its
 * HTTP/2 client passes Node.js's trailer object where a flat list is expected (lib/handler/unwrap-handler.js,
 * `onComplete`), so `trailers` is empty, and the object is kept only as the controller's `rawTrailers`.
 */
export function serverTrailers(controller: Pick<Dispatcher.DispatchController, 'rawTrailers'>, trailers: IncomingHttpHeaders): IncomingHttpHeaders {
  const raw: unknown = controller.rawTrailers;
  if (Object.keys(trailers).length > 0 || typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return trailers;
  }
  const fields = createDictionary<string | string[]>();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    // Pseudo-header fields are not valid in a trailer section (RFC 9113 §8.1).
    if (name.startsWith(':')) continue;
    if (typeof value === 'string') fields[name] = value;
    else if (Array.isArray(value)) fields[name] = value.map(String);
  }
  return fields;
}
