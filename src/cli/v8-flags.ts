// V8 settings for a serving Berth process, applied when `berth run` starts.
import { setFlagsFromString } from 'node:v8';

/**
 * Frees the backing stores of dead ArrayBuffers on the main thread, right after each young collection,
 * instead of on a background thread some time later. The next socket reads then reuse the memory just
 * freed, and RSS stays close to the ArrayBuffers that are alive. Measured on Node.js 24 with
 * bench/stream-memory.mjs, 18 transfers of 1 GiB each way beside busy cores: RSS rose by 2-12 MiB with
 * this flag, once by 33 MiB, and by 6-40 MiB without it. Neither the CPU time of a 1 GiB transfer nor
 * that of a small request changed beyond the noise.
 *
 * Ways tried and dropped (bench/README.md has the numbers):
 * - A smaller young generation. V8 sizes it when the process starts, so a cap set at run time has no
 *   effect. Capped from the command line (`--max-semi-space-size=1`), it made no difference beyond the
 *   noise: buffers waited less, but more of them reached the old generation.
 * - Forcing a young collection after every 2 MiB of body: 20-30% more CPU per gigabyte.
 * - A full collection whenever the ArrayBuffers grew by 12 MiB: RSS grew more, not less.
 */
const ARRAY_BUFFER_SWEEPING_FLAG = '--no-concurrent-array-buffer-sweeping';

/** The first V8 major version known to have the flag (checked on 13.6). V8 11 (Node.js 20) lacks it. */
const FIRST_V8_MAJOR_WITH_FLAG = 13;

/** Returns the V8 flags for a serving Berth process on the given V8 version (`process.versions.v8`). */
export function servingV8Flags(v8Version: string): string[] {
  const major = Number.parseInt(v8Version, 10);
  if (!Number.isInteger(major) || major < FIRST_V8_MAJOR_WITH_FLAG) {
    // NOTE: V8 11 (Node.js 20) collects young ArrayBuffers once they hold 32 MiB, a constant that no
    // flag changes, so there a large body raises RSS by up to about that much.
    return [];
  }
  return [ARRAY_BUFFER_SWEEPING_FLAG];
}

/**
 * Sets the serving flags in this process and returns them. V8 reads this flag each time it sweeps
 * ArrayBuffers after a collection, so setting it at run time works (NODE_OPTIONS rejects V8 flags of this kind). A flag given on the node
 * command line keeps its value, because `process.execArgv` is checked first.
 */
export function applyServingV8Flags(v8Version: string = process.versions.v8, execArgv: readonly string[] = process.execArgv): string[] {
  const applied: string[] = [];
  for (const flag of servingV8Flags(v8Version)) {
    if (hasFlag(execArgv, flag)) continue;
    setFlagsFromString(flag);
    applied.push(flag);
  }
  return applied;
}

/** Returns whether `execArgv` sets the flag of `flag` (`--name=value`, `--no-name`), in any spelling V8 accepts. */
function hasFlag(execArgv: readonly string[], flag: string): boolean {
  const name = flagName(flag);
  return execArgv.some((option) => flagName(option) === name);
}

/** V8 treats `_` and `-` in flag names alike, and `--no-name` turns off the flag `--name`. */
function flagName(option: string): string {
  return (option.split('=')[0] ?? option).replaceAll('_', '-').replace(/^--no-/, '--');
}
