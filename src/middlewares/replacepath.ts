// Traefik's `replacePath` and `replacePathRegex`: replace the request path before forwarding, keep
// the query, and add the escaped path the client sent in X-Replaced-Path, as Traefik v3 does in
// pkg/middlewares/replacepath and pkg/middlewares/replacepathregex.
//
// Both work on the escaped path, so `%2F` in the request or in the new path reaches the server as
// `%2F`. A new path with a character that a path may not contain (a space, say) is escaped. A new
// path with an invalid escape such as `%zz` gets 500, as in Traefik, because it cannot be forwarded.
// A path or replacement whose own text contains such an escape is rejected when it is built.
import type { ServerResponse } from 'node:http';

import { option } from './options.js';
import { compileGoReplacer } from './regexp-replace.js';
import { addRequestHeader, checkNoControlCharacters, escapePath, requestTarget } from './request-target.js';
import type { Middleware, RequestContext } from './types.js';

/** The request field in which Traefik passes the path as it was before the replacement. */
export const REPLACED_PATH_HEADER = 'X-Replaced-Path';

/** Builds `replacePath`; throws an Error naming `path` and the value when it is missing or invalid. */
export function createReplacePath(options: Record<string, unknown>): Middleware {
  const value = option(options, 'path');
  const path = typeof value === 'string' ? value : '';
  if (!path.startsWith('/')) {
    throw new Error(`replacePath path ${JSON.stringify(value ?? '')} is invalid: write a path that starts with "/", for example path=/api`);
  }
  const escaped = escapePath(path);
  if (!escaped.ok) {
    throw new Error(`replacePath path ${JSON.stringify(path)} is invalid: ${escaped.reason}; write %25 for a literal "%"`);
  }

  return async (context, next) => {
    const target = requestTarget(context.request);
    replaceRequestPath(context, target.path, escaped.path, target.query);
    await next();
  };
}

/**
 * Builds `replacePathRegex`. The regex is matched against the escaped path, and the path becomes
 * the result of Go's `ReplaceAllString` (every match replaced, `$1` and `${1}` for groups). A path
 * that does not match is forwarded unchanged. Throws an Error naming the option and the value when
 * the regex or the replacement is missing or invalid.
 */
export function createReplacePathRegex(options: Record<string, unknown>): Middleware {
  // Traefik trims spaces around both values.
  const regex = stringOption(options, 'regex').trim();
  const replacement = stringOption(options, 'replacement').trim();
  if (regex === '') {
    throw new Error('replacePathRegex regex is missing: write a Go regular expression for the path, for example regex=^/api/(.*)');
  }
  // Traefik skips the middleware when the replacement is empty, which hides the mistake.
  if (replacement === '') {
    throw new Error('replacePathRegex replacement is missing: write the new path, with $1 or ${1} for a group, for example replacement=/v2/$1');
  }
  checkNoControlCharacters('replacePathRegex replacement', replacement);
  const invalidEscape = findInvalidEscape(replacement);
  if (invalidEscape !== undefined) {
    throw new Error(`replacePathRegex replacement ${JSON.stringify(replacement)} is invalid: invalid escape ${JSON.stringify(invalidEscape)}: a "%" must be followed by two hex digits; write %25 for a literal "%"`);
  }
  const replacer = compileGoReplacer('replacePathRegex regex', regex, replacement, 'replacePathRegex replacement');

  return async (context, next) => {
    const target = requestTarget(context.request);
    if (!replacer.test(target.path)) {
      await next();
      return;
    }

    const escaped = escapePath(replacer.replaceAll(target.path));
    if (!escaped.ok) {
      sendInvalidPath(context.response, escaped.reason);
      return;
    }
    replaceRequestPath(context, target.path, escaped.path, target.query);
    await next();
  };
}

/**
 * Returns the first escape in `replacement` that is invalid in every new path, such as `%zz`, or
 * undefined. A `%` followed by the end of the replacement or by a `$` group reference may still
 * form a valid escape with the text that follows it, so only each new path can show it is invalid.
 */
function findInvalidEscape(replacement: string): string | undefined {
  for (let at = replacement.indexOf('%'); at !== -1; at = replacement.indexOf('%', at + 1)) {
    for (const next of [replacement[at + 1], replacement[at + 2]]) {
      if (next === undefined || next === '$') break;
      if (!/[0-9A-Fa-f]/.test(next)) return replacement.slice(at, at + 3);
    }
  }
  return undefined;
}

function replaceRequestPath(context: RequestContext, oldPath: string, newPath: string, query: string): void {
  addRequestHeader(context.request, REPLACED_PATH_HEADER, oldPath === '' ? '/' : oldPath);
  context.request.url = newPath + query;
}

function sendInvalidPath(response: ServerResponse, reason: string): void {
  const body = `500 Internal Server Error: the replaced path is invalid (${reason})\n`;
  response.writeHead(500, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))]);
  response.end(body);
}

function stringOption(options: Record<string, unknown>, name: string): string {
  const value = option(options, name);
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}
