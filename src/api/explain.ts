// `GET /api/explain`: which router, middlewares and server a described request would reach, as
// JSON. The request is described by query parameters:
//   url         the request URL, required: http, https, ws or wss (`http://example.com/path?x=1`),
//               percent-encoded as a whole, or written as it is (see `urlParameter`)
//   method      defaults to GET
//   entrypoint  defaults to `web`, or to the only entry point
//   header      `Name: value`, repeatable
//   clientip    defaults to the address of the client calling the API; the entry point's
//               forwardedHeaders.trustedIPs decide whether its X-Forwarded-* fields are kept
import { explain, InvalidExplainRequestError, type ExplainOptions, type ExplainReport, type ExplainRequest } from '../routing/explain.js';
import type { Runtime } from '../routing/runtime.js';
import { createDictionary } from '../dictionary.js';

export type ExplainResponse = { status: 200; body: ExplainReport } | { status: 400; body: { message: string } };

/** Evaluates the request that the query of `url` describes, against `runtime`. */
export function explainFromQuery(runtime: Runtime, url: URL, callerAddress: string, options: ExplainOptions = {}): ExplainResponse {
  try {
    const request = explainRequestFromQuery(url.searchParams, callerAddress);
    const written = urlParameter(url.search);
    if (written !== undefined) request.url = written;
    return { status: 200, body: explain(runtime, request, options) };
  } catch (error) {
    if (error instanceof InvalidExplainRequestError) return { status: 400, body: { message: error.message } };
    throw error;
  }
}

/**
 * Returns the `url` parameter of the raw query `search` as written, when it contains a literal `/`,
 * or undefined otherwise. Form encoding (URLSearchParams, encodeURIComponent, the CLI and the
 * dashboard) always escapes `/`, so such a value was written by hand, such as
 * `?url=http://r.localhost/public/..%2Fadmin`. Decoding it would turn its `%2F` into a slash and
 * explain another path than the one a client sends. The last `url` parameter counts, as in
 * `explainRequestFromQuery`.
 */
export function urlParameter(search: string): string | undefined {
  const pairs = search.replace(/^\?/, '').split('&');
  const written = pairs.filter((pair) => pair.slice(0, 4).toLowerCase() === 'url=').at(-1)?.slice(4);
  return written !== undefined && written.includes('/') ? written : undefined;
}

/** Reads the request description from query parameters; parameter names are case-insensitive. */
export function explainRequestFromQuery(query: URLSearchParams, callerAddress: string): ExplainRequest {
  const values = new Map<string, string[]>();
  for (const [name, value] of query) {
    const key = name.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const last = (name: string): string | undefined => values.get(name)?.at(-1);

  const url = last('url') ?? '';
  if (url.trim() === '') {
    throw new InvalidExplainRequestError('the url parameter is missing: call /api/explain?url=http://HOST/PATH');
  }

  const request: ExplainRequest = { url, headers: parseHeaders(values.get('header') ?? []), clientIp: last('clientip') ?? callerAddress };
  const method = last('method');
  if (method !== undefined && method !== '') request.method = method;
  const entryPoint = last('entrypoint');
  if (entryPoint !== undefined && entryPoint !== '') request.entryPoint = entryPoint;
  return request;
}

/** Parses `Name: value` lines; a repeated name gives a header sent several times. */
export function parseHeaders(lines: readonly string[]): Record<string, string[]> {
  const headers = createDictionary<string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    if (name === '' || /[\s"(),/:;<=>?@[\\\]{}]/.test(name)) {
      throw new InvalidExplainRequestError(`header "${line}" is invalid: write it as "Name: value"`);
    }
    (headers[name.toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
  }
  return headers;
}
