// Lets a middleware change the response headers a server sent, at the moment the status line is
// written. The forwarder passes the server's fields to `writeHead` as a flat list, and fields in
// that list win over `setHeader`, so the list itself has to be edited.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A flat `[name, value, name, value, ...]` list, as Node.js accepts in `writeHead`. */
export type HeaderList = string[];

/** Calls `edit` with the response's header list just before the status line is written. */
export function editResponseHeaders(response: ServerResponse, edit: (headers: HeaderList) => HeaderList): void {
  const original = response.writeHead;
  response.writeHead = function writeHeadWithEdits(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    const given = (reason === undefined ? rest[0] : rest[1]) as OutgoingHttpHeaders | HeaderList | undefined;

    let headers = edit([...toList(this.getHeaders()), ...toList(given)]);
    if ('stream' in this) headers = withoutConnectionFields(headers);
    for (const name of this.getHeaderNames()) this.removeHeader(name);
    if (reason === undefined) return original.call(this, statusCode, headers);
    return (original as (code: number, reason: string, headers: HeaderList) => ServerResponse).call(this, statusCode, reason, headers);
  } as typeof original;
}

/**
 * Fields that belong to one HTTP/1 connection, which an HTTP/2 message must not carry (RFC 9113
 * §8.2.2) and which Node.js refuses in an HTTP/2 response, ending the stream without a status.
 */
const CONNECTION_FIELDS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** Removes the fields that a middleware set for HTTP/1 connections from a list for an HTTP/2 response. */
function withoutConnectionFields(headers: HeaderList): HeaderList {
  const result: HeaderList = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i] as string;
    if (!CONNECTION_FIELDS.has(key.toLowerCase())) result.push(key, headers[i + 1] as string);
  }
  return result;
}

/** Flattens header fields given as an object or a list into a header list. */
export function toList(headers: OutgoingHttpHeaders | HeaderList | undefined): HeaderList {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return headers.map(String);
  const list: HeaderList = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) list.push(name, String(item));
  }
  return list;
}

/** Removes every field named `name` (case-insensitive) from a header list. */
export function withoutHeader(headers: HeaderList, name: string): HeaderList {
  const lower = name.toLowerCase();
  const result: HeaderList = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i] as string;
    if (key.toLowerCase() !== lower) result.push(key, headers[i + 1] as string);
  }
  return result;
}

/** Returns a chunk given to `write` or `end` as a Buffer, reading a string in `encoding` (UTF-8 by default). */
export function toBuffer(chunk: unknown, encoding: BufferEncoding | undefined): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk));
}
