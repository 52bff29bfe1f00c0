// When to renew a certificate, and when to try again after a failure. Pure functions of the
// certificate, the CA's suggestion and the clock, so the scheduler stays simple and testable.

import type { RenewalInfo } from './ari.js';

/** Maximum time between two checks of the certificates, in milliseconds. */
export const CHECK_INTERVAL_MS = 12 * 3_600_000;

/** Delay before the first retry of a failed order, in milliseconds; it doubles per failure. */
export const RETRY_BASE_MS = 60_000;

/** Maximum delay between two attempts of a failing order, in milliseconds. */
export const RETRY_MAX_MS = 6 * 3_600_000;

/**
 * Returns the time when a third of the certificate's lifetime is left: 30 days before the end of
 * a 90-day certificate, 2 days before the end of a 6-day one. A shorter `certificatesDuration`
 * (in milliseconds) counts as the lifetime instead, as Traefik's renewal period does, so a CA
 * that issues longer certificates than configured is still renewed on the configured schedule.
 */
export function lifetimeRenewalTime(notBefore: Date, notAfter: Date, configuredDurationMs = Number.POSITIVE_INFINITY): Date {
  const lifetime = Math.min(notAfter.getTime() - notBefore.getTime(), configuredDurationMs);
  return new Date(notAfter.getTime() - lifetime / 3);
}

/**
 * Picks a time in the CA's suggested window (RFC 9773 section 4.2), uniformly at random so that
 * many clients do not renew at once. A window that has already started gives a time from now on.
 */
export function ariRenewalTime(info: Pick<RenewalInfo, 'start' | 'end'>, now: number, random: () => number = Math.random): Date {
  const start = Math.max(info.start.getTime(), now);
  const end = Math.max(info.end.getTime(), start);
  return new Date(start + (end - start) * random());
}

/**
 * Returns the delay before the next attempt after `failures` consecutive failures: the base delay
 * doubled per failure up to the maximum, and never shorter than the CA's `Retry-After`.
 */
export function retryDelay(failures: number, retryAfterMs: number | undefined, baseMs = RETRY_BASE_MS, maxMs = RETRY_MAX_MS): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const backoff = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.max(backoff, retryAfterMs ?? 0);
}
