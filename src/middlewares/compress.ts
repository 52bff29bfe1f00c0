// The `compress` middleware (Traefik's): compresses response bodies with gzip or Brotli, picked
// from the client's Accept-Encoding (RFC 9110 §12.5.3). It wraps the response's writeHead, write
// and end, because the forwarder writes the server's header as a flat list and then streams the body,
// and its emit, so that 'drain' reaches the forwarder only when the compressor can take more too.
import { mediaType, wrapResponse } from './compress-response.js';
import type { Middleware } from './types.js';
import { option, stringList } from './options.js';

export type CompressEncoding = 'gzip' | 'br';

/** Traefik's default `minResponseBodyBytes`. */
const DEFAULT_MIN_RESPONSE_BODY_BYTES = 1024;

/**
 * Traefik v3 defaults to `zstd, br, gzip`. Node.js 20 has no zstd compressor, so Berth offers
 * the other two in the same order of preference.
 */
const DEFAULT_ENCODINGS: readonly CompressEncoding[] = ['br', 'gzip'];


export interface CompressSettings {
  encodings: readonly CompressEncoding[];
  /** Used when the request has no Accept-Encoding, or when only `*` matches. */
  defaultEncoding: CompressEncoding | undefined;
  minResponseBodyBytes: number;
  /** Lower-case media types without parameters. */
  excludedContentTypes: ReadonlySet<string>;
  includedContentTypes: ReadonlySet<string>;
}

export function createCompress(options: Record<string, unknown>): Middleware {
  const settings = compressSettings(options);
  return async (context, next) => {
    const encoding = negotiateEncoding(context.request.headers['accept-encoding'], settings);
    wrapResponse(context.request, context.response, settings, encoding);
    await next();
  };
}

/** Reads and checks the options; throws an Error naming the bad option. */
export function compressSettings(options: Record<string, unknown>): CompressSettings {
  const written = stringList(options, 'encodings').map((item) => item.toLowerCase());
  const encodings = written.length === 0 ? DEFAULT_ENCODINGS : written.map((item) => checkEncoding(item, 'encodings'));

  const rawDefault = option(options, 'defaultEncoding');
  const defaultEncoding = rawDefault === undefined || rawDefault === '' ? undefined : checkEncoding(String(rawDefault).toLowerCase(), 'defaultEncoding');

  const rawMin = option(options, 'minResponseBodyBytes');
  const minResponseBodyBytes = rawMin === undefined ? DEFAULT_MIN_RESPONSE_BODY_BYTES : Number(typeof rawMin === 'string' ? rawMin.trim() : rawMin);
  if (!Number.isSafeInteger(minResponseBodyBytes) || minResponseBodyBytes < 0) {
    throw new Error(`compress minResponseBodyBytes ${JSON.stringify(rawMin)} is invalid: set a whole number of bytes of at least 0, for example minResponseBodyBytes=1024`);
  }

  const excludedContentTypes = new Set(stringList(options, 'excludedContentTypes').map(mediaType));
  const includedContentTypes = new Set(stringList(options, 'includedContentTypes').map(mediaType));
  if (excludedContentTypes.size > 0 && includedContentTypes.size > 0) {
    throw new Error('compress excludedContentTypes and includedContentTypes cannot both be set: keep only one of them');
  }

  return { encodings, defaultEncoding, minResponseBodyBytes, excludedContentTypes, includedContentTypes };
}

function checkEncoding(value: string, name: string): CompressEncoding {
  if (value === 'gzip' || value === 'br') return value;
  // NOTE: Traefik also accepts zstd, which Node.js 20 cannot produce, so a Traefik configuration
  // that lists zstd must drop it here.
  throw new Error(`compress ${name} "${value}" is not supported: use gzip or br, for example ${name}=br,gzip`);
}

/**
 * Picks the content coding for a request, or returns undefined for an uncompressed response. The
 * highest q-value wins, and ties go to the order of `encodings`. A coding that the client lists
 * with q=0, or that only `*;q=0` covers, is not acceptable. An explicit `identity` that ranks above
 * every supported coding keeps the response uncompressed.
 */
export function negotiateEncoding(header: string | string[] | undefined, settings: CompressSettings): CompressEncoding | undefined {
  // Traefik compresses a request without Accept-Encoding only when defaultEncoding is set.
  if (header === undefined) return settings.defaultEncoding;
  const text = Array.isArray(header) ? header.join(',') : header;
  // An empty field value means the client wants no content coding (RFC 9110 §12.5.3).
  if (text.trim() === '') return undefined;

  const weights = new Map<string, number>();
  for (const item of text.split(',')) {
    const [rawCoding = '', ...parameters] = item.split(';');
    const coding = rawCoding.trim().toLowerCase();
    if (coding === '') continue;
    const weight = qValue(parameters);
    if (weight === undefined) continue;
    weights.set(coding, Math.max(weight, weights.get(coding) ?? 0));
  }

  const wildcard = weights.get('*');
  let best: { encoding: CompressEncoding; weight: number; rank: number } | undefined;
  settings.encodings.forEach((encoding, index) => {
    const explicit = weights.get(encoding);
    const weight = explicit ?? wildcard ?? 0;
    if (weight <= 0) return;
    // Among equal weights an explicitly listed coding ranks first, then defaultEncoding for `*`.
    const count = settings.encodings.length;
    let rank = index;
    if (explicit === undefined) rank = encoding === settings.defaultEncoding ? count : count + 1 + index;
    if (best === undefined || weight > best.weight || (weight === best.weight && rank < best.rank)) {
      best = { encoding, weight, rank };
    }
  });

  if (best === undefined) return undefined;
  const identity = weights.get('identity');
  if (identity !== undefined && identity > best.weight) return undefined;
  return best.encoding;
}

/** Reads the `q` parameter (RFC 9110 §12.4.2); returns undefined for a malformed one. */
function qValue(parameters: string[]): number | undefined {
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=', 2).map((part) => part.trim());
    if (name.toLowerCase() !== 'q') continue;
    if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return undefined;
    return Number(value);
  }
  return 1;
}
