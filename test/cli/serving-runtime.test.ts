import { describe, expect, it } from 'vitest';

import { endOfLifeWarning, isServingCommand, missingMallocSettings, restartWithMallocSettings, type RestartTarget } from '../../src/cli/serving-runtime.js';

/** Returns a Linux process whose execve records its call instead of replacing anything. */
function target(env: NodeJS.ProcessEnv, execve: RestartTarget['execve'] | null = null): RestartTarget & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  const recording = (file: string, args: readonly string[], environment: NodeJS.ProcessEnv): never => {
    calls.push([file, args, environment]);
    // A real execve never returns. Returning here lets the test see what it was given.
    return undefined as never;
  };
  return { platform: 'linux', env, execPath: '/usr/bin/node', execArgv: ['--expose-gc'], argv: ['/usr/bin/node', '/app/bin/berth', 'run', '--ping'], execve: execve === null ? recording : execve, calls };
}

describe('missingMallocSettings', () => {
  it('lists the settings the environment lacks', () => {
    expect(missingMallocSettings({})).toEqual({ MALLOC_ARENA_MAX: '1' });
  });

  it('leaves a value the user set, even an empty one', () => {
    expect(missingMallocSettings({ MALLOC_ARENA_MAX: '4' })).toEqual({});
    expect(missingMallocSettings({ MALLOC_ARENA_MAX: '' })).toEqual({});
  });
});

describe('restartWithMallocSettings', () => {
  it('runs the same command again with the settings added', () => {
    const process = target({ PATH: '/bin' });
    expect(restartWithMallocSettings(process)).toBe('restarted');
    expect(process.calls).toEqual([['/usr/bin/node', ['/usr/bin/node', '--expose-gc', '/app/bin/berth', 'run', '--ping'], { PATH: '/bin', MALLOC_ARENA_MAX: '1' }]]);
  });

  it('does nothing when the settings are there', () => {
    const process = target({ MALLOC_ARENA_MAX: '1' });
    expect(restartWithMallocSettings(process)).toBe('set');
    expect(process.calls).toEqual([]);
  });

  it('runs on as it is without execve or outside Linux', () => {
    expect(restartWithMallocSettings({ ...target({}), execve: undefined })).toMatch(/process\.execve is missing/);
    const darwin = { ...target({}), platform: 'darwin' as const };
    expect(restartWithMallocSettings(darwin)).toBe('not Linux');
    expect(darwin.calls).toEqual([]);
  });

  it('runs on as it is when execve fails', () => {
    const failing = target({}, () => {
      throw new Error('ENOENT');
    });
    expect(restartWithMallocSettings(failing)).toBe('process.execve failed: ENOENT');
  });
});

describe('endOfLifeWarning', () => {
  it('warns on Node.js 20 and older', () => {
    expect(endOfLifeWarning('20.20.2')).toBe('Node.js 20.20.2 gets no more security fixes; run Berth on Node.js 24 LTS, as its image does');
    expect(endOfLifeWarning('18.0.0')).toBeDefined();
  });

  it('says nothing on supported releases', () => {
    expect(endOfLifeWarning('22.15.0')).toBeUndefined();
    expect(endOfLifeWarning('24.22.3')).toBeUndefined();
  });
});

describe('isServingCommand', () => {
  it('serves for run and the default command', () => {
    expect(isServingCommand([])).toBe(true);
    expect(isServingCommand(['run', '--ping'])).toBe(true);
    expect(isServingCommand(['--api.insecure'])).toBe(true);
  });

  it('does not serve for other commands, help or version', () => {
    expect(isServingCommand(['check', '--compose', 'compose.yaml'])).toBe(false);
    expect(isServingCommand(['healthcheck'])).toBe(false);
    expect(isServingCommand(['run', '--help'])).toBe(false);
    expect(isServingCommand(['--version'])).toBe(false);
  });
});
