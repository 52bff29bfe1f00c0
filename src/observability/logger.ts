import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: LevelWithSilent;
  format: LogFormat;
}

/** Creates the process logger. Pretty output goes through pino-pretty in-process, so no worker thread is started. */
export async function createLogger(options: LoggerOptions): Promise<Logger> {
  if (options.format === 'json') {
    return pino({ level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  }
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino({ level: options.level }, stream);
}

/** A logger that discards everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
