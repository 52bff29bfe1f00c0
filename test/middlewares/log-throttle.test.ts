// The throttle for log events that a client can cause on every request.
import { describe, expect, it } from 'vitest';

import { throttledLog } from '../../src/middlewares/log-throttle.js';
import { captureLogs, LEVEL } from './log-capture.js';

describe('throttledLog', () => {
  it('logs once per interval', () => {
    const clock = { now: 0 };
    const { logger, records } = captureLogs('debug');
    const log = throttledLog(logger, 'warn', { intervalMs: 10_000, now: () => clock.now });

    log({ reason: 'first' }, 'event');
    clock.now = 5_000;
    log({ reason: 'second' }, 'event');
    log({ reason: 'third' }, 'event');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: LEVEL.warn, msg: 'event', reason: 'first', suppressed: 0 });

    clock.now = 10_000;
    log({ reason: 'fourth' }, 'event');
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ reason: 'fourth', suppressed: 2 });
  });

  it('disabled level counts nothing', () => {
    const clock = { now: 0 };
    const { logger, records } = captureLogs('info');
    const log = throttledLog(logger, 'debug', { now: () => clock.now });

    log({}, 'event');
    log({}, 'event');
    expect(records).toEqual([]);

    logger.level = 'debug';
    log({}, 'event');
    expect(records).toHaveLength(1);
    expect(records[0]?.suppressed).toBe(0);
  });
});
