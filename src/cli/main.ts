// Entry point of the `berth` command: `berth [run]`, `berth healthcheck`, `berth check`,
// `berth explain`, `--help`, `--version`.
import { ConfigError, loadStaticConfig, staticConfigHelp } from '../config/index.js';
import { createLogger } from '../observability/logger.js';
import { VERSION } from '../version.js';
import { processIO, UsageError } from './args.js';
import { checkCommand } from './check.js';
import { ComposeFileError } from './compose.js';
import { InterpolationError } from './compose-interpolation.js';
import { explainCommand } from './explain.js';
import { healthcheck } from './healthcheck.js';
import { run, type RunningBerth } from './run.js';
import { endOfLifeWarning, restartWithMallocSettings } from './serving-runtime.js';
import { applyServingV8Flags } from './v8-flags.js';

const USAGE = `Usage: berth [run|healthcheck|check|explain] [options]

Commands:
  run           route labelled Docker containers (the default)
  healthcheck   exit 0 when the running Berth answers /ping (needs --ping)
  check         print the errors and warnings of container or compose file labels
  explain URL   show which router, middlewares and server a request would reach, and why

`;

async function main(argv: string[]): Promise<number> {
  let args = argv;
  let command = 'run';
  if (args[0] !== undefined && !args[0].startsWith('-')) {
    command = args[0];
    args = args.slice(1);
  }
  // These commands take options of their own besides the static ones, and print their own help.
  if (command === 'explain') return explainCommand(args, processIO());
  if (command === 'check') return checkCommand(args, processIO());
  if (command !== 'run' && command !== 'healthcheck') {
    throw new ConfigError(`unknown command "${command}"; commands are: run, healthcheck, check, explain (see berth --help)`);
  }

  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + staticConfigHelp());
    return 0;
  }
  if (args.includes('--version')) {
    process.stdout.write(`berth ${VERSION}\n`);
    return 0;
  }

  // Before anything opens a socket: this may replace the process with one that has the settings.
  // bin/berth restarts earlier, before loading this module, so this covers `node dist/cli/main.js`.
  const malloc = command === 'run' ? restartWithMallocSettings() : 'not serving';
  const config = await loadStaticConfig({ argv: args, env: process.env, cwd: process.cwd(), isTTY: process.stdout.isTTY === true });
  if (command === 'healthcheck') return healthcheck(config);

  const logger = await createLogger({ level: config.log.level, format: config.log.format });
  const v8Flags = applyServingV8Flags();
  if (v8Flags.length > 0) logger.debug({ flags: v8Flags }, 'V8 flags set for serving');
  logger.debug({ malloc }, 'malloc settings for serving');
  const outdated = endOfLifeWarning();
  if (outdated !== undefined) logger.warn({ nodeVersion: process.version }, outdated);
  let berth: RunningBerth;
  try {
    berth = await run(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // A start-up failure (a port in use, say) is logged as one line in the chosen format.
    logger.error({ reason: (error as Error).message }, 'Berth cannot start');
    return 1;
  }

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal received, exiting at once');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'signal received');
      berth.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof ComposeFileError || error instanceof InterpolationError) {
      process.stderr.write(`berth: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`berth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
