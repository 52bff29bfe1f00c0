// Entry point of the `berth` command: `berth [run]`, `berth healthcheck`, `--help`, `--version`.
import { ConfigError, loadStaticConfig, staticConfigHelp } from '../config/index.js';
import { createLogger } from '../observability/logger.js';
import { VERSION } from '../version.js';
import { healthcheck } from './healthcheck.js';
import { run } from './run.js';

const USAGE = `Usage: berth [run|healthcheck] [options]

Commands:
  run           route labelled Docker containers (the default)
  healthcheck   exit 0 when the running Berth answers /ping (needs --ping)

`;

async function main(argv: string[]): Promise<number> {
  let args = argv;
  let command = 'run';
  if (args[0] !== undefined && !args[0].startsWith('-')) {
    command = args[0];
    args = args.slice(1);
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + staticConfigHelp());
    return 0;
  }
  if (args.includes('--version')) {
    process.stdout.write(`berth ${VERSION}\n`);
    return 0;
  }

  const config = await loadStaticConfig({ argv: args, env: process.env, cwd: process.cwd(), isTTY: process.stdout.isTTY === true });
  switch (command) {
    case 'run':
      break;
    case 'healthcheck':
      return healthcheck(config);
    default:
      throw new ConfigError(`unknown command "${command}"; commands are: run, healthcheck`);
  }

  const logger = await createLogger({ level: config.log.level, format: config.log.format });
  const berth = await run(config, logger);

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
    if (error instanceof ConfigError) {
      process.stderr.write(`berth: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`berth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
