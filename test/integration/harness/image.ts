// The test image: Debian's statically linked busybox with one symlink per applet, imported from a
// root filesystem because no image registry is reachable from the test machines.

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import type Docker from 'dockerode';

export const TEST_IMAGE = 'berth-test-busybox';

/** Builds `berth-test-busybox:latest` in the given daemon unless it is already there. */
export async function ensureTestImage(docker: Docker, workDir: string): Promise<void> {
  if (await imageExists(docker, TEST_IMAGE)) return;

  const buildDir = mkdtempSync(join(workDir, 'image-'));
  try {
    const busybox = findBusyboxStatic(buildDir);
    const rootfs = join(buildDir, 'rootfs');
    assembleRootfs(rootfs, busybox);
    await importRootfs(docker, rootfs, TEST_IMAGE);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
}

async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

// Only the busybox-static package's binary runs in an empty root filesystem: the `busybox`
// package's binary is dynamically linked against libc.
function findBusyboxStatic(buildDir: string): string {
  if (isPackageInstalled('busybox-static') && existsSync('/bin/busybox')) return '/bin/busybox';

  const downloadDir = join(buildDir, 'download');
  const extractDir = join(buildDir, 'extract');
  mkdirSync(downloadDir);
  try {
    execFileSync('apt-get', ['download', 'busybox-static'], { cwd: downloadDir, stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      'busybox-static is not installed and `apt-get download busybox-static` failed. ' +
        'Install it with `apt-get install -y busybox-static`.',
      { cause: error },
    );
  }
  const deb = execFileSync('sh', ['-c', 'ls busybox-static_*.deb'], { cwd: downloadDir, encoding: 'utf8' }).trim();
  execFileSync('dpkg', ['-x', join(downloadDir, deb), extractDir]);

  for (const candidate of ['bin/busybox', 'usr/bin/busybox']) {
    const path = join(extractDir, candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(`no busybox binary found in ${deb}`);
}

function isPackageInstalled(name: string): boolean {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: 'pipe' });
    return status.trim() === 'install ok installed';
  } catch {
    return false;
  }
}

function assembleRootfs(rootfs: string, busybox: string): void {
  const bin = join(rootfs, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const dir of ['tmp', 'www', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, dir));
  chmodSync(join(rootfs, 'tmp'), 0o1777);

  copyFileSync(busybox, join(bin, 'busybox'));
  chmodSync(join(bin, 'busybox'), 0o755);

  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((applet) => applet.trim())
    .filter((applet) => applet !== '' && applet !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(bin, applet));
}

async function importRootfs(docker: Docker, rootfs: string, name: string): Promise<void> {
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErrors = '';
  tar.stderr.setEncoding('utf8');
  tar.stderr.on('data', (chunk: string) => (tarErrors += chunk));
  const tarExit = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with code ${code}: ${tarErrors}`))));
  });

  const output = await docker.importImage(tar.stdout, {
    repo: name,
    tag: 'latest',
    changes: ['CMD ["sh"]', 'ENV PATH=/bin'],
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(output, (error: Error | null, events: Array<{ error?: string }>) => {
      const failure = error ?? events.find((event) => event.error !== undefined)?.error;
      if (failure) reject(failure instanceof Error ? failure : new Error(`docker import failed: ${failure}`));
      else resolve();
    });
  });
  await tarExit;
}
