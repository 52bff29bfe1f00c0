// Rate limiting for log events that a client can cause on every request, such as a 429 from
// `inFlightReq` or a failed bcrypt check. Without it, a flood of requests becomes a flood of log
// lines. Each event kind of each middleware gets its own throttle.
import type { Level } from 'pino';

import { Fields } from '../observability/fields.js';
import type { Logger } from '../observability/logger.js';

/** Time between two logged events of one kind, in milliseconds. */
export const LOG_INTERVAL_MS = 10_000;

/** Logs one event: `fields` as structured fields and `message` as the log message. */
export type EventLog = (fields: Record<string, unknown>, message: string) => void;

export interface ThrottleOptions {
  intervalMs?: number;
  /** Clock in milliseconds; tests pass a fake one. */
  now?: () => number;
}

/**
 * Returns a function that logs at `level` at most once per interval. The first event after a quiet
 * interval is logged with `suppressed`, the count of events left out since the one logged before.
 * Nothing is counted while `level` is disabled, so a disabled event costs one level check.
 */
export function throttledLog(logger: Logger, level: Level, options: ThrottleOptions = {}): EventLog {
  const intervalMs = options.intervalMs ?? LOG_INTERVAL_MS;
  const now = options.now ?? (() => performance.now());
  let nextAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  return (fields, message) => {
    if (!logger.isLevelEnabled(level)) return;
    const time = now();
    if (time < nextAt) {
      suppressed++;
      return;
    }
    nextAt = time + intervalMs;
    logger[level]({ ...fields, [Fields.suppressed]: suppressed }, message);
    suppressed = 0;
  };
}
