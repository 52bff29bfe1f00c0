// Repeated response fields that Node.js's http2 module accepts only once. HTTP/1.1 carries a field
// line as often as a server sends it, but Node.js (lib/internal/http2/util.js, `kSingleValueHeaders`,
// checked on 20.20 and 24.22) throws ERR_HTTP2_HEADER_SINGLE_VALUE when one of these fields has more
// than one value. A server may send two `X-Content-Type-Options` lines, for example, when the
// application and its framework each add one. Without folding, HTTP/2 clients got a 502 where HTTP/1.1
// clients got the page. A repeated `Date` even ended the stream with no response, because Node.js's
// removeHeader('date') leaves a stored Date in place, so the 502 failed on it too.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

import { toList, type HeaderList } from '../middlewares/response-headers.js';

/**
 * Single-value fields whose grammar is a comma-separated list: Content-Encoding and Content-Language
 * (RFC 9110 §8.4, §8.5), If-Match and If-None-Match (RFC 9110 §13.1.1, §13.1.2). RFC 9110 §5.3 allows
 * repeated lines of such a field to be joined with ", ", which keeps their meaning.
 */
const LIST_FIELDS: ReadonlySet<string> = new Set(['content-encoding', 'content-language', 'if-match', 'if-none-match']);

/**
 * Node.js's single-value fields that are not lists. Each takes one value, such as one media type, one
 * date, one URI or one entity tag. A repeated line is the server's error, and joining would make the
 * value invalid, so the first line is kept, which is the one Go's `Header.Get` returns. Several of
 * these (Authorization, Host, Range, Referer, User-Agent and others) are request fields that mean
 * nothing in a response, but Node.js checks them in responses too.
 */
const FIRST_VALUE_FIELDS: ReadonlySet<string> = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

function isSingleValueField(lowerName: string): boolean {
  return FIRST_VALUE_FIELDS.has(lowerName) || LIST_FIELDS.has(lowerName);
}

/**
 * Wraps the writeHead of an HTTP/2 response so that a repeated single-value field reaches Node.js once.
 * It is installed before any middleware wraps writeHead, so it receives the fields the middlewares leave.
 * NOTE: fields stored with setHeader are not folded, so an array value for one of these fields still fails.
 */
export function foldSingleValueFieldsOnWrite(response: ServerResponse): void {
  const original = response.writeHead;
  response.writeHead = function writeHeadWithSingleValues(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const index = typeof rest[0] === 'string' ? 1 : 0;
    const fields = rest[index] as OutgoingHttpHeaders | HeaderList | undefined;
    if (fields !== undefined && repeatsSingleValueField(fields)) {
      rest[index] = foldSingleValueFields(toList(fields));
    }
    return (original as (code: number, ...args: unknown[]) => ServerResponse).call(this, statusCode, ...rest);
  } as typeof original;
}

/** Returns whether header fields, as an object or a flat list, repeat a single-value field. */
export function repeatsSingleValueField(headers: OutgoingHttpHeaders | readonly unknown[]): boolean {
  const seen = new Set<string>();
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = String(headers[i]).toLowerCase();
      if (!isSingleValueField(name)) continue;
      if (seen.has(name)) return true;
      seen.add(name);
    }
    return false;
  }

  // An object can repeat a field through an array value or through keys that differ only in case.
  for (const [key, value] of Object.entries(headers)) {
    const name = key.toLowerCase();
    if (value === undefined || !isSingleValueField(name)) continue;
    if (seen.has(name) || (Array.isArray(value) && value.length > 1)) return true;
    seen.add(name);
  }
  return false;
}

/**
 * Returns a flat header list in which each single-value field appears once, where its first line was:
 * list fields with their values joined by ", ", the others with their first value. Other fields,
 * Set-Cookie included, keep every line.
 */
export function foldSingleValueFields(list: readonly string[]): HeaderList {
  const result: HeaderList = [];
  // Index in `result` of the value of each single-value field already written.
  const valueIndex = new Map<string, number>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string;
    const value = list[i + 1] as string;
    const lowerName = name.toLowerCase();
    if (!isSingleValueField(lowerName)) {
      result.push(name, value);
      continue;
    }

    const index = valueIndex.get(lowerName);
    if (index === undefined) {
      valueIndex.set(lowerName, result.length + 1);
      result.push(name, value);
    } else if (LIST_FIELDS.has(lowerName)) {
      result[index] = `${result[index] as string}, ${value}`;
    }
  }
  return result;
}
