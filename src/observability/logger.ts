import { pino, type Logger, type LevelWithSilent } from 'pino';
import { Fields } from './fields.js';
import { redactServerUrl } from './redact.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: LevelWithSilent;
  format: LogFormat;
}

/**
 * Serializers that redact the server URL field once more as it is written. Every call site
 * already passes the URL through `redactServerUrl`, so this only matters for a new call site without it.
 */
const SERIALIZERS = {
  [Fields.server]: (value: unknown): unknown => (typeof value === 'string' ? redactServerUrl(value) : value),
};

/** Creates the process logger. Pretty output goes through pino-pretty in-process, so no worker thread is started. */
export async function createLogger(options: LoggerOptions): Promise<Logger> {
  if (options.format === 'json') {
    return pino({ level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, serializers: SERIALIZERS });
  }
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino({ level: options.level, serializers: SERIALIZERS }, stream);
}

/** A logger that discards everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
