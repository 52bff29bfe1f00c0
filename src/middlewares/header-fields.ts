// Checks the header names and values that middleware options configure, with the same
// `validateHeaderName` and `validateHeaderValue` that Node.js runs in `setHeader` and `writeHead`.
// undici, which forwards request headers to the server, rejects the same names and values (checked
// with Node.js 20 and the undici in package.json). A field that passes here therefore cannot make a
// response or a forwarded request fail later, so a bad one is reported when the middleware is built.
import { validateHeaderName, validateHeaderValue } from 'node:http';

import { option, stringList, stringMap } from './options.js';

const NAME_RULE = "a header name must be a non-empty token of letters, digits and !#$%&'*+-.^_`|~ (RFC 9110), so no spaces, colons or non-ASCII letters";
const VALUE_RULE = 'a header value may contain only tab, space, visible ASCII and Latin-1 characters (U+0080 to U+00FF), with no CR, LF, NUL or other control characters';

/** Throws an Error naming `subject` (such as `headers customResponseHeaders`) when `name` is not a valid header name. */
export function checkHeaderName(subject: string, name: string): void {
  try {
    validateHeaderName(name);
  } catch {
    throw new Error(`${subject} header name ${JSON.stringify(name)} is invalid: ${NAME_RULE}`);
  }
}

/** Throws an Error naming `subject` and the header `name` when `value` cannot be sent as a header value. */
export function checkHeaderValue(subject: string, name: string, value: string): void {
  try {
    validateHeaderValue(name, value);
  } catch {
    const position = firstInvalidCharacter(value);
    const detail = position === undefined ? '' : ` (${position})`;
    throw new Error(`${subject} value ${JSON.stringify(value)} of header ${JSON.stringify(name)} is invalid${detail}: ${VALUE_RULE}`);
  }
}

/** Describes the first character of `value` that Node.js rejects, as `U+2615 at index 7`. */
function firstInvalidCharacter(value: string): string | undefined {
  let index = 0;
  for (const character of value) {
    try {
      validateHeaderValue('x', character);
    } catch {
      const code = (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
      return `U+${code} at index ${index}`;
    }
    index += character.length;
  }
  return undefined;
}

/** Options of the `headers` middleware whose keys are header names and whose values are header values. */
const FIELD_MAP_OPTIONS = ['customRequestHeaders', 'customResponseHeaders', 'sslProxyHeaders'] as const;

/**
 * Fields that give a message's length. A configured `Content-Length` on a response with another length
 * would make the client read the next response from the middle of this one.
 */
const FRAMING_FIELDS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding']);

/** Options of the `headers` middleware that list header names. */
const NAME_LIST_OPTIONS = ['accessControlAllowHeaders', 'accessControlExposeHeaders', 'hostsProxyHeaders'] as const;

/** Options of the `headers` middleware whose items each end up in a header value. */
const VALUE_LIST_OPTIONS = [
  ['accessControlAllowMethods', 'Access-Control-Allow-Methods'],
  ['accessControlAllowOriginList', 'Access-Control-Allow-Origin'],
] as const;

/** Options of the `headers` middleware that are one header value each, with the header they set. */
const VALUE_OPTIONS = [
  ['customFrameOptionsValue', 'X-Frame-Options'],
  ['customBrowserXSSValue', 'X-XSS-Protection'],
  ['contentSecurityPolicy', 'Content-Security-Policy'],
  ['contentSecurityPolicyReportOnly', 'Content-Security-Policy-Report-Only'],
  ['publicKey', 'Public-Key-Pins'],
  ['referrerPolicy', 'Referrer-Policy'],
  ['permissionsPolicy', 'Permissions-Policy'],
  ['featurePolicy', 'Feature-Policy'],
  ['sslHost', 'Location'],
] as const;

/**
 * Checks every header name and value in the options of a `headers` middleware, and throws an Error
 * naming the option, the header and the value. An empty value is valid, because in the custom
 * header maps it removes the header. Options that are not header fields (booleans, numbers,
 * allowedHosts and accessControlAllowOriginListRegex) are checked where cors.ts and
 * security-headers.ts read them.
 */
export function checkHeadersOptions(options: Record<string, unknown>): void {
  for (const name of FIELD_MAP_OPTIONS) {
    const subject = `headers ${name}`;
    for (const [field, value] of stringMap(options, name)) {
      checkHeaderName(subject, field);
      checkHeaderValue(subject, field, value);
      if (FRAMING_FIELDS.has(field.toLowerCase())) {
        throw new Error(`${subject} cannot set or remove ${JSON.stringify(field)}: Berth frames each message itself, and a changed length would corrupt the connection`);
      }
    }
  }

  for (const name of NAME_LIST_OPTIONS) {
    for (const field of stringList(options, name)) checkHeaderName(`headers ${name}`, field);
  }

  for (const [name, header] of VALUE_LIST_OPTIONS) {
    for (const item of stringList(options, name)) checkHeaderValue(`headers ${name}`, header, item);
  }

  for (const [name, header] of VALUE_OPTIONS) {
    const value = option(options, name);
    if (value !== undefined && value !== null) checkHeaderValue(`headers ${name}`, header, String(value));
  }
}
