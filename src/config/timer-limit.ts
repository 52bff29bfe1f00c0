// The maximum delay of a Node.js timer. A longer delay makes Node.js print a TimeoutOverflowWarning
// and fire after 1 ms, so a `1000h` timeout, which Traefik (Go) accepts, would end every request at
// once. Durations used as timers are capped at this maximum instead.

/** 2^31 - 1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Returns `ms`, or the longest delay a timer can hold when `ms` is longer. Waiting 24.8 days
 * instead of longer makes no difference to a connection or a check.
 */
export function timerMs(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms;
}
