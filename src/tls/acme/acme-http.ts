// HTTP settings of acme-client, which sends every ACME request through one shared axios instance:
// the CA certificates to trust, the User-Agent, and how `Retry-After` is honoured.
//
// acme-client retries a 429 or 5xx response in place, sleeping for its `Retry-After`. That is
// right for a few seconds, but a rate limit's `Retry-After` can be hours (RFC 8555 section 6.6),
// and an order must not hold a worker that long. So a response whose `Retry-After` is longer than
// `MAX_INLINE_RETRY_AFTER_S` fails the request at once, and the delay is handed to the renewal
// scheduler, which retries the order no earlier than that.

import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';

import * as acme from 'acme-client';
import axios, { type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

import { VERSION } from '../../version.js';

/** Maximum `Retry-After`, in seconds, that one request waits for before it is sent again. */
export const MAX_INLINE_RETRY_AFTER_S = 30;

/** Time limit of one ACME request, in milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Rate-limit facts collected from the responses of one ACME operation. */
export interface RateLimitNote {
  /** The maximum `Retry-After` received, in milliseconds. */
  retryAfterMs?: number;
}

const notes = new AsyncLocalStorage<RateLimitNote>();
let adapterInstalled = false;

/** acme-client's retry settings on its axios instance, which its types do not declare. */
interface AcmeSettings {
  retryMaxAttempts: number;
  retryDefaultDelay: number;
}

/**
 * Installs Berth's adapter and User-Agent on acme-client's axios instance, and trusts
 * `extraCaPems` besides the system's CAs. A later call replaces the extra CAs.
 */
export function configureAcmeHttp(extraCaPems: readonly string[] = []): void {
  const instance = acme.axios;
  instance.defaults.headers.common['User-Agent'] = `berth/${VERSION} node-acme-client`;
  const settings = (instance.defaults as unknown as { acmeSettings: AcmeSettings }).acmeSettings;
  settings.retryMaxAttempts = 3;
  // axios waits forever by default, and a CA that stops responding must fail the attempt instead.
  instance.defaults.timeout = REQUEST_TIMEOUT_MS;

  if (extraCaPems.length > 0) {
    instance.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ...extraCaPems] });
  }
  if (adapterInstalled) return;
  adapterInstalled = true;

  const http = axios.getAdapter('http');
  instance.defaults.adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    try {
      const response = await http(config);
      noteRetryAfter(response, config);
      return response;
    } catch (error) {
      // acme-client makes axios reject every response, so the status is read from the error.
      if (axios.isAxiosError(error) && error.response !== undefined) noteRetryAfter(error.response, config);
      throw error;
    }
  };
}

/** Reads CA certificates from `LEGO_CA_CERTIFICATES`, a `:`-separated list of PEM files, as Traefik's ACME library does. */
export function extraCaCertificates(env: Readonly<Record<string, string | undefined>>): string[] {
  const list = env.LEGO_CA_CERTIFICATES;
  if (list === undefined || list.trim() === '') return [];
  return list
    .split(':')
    .filter((path) => path.trim() !== '')
    .map((path) => {
      try {
        return readFileSync(path.trim(), 'utf8');
      } catch (error) {
        throw new Error(`Cannot read CA certificate ${path}, named by LEGO_CA_CERTIFICATES: ${(error as Error).message}`, { cause: error });
      }
    });
}

/** Runs `operation` and returns its result, or throws its error with the maximum `Retry-After` received attached as `retryAfterMs`. */
export async function withRateLimitNotes<T>(operation: () => Promise<T>): Promise<T> {
  const note: RateLimitNote = {};
  try {
    return await notes.run(note, operation);
  } catch (error) {
    if (note.retryAfterMs !== undefined && error instanceof Error) Object.assign(error, { retryAfterMs: note.retryAfterMs });
    throw error;
  }
}

/** Returns the `retryAfterMs` that `withRateLimitNotes` attached, if any. */
export function retryAfterOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}

function noteRetryAfter(response: AxiosResponse, config: InternalAxiosRequestConfig): void {
  if (response.status !== 429 && response.status !== 503) return;

  const seconds = parseRetryAfter(response.headers['retry-after']);
  const note = notes.getStore();
  if (note !== undefined && seconds !== undefined) note.retryAfterMs = Math.max(note.retryAfterMs ?? 0, seconds * 1000);

  // acme-client counts attempts in `retryAttempt`; past its limit it returns the response instead of sleeping.
  if (seconds !== undefined && seconds > MAX_INLINE_RETRY_AFTER_S) {
    (config as InternalAxiosRequestConfig & { retryAttempt?: number }).retryAttempt = Number.MAX_SAFE_INTEGER;
  }
}

/** Parses `Retry-After` as seconds or as an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^[0-9]+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
