// Global setup of the integration project: builds Berth once, so tests run the same `bin/berth`
// that users run, then starts one private dockerd with the test image for all test files.

import { spawnSync } from 'node:child_process';

import type { TestProject } from 'vitest/node';

import { TestDocker } from './containers.js';
import { PrivateDockerd } from './dockerd.js';
import { ensureTestImage } from './image.js';
import { REPO_ROOT } from './paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Unix socket of the private dockerd. */
    dockerSocket: string;
    /** Temporary folder of the private dockerd, for `PrivateDockerd.attach()`. */
    dockerdDir: string;
  }
}

export interface SetupOptions {
  /** Run `npm run build` first. */
  build: boolean;
}

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return setupIntegrationEnvironment(project, { build: true });
}

/** Prepares the environment and returns the teardown that vitest calls after the last file. */
export async function setupIntegrationEnvironment(
  project: TestProject,
  options: SetupOptions,
): Promise<() => Promise<void>> {
  const startedAt = performance.now();
  if (options.build) buildBerth();
  const builtAt = performance.now();

  const dockerd = await PrivateDockerd.start();
  const docker = new TestDocker(dockerd.socketPath);
  try {
    await ensureTestImage(docker.client, dockerd.dir);
  } catch (error) {
    await dockerd.destroy();
    throw error;
  }

  project.provide('dockerSocket', dockerd.socketPath);
  project.provide('dockerdDir', dockerd.dir);
  const readyAt = performance.now();
  console.log(
    `integration setup: build ${Math.round(builtAt - startedAt)} ms, ` +
      `dockerd and test image ${Math.round(readyAt - builtAt)} ms; daemon log at ${dockerd.logPath}`,
  );

  return async () => {
    // Removing the containers first keeps the daemon's shutdown short. A test may have left the
    // daemon stopped, so a failure here must not skip the rest of the cleanup.
    try {
      await docker.removeAll();
    } catch (error) {
      console.warn(`integration teardown: removing containers failed: ${(error as Error).message}`);
    }

    if (process.env.BERTH_TEST_KEEP_DOCKERD_DIR === '1') {
      await dockerd.stop();
      console.log(`integration teardown: kept ${dockerd.dir} because BERTH_TEST_KEEP_DOCKERD_DIR=1`);
      return;
    }
    await dockerd.destroy();
  };
}

function buildBerth(): void {
  const result = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status === 0) return;

  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-40).join('\n');
  const reason = result.error?.message ?? `exit code ${result.status}`;
  throw new Error(`npm run build failed (${reason}), so the integration tests cannot run:\n${output}`);
}
