// Runtime settings of a serving Berth process. glibc reads its malloc setting from the environment
// when the process starts, so `berth run` restarts itself in place (same PID) to set it. The Node.js
// release must still get security fixes.

/**
 * One malloc arena for all threads. Every socket read allocates a new buffer in the C heap, and V8
 * frees the consumed ones at its next collection. With glibc's default of up to 8 arenas per core,
 * memory freed in one arena is not reused by allocations that land in another, so RSS kept the most
 * that ever piled up in each. Measured with bench/stream-memory.mjs on Node.js 24 beside busy cores,
 * 1 GiB down twice and 1 GiB up per round: RSS grew by 0.3-3.5 MiB in most rounds and at most 9 MiB,
 * against 4-31 MiB with glibc's default. CPU time per request did not change beyond the noise.
 */
export const SERVING_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

type Execve = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => never;

/** The parts of the process that `restartWithMallocSettings` reads. Tests pass their own. */
export interface RestartTarget {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  execPath: string;
  execArgv: readonly string[];
  argv: readonly string[];
  /** `process.execve`, added in Node.js 22.15 and 23.11; Node.js 20 lacks it. */
  execve?: Execve;
}

/** Returns whether the arguments after `berth` start a serving process: `run`, the default command, without --help or --version. */
export function isServingCommand(args: readonly string[]): boolean {
  const [first] = args;
  if (first !== undefined && first !== 'run' && !first.startsWith('-')) return false;
  return !args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version');
}

/** Returns the settings of SERVING_MALLOC_ENV that `env` lacks. A variable set to any value, even empty, is the user's. */
export function missingMallocSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(SERVING_MALLOC_ENV).filter(([name]) => env[name] === undefined));
}

/**
 * Replaces the process with the same command and the malloc settings added, when some are missing,
 * the platform is Linux and Node.js has `process.execve`. Call it before anything opens a socket or
 * writes output: the process image is replaced as is, without exit handlers or flushing. It returns
 * only when it does not restart, with the reason, so that the caller can log it.
 */
export function restartWithMallocSettings(target: RestartTarget = currentProcess()): string {
  const missing = missingMallocSettings(target.env);
  if (Object.keys(missing).length === 0) return 'set';
  if (target.platform !== 'linux') return 'not Linux';
  if (target.execve === undefined) return 'process.execve is missing (Node.js before 22.15)';
  try {
    target.execve(target.execPath, [target.execPath, ...target.execArgv, ...target.argv.slice(1)], { ...target.env, ...missing });
  } catch (error) {
    // NOTE: a call from a worker thread throws, and Berth then runs as it is. When execve(2) itself
    // fails (the binary removed under a running process, say), older Node.js releases abort the
    // process instead of throwing, which nodejs/node pull request 62878 changed.
    return `process.execve failed: ${(error as Error).message}`;
  }
  return 'restarted';
}

function currentProcess(): RestartTarget {
  const execve = (process as { execve?: Execve }).execve;
  return {
    platform: process.platform,
    env: process.env,
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    execve: typeof execve === 'function' ? execve.bind(process) : undefined,
  };
}

/** The oldest Node.js major release that still gets security fixes (Node.js 20 ended in April 2026). */
const OLDEST_SUPPORTED_NODE_MAJOR = 22;

/** Returns a warning for a Node.js release past its end of life (`process.versions.node`), or undefined. */
export function endOfLifeWarning(nodeVersion: string = process.versions.node): string | undefined {
  const major = Number.parseInt(nodeVersion, 10);
  if (!Number.isInteger(major) || major >= OLDEST_SUPPORTED_NODE_MAJOR) return undefined;
  return `Node.js ${nodeVersion} gets no more security fixes; run Berth on Node.js 24 LTS, as its image does`;
}
