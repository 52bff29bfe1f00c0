// The request target as the path-rewriting middlewares see it. Berth keeps the target exactly as
// the client sent it (`request.url`), so the path stays escaped: `%2F` is not turned into `/`, as
// Traefik keeps it in `URL.RawPath`.
import type { IncomingMessage } from 'node:http';
import { truncateValue } from '../quote.js';

/** A request target split into its parts, all as received. */
export interface RequestTarget {
  /** `http` or `https` from an absolute-form target (`http://host/path`), else undefined. */
  scheme: string | undefined;
  /** Authority of an absolute-form target, else undefined. */
  authority: string | undefined;
  /** Escaped path, such as `/a%2Fb`; '' for an absolute-form target without a path. */
  path: string;
  /** Query with its leading `?`, or ''. */
  query: string;
}

/** Splits `request.url` into scheme, authority, path and query. */
export function requestTarget(request: IncomingMessage): RequestTarget {
  let rest = request.url ?? '/';
  let scheme: string | undefined;
  let authority: string | undefined;

  const absolute = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(rest);
  if (absolute !== null) {
    scheme = (absolute[1] as string).toLowerCase();
    authority = absolute[2] as string;
    rest = rest.slice(absolute[0].length);
  }

  const queryAt = rest.indexOf('?');
  return {
    scheme,
    authority,
    path: queryAt === -1 ? rest : rest.slice(0, queryAt),
    query: queryAt === -1 ? '' : rest.slice(queryAt),
  };
}

/** Characters allowed unescaped in a path (RFC 3986 `pchar` and `/`), besides `%`. */
const PATH_CHARACTER = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/**
 * Returns `path` in a form that can be sent as a request target, or the reason it cannot be sent:
 * an invalid escape or a control character. Existing `%XX` escapes are kept, so `%2F` stays `%2F`.
 * Any other character that a path may not contain is escaped as UTF-8, as Go's `URL.EscapedPath`
 * does for the path that Traefik forwards. A path without a leading `/` gets one.
 */
export function escapePath(path: string): { ok: true; path: string } | { ok: false; reason: string } {
  let result = '';
  for (let i = 0; i < path.length; i++) {
    const character = path[i] as string;
    if (character === '%') {
      if (!/^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
        return { ok: false, reason: `invalid escape ${JSON.stringify(path.slice(i, i + 3))}: a "%" must be followed by two hex digits` };
      }
      result += path.slice(i, i + 3);
      i += 2;
      continue;
    }
    const code = character.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      return { ok: false, reason: `control character ${JSON.stringify(character)} in the path` };
    }
    if (PATH_CHARACTER.test(character)) {
      result += character;
      continue;
    }

    const codePoint = path.codePointAt(i) as number;
    if (codePoint > 0xffff) i += 1;
    result += encodeURIComponent(String.fromCodePoint(codePoint)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return { ok: true, path: result.startsWith('/') ? result : `/${result}` };
}

/** A decoded path and, for each of its UTF-8 bytes, where the escaped path continues after it. */
export interface DecodedPath {
  /** The path with every `%XX` escape decoded, as Go's `URL.Path`. */
  text: string;
  /**
   * Returns the length of the escaped prefix of the path that decodes to the first `length`
   * UTF-16 units of `text`, or undefined when no escaped prefix ends there.
   */
  escapedLength(length: number): number | undefined;
}

/**
 * Decodes an escaped path as Go's `url.PathUnescape` does, keeping track of where each byte came
 * from. Bytes that are not valid UTF-8 are decoded as Latin-1, so that each byte stays one character.
 */
export function decodePath(path: string): DecodedPath {
  const bytes: number[] = [];
  /** `escapedEnd[n]` is the offset in `path` just after the byte `n`. */
  const escapedEnd: number[] = [];

  for (let i = 0; i < path.length; ) {
    if (path[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(path.slice(i + 1, i + 3), 16));
      i += 3;
      escapedEnd.push(i);
      continue;
    }
    const codePoint = path.codePointAt(i) as number;
    const width = codePoint > 0xffff ? 2 : 1;
    for (const byte of Buffer.from(String.fromCodePoint(codePoint), 'utf8')) {
      bytes.push(byte);
      escapedEnd.push(i + width);
    }
    i += width;
  }

  const buffer = Buffer.from(bytes);
  const utf8 = buffer.toString('utf8');
  const isUtf8 = Buffer.from(utf8, 'utf8').equals(buffer);
  const text = isUtf8 ? utf8 : buffer.toString('latin1');

  return {
    text,
    escapedLength(length) {
      if (length === 0) return 0;
      const byteCount = isUtf8 ? Buffer.byteLength(text.slice(0, length), 'utf8') : length;
      return escapedEnd[byteCount - 1];
    },
  };
}

/**
 * Adds a line to the request field `name`, keeping earlier lines, as Go's `Header.Add` does. The
 * forwarder sends each item of an array as its own line.
 */
export function addRequestHeader(request: IncomingMessage, name: string, value: string): void {
  const key = name.toLowerCase();
  const current = request.headers[key];
  if (current === undefined) request.headers[key] = value;
  else if (Array.isArray(current)) current.push(value);
  else (request.headers as Record<string, string | string[]>)[key] = [current, value];
}

/** Describes the first control character (U+0000 to U+001F, or U+007F) in `value`, such as `"\r" at index 3`. */
export function findControlCharacter(value: string): string | undefined {
  const index = value.search(/[\u0000-\u001f\u007f]/);
  return index === -1 ? undefined : `${JSON.stringify(value[index])} at index ${index}`;
}

/**
 * Throws an Error naming `subject` (such as `addprefix prefix`) and the value when `value` contains
 * a control character. Such an option ends up in a request target, a Location or another header
 * field, where a CR or LF would make every request through the middleware fail, so it is rejected
 * when the middleware is built.
 */
export function checkNoControlCharacters(subject: string, value: string): void {
  const found = findControlCharacter(value);
  if (found === undefined) return;
  throw new Error(`${subject} ${JSON.stringify(truncateValue(value))} is invalid: it contains the control character ${found}; remove line breaks and other control characters, or percent-encode them`);
}
