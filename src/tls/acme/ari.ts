// ACME Renewal Information (ARI, RFC 9773): a CA that lists `renewalInfo` in its directory
// suggests, per certificate, a window in which to renew. Berth renews at a random time in that
// window, which spreads renewals out and lets the CA move them earlier, for example before a
// mass revocation.

import * as acme from 'acme-client';

import { parseRetryAfter } from './acme-http.js';

/** A suggested renewal window, and when to ask again. */
export interface RenewalInfo {
  start: Date;
  end: Date;
  /** Time of the next poll, from `Retry-After`, else six hours later (RFC 9773 section 4.3). */
  nextPollAt: Date;
  explanationUrl?: string;
}

const DEFAULT_POLL_MS = 6 * 3_600_000;
/** Minimum time between two polls, whatever `Retry-After` requests (RFC 9773 section 4.3 lets clients clamp it). */
const MIN_POLL_MS = 60_000;
const MAX_POLL_MS = 24 * 3_600_000;

const directories = new Map<string, Promise<string | undefined>>();

/** Returns the directory's `renewalInfo` URL, or `undefined` when the CA does not offer ARI. Cached per directory. */
export function renewalInfoUrl(directoryUrl: string): Promise<string | undefined> {
  let cached = directories.get(directoryUrl);
  if (cached === undefined) {
    cached = acme.axios.get<{ renewalInfo?: unknown }>(directoryUrl).then((response) => {
      const url = response.data.renewalInfo;
      return typeof url === 'string' && url !== '' ? url : undefined;
    });
    // A failed fetch is not cached, so the next check tries again.
    cached.catch(() => directories.delete(directoryUrl));
    directories.set(directoryUrl, cached);
  }
  return cached;
}

/** Fetches the renewal window of the certificate with ARI identifier `certId` (RFC 9773 section 4.1). */
export async function fetchRenewalInfo(renewalInfoBase: string, certId: string, now = Date.now()): Promise<RenewalInfo> {
  const url = `${renewalInfoBase.replace(/\/$/, '')}/${certId}`;
  const response = await acme.axios.get<{ suggestedWindow?: { start?: unknown; end?: unknown }; explanationURL?: unknown }>(url);
  const window = response.data.suggestedWindow;
  const start = typeof window?.start === 'string' ? new Date(window.start) : undefined;
  const end = typeof window?.end === 'string' ? new Date(window.end) : undefined;
  if (start === undefined || end === undefined || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
    throw new Error(`The renewal information at ${url} has no valid suggestedWindow`);
  }

  const retryAfter = parseRetryAfter(response.headers['retry-after'], now);
  const pollMs = retryAfter === undefined ? DEFAULT_POLL_MS : Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, retryAfter * 1000));
  const info: RenewalInfo = { start, end, nextPollAt: new Date(now + pollMs) };
  if (typeof response.data.explanationURL === 'string') info.explanationUrl = response.data.explanationURL;
  return info;
}
