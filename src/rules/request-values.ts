// Reads hosts, headers and query parameters from RequestFacts the way Go's net/http presents them
// to Traefik's matchers.
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Normalizes a host written in a rule: lower case, no trailing dot, no brackets around an IPv6
 * literal. Traefik lower-cases rule hosts and accepts a trailing dot on either side.
 */
export function normalizeRuleHost(value: string): string {
  let host = value.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host;
}

/**
 * Returns the request host as Host matchers compare it. RequestFacts already gives it lower-cased
 * without port or trailing dot, so only the brackets of an IPv6 literal are removed, as Go's
 * SplitHostPort does for Traefik. Because nothing else changes, a host that matches is exactly
 * the key the router table looks up.
 */
export function comparableRequestHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Returns true when `host` is exactly one DNS label followed by `suffix` (which starts with a dot),
 * the meaning of a `*.example.com` wildcard.
 */
export function matchesOneLabelWildcard(host: string, suffix: string): boolean {
  if (host.length <= suffix.length || !host.endsWith(suffix)) return false;
  const labelEnd = host.length - suffix.length;
  return host.lastIndexOf('.', labelEnd - 1) === -1;
}

/**
 * Returns the values of one request header, each header line being one value when the caller
 * passes `IncomingMessage.headersDistinct`. With plain `IncomingMessage.headers`, Node joins
 * repeated lines with ", ", so a matcher compares the joined text where Go compares each line.
 *
 * `Host` always yields no value: Go moves it out of the header map into `Request.Host`, so
 * ``Header(`Host`, ...)`` never matches in Traefik.
 */
export function headerValues(headers: IncomingHttpHeaders, lowerCaseName: string): readonly string[] {
  if (lowerCaseName === 'host') return [];
  const value = headers[lowerCaseName];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

export type QueryValues = ReadonlyMap<string, readonly string[]>;

let lastRawQuery: string | undefined;
let lastParsedQuery: QueryValues = new Map();

/**
 * Parses a raw query string like Go's `url.ParseQuery`: pairs split on `&`, key and value split
 * at the first `=`, `+` and percent escapes decoded. Pairs that Go skips are skipped: empty
 * ones, ones containing `;`, and ones with an invalid percent escape.
 *
 * The last result is kept, because every Query matcher of a request parses the same string.
 */
export function parseQuery(rawQuery: string): QueryValues {
  if (rawQuery === lastRawQuery) return lastParsedQuery;

  const values = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;

    const equals = pair.indexOf('=');
    const key = unescapeQueryComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = unescapeQueryComponent(equals === -1 ? '' : pair.slice(equals + 1));
    if (key === undefined || value === undefined) continue;

    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }

  lastRawQuery = rawQuery;
  lastParsedQuery = values;
  return values;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes one query key or value like Go's `url.QueryUnescape`, or returns `undefined` for a bad
 * escape. Decoded bytes that are not valid UTF-8 become U+FFFD where Go keeps the raw bytes.
 * The difference does not change equality, because a rule value is always valid text.
 */
function unescapeQueryComponent(text: string): string | undefined {
  if (!text.includes('%') && !text.includes('+')) return text;

  // Work on the UTF-8 bytes, since escapes stand for bytes and `%`, `+` and hex digits are ASCII.
  const input = Buffer.from(text, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] ?? 0;
    if (byte === 0x2b) {
      bytes.push(0x20);
    } else if (byte === 0x25) {
      const high = hexValue(input[i + 1]);
      const low = hexValue(input[i + 2]);
      if (high === undefined || low === undefined) return undefined;
      bytes.push(high * 16 + low);
      i += 2;
    } else {
      bytes.push(byte);
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

function hexValue(byte: number | undefined): number | undefined {
  if (byte === undefined) return undefined;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return undefined;
}
