// V8 settings for a serving Berth process, applied when `berth run` starts.
import { setFlagsFromString } from 'node:v8';

/**
 * Caps V8's young generation at 2 MiB per semi-space. Every socket read allocates a new ArrayBuffer,
 * and V8 frees the consumed ones when it collects the young generation, which this cap also triggers
 * once young ArrayBuffers hold about 8 MiB. V8 13.6 (Node.js 24) defaults to 32, so freed body chunks
 * piled up to about 64 MiB before a full collection, and a 1 GiB body raised RSS by 46-70 MiB.
 * Measured on a 2-core machine, memory over 1 GiB transfers and CPU time with the proxy benchmark:
 * - 4: RSS rose by 4-22 MiB, with the ArrayBuffers peaking at 16 MiB.
 * - 2: RSS rose by 4-10 MiB over 42 transfers, half of them beside a busy core. The CPU time per
 *   request did not differ from 4 beyond the benchmark's noise of a few percent.
 * - 1: ArrayBuffers peaked at 3-7 MiB, but each request took 15-18% more CPU time.
 */
const YOUNG_GENERATION_FLAG = '--scavenger-max-new-space-capacity-mb=2';

/**
 * Frees the backing stores of dead ArrayBuffers on the main thread, right after each young collection,
 * instead of on a background thread some time later. The next socket reads then reuse the memory just
 * freed, and RSS stays close to the ArrayBuffers that are alive. Measured on Node.js 24 with
 * bench/stream-memory.mjs, 18 transfers of 1 GiB each way beside busy cores: RSS rose by 2-12 MiB with
 * this flag, once by 33 MiB, and by 6-40 MiB without it. Neither the CPU time of a 1 GiB transfer nor
 * that of a small request changed beyond the noise. Forcing a young collection after every 2 MiB of
 * body, the other way tried, kept the ArrayBuffers at 2-3 MiB but cost 20-30% more CPU per gigabyte.
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
  return [YOUNG_GENERATION_FLAG, ARRAY_BUFFER_SWEEPING_FLAG];
}

/**
 * Sets the serving flags in this process and returns them. V8 reads this flag when it sizes the young
 * generation, so setting it at run time works (NODE_OPTIONS rejects V8 flags of this kind). A flag given
 * on the node command line keeps its value, because `process.execArgv` is checked first.
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
