// Shared helpers of the static configuration tests: loading from given sources, and temporary
// working directories for file discovery.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, expect } from 'vitest';

import { ConfigError, type StaticConfig, loadStaticConfig } from '../../src/config/index.js';

export interface LoadOptions {
  argv?: string[];
  env?: Record<string, string | undefined>;
  /** Files to create in a fresh working directory, by name. */
  files?: Record<string, string>;
  isTTY?: boolean;
}

const directories: string[] = [];

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

/** Creates an empty temporary directory, removed after the test. */
export async function temporaryDirectory(files: Record<string, string> = {}): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'berth-config-'));
  directories.push(directory);
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
  return directory;
}

/** Loads the configuration from the given sources in a fresh working directory. */
export async function load(options: LoadOptions = {}): Promise<StaticConfig> {
  const cwd = await temporaryDirectory(options.files);
  return loadStaticConfig({ argv: options.argv ?? [], env: options.env ?? {}, cwd, isTTY: options.isTTY ?? false });
}

/** Loads like `load` and returns the `ConfigError` it throws; fails the test if none is thrown. */
export async function loadError(options: LoadOptions = {}): Promise<ConfigError> {
  try {
    await load(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loading to throw a ConfigError, but it succeeded');
}

/** Returns each entry point's address fields only, for tests about addresses and names. */
export function addresses(config: StaticConfig): Record<string, { address: string; host: string; port: number }> {
  const result: Record<string, { address: string; host: string; port: number }> = {};
  for (const [name, { address, host, port }] of Object.entries(config.entryPoints)) result[name] = { address, host, port };
  return result;
}
