// A pino logger that keeps its lines in memory, so a test can check the events a middleware logs.
import { pino, type Level } from 'pino';

import type { Logger } from '../../src/observability/logger.js';

/** One parsed log line: pino's `level` number, the message and the structured fields. */
export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  logger: Logger;
  records: LogRecord[];
  /** Returns the records whose message is `message`. */
  withMessage(message: string): LogRecord[];
}

/** Creates a logger at `level` that appends every line it writes to `records`. */
export function captureLogs(level: Level = 'debug'): CapturedLogs {
  const records: LogRecord[] = [];
  // pino writes each line synchronously to a stream that has a `write` method.
  const logger = pino({ level, base: undefined }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  return { logger, records, withMessage: (message) => records.filter((record) => record.msg === message) };
}

/** pino's level numbers, for checks on `LogRecord.level`. */
export const LEVEL = pino.levels.values as Readonly<Record<Level, number>>;
