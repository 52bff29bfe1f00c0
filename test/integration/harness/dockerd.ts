// A private Docker daemon for the integration tests, so no test ever touches the machine's own
// daemon or /var/run/docker.sock. Its whole state lives in one temporary folder and the process is
// found through its pidfile, so a test worker can restart a daemon that global setup started.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { waitFor } from './wait.js';

export interface StartDockerdOptions {
  /**
   * Parent of the temporary folder. Defaults to `/tmp` instead of `os.tmpdir()` because a unix
   * socket path is limited to 107 bytes on Linux and containerd nests its sockets inside.
   */
  baseDir?: string;
  /** How long to wait for `/_ping` to return OK, in milliseconds. */
  startTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

export class PrivateDockerd {
  readonly dir: string;
  readonly socketPath: string;
  readonly pidPath: string;
  readonly logPath: string;
  readonly #startTimeoutMs: number;

  private constructor(dir: string, startTimeoutMs: number) {
    this.dir = dir;
    this.socketPath = join(dir, 'docker.sock');
    this.pidPath = join(dir, 'docker.pid');
    this.logPath = join(dir, 'dockerd.log');
    this.#startTimeoutMs = startTimeoutMs;
  }

  /** Creates a temporary folder and starts a daemon in it. */
  static async start(options: StartDockerdOptions = {}): Promise<PrivateDockerd> {
    const dir = mkdtempSync(join(options.baseDir ?? '/tmp', 'berth-it-'));
    const daemon = new PrivateDockerd(dir, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    try {
      await daemon.#launch();
    } catch (error) {
      await daemon.destroy();
      throw error;
    }
    return daemon;
  }

  /** Controls a daemon that another process started in `dir`, for example global setup. */
  static attach(dir: string, options: Pick<StartDockerdOptions, 'startTimeoutMs'> = {}): PrivateDockerd {
    return new PrivateDockerd(dir, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  }

  /** `DOCKER_HOST` value for the docker CLI and for Berth's `--providers.docker.endpoint`. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  /** PID from the pidfile while that process is alive, otherwise `undefined`. */
  pid(): number | undefined {
    if (!existsSync(this.pidPath)) return undefined;
    const pid = Number.parseInt(readFileSync(this.pidPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
  }

  /**
   * Stops the daemon and starts it again on the same data root, the way a package upgrade or
   * `systemctl restart docker` does. Containers without a restart policy come back stopped.
   */
  async restart(): Promise<void> {
    await this.stop();
    await this.#launch();
  }

  /** Starts the daemon again after `stop()`, in the same folder. Does nothing while it runs. */
  async start(): Promise<void> {
    if (this.pid() !== undefined) return;
    await this.#launch();
  }

  /**
   * Sends SIGTERM and waits for the daemon to exit, which includes stopping every running
   * container with its stop timeout. Sends SIGKILL if it is still running after 30 s.
   */
  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;

    process.kill(pid, 'SIGTERM');
    if (await waitForExit(pid, STOP_TIMEOUT_MS)) return;

    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
    this.#killLeftovers();
  }

  /** Stops the daemon, unmounts what it left mounted and deletes the temporary folder. */
  async destroy(): Promise<void> {
    await this.stop();
    this.#killLeftovers();
    unmountBelow(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last lines of the daemon's own output, for error messages. */
  logTail(lines = 40): string {
    if (!existsSync(this.logPath)) return '(no dockerd log written)';
    return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  async #launch(): Promise<void> {
    const args = [
      '--host',
      this.dockerHost,
      '--data-root',
      join(this.dir, 'data'),
      '--exec-root',
      join(this.dir, 'exec'),
      '--pidfile',
      this.pidPath,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
    ];

    // Appending keeps the output of earlier runs of the same daemon, which a restart test needs.
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      // In its own process group, so a Ctrl-C in the terminal does not reach it and vitest's
      // teardown can still remove the containers before stopping it.
      child = spawn('dockerd', args, { detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    const exited = new AbortController();
    child.on('error', (error) => exited.abort(new Error(`could not run dockerd: ${error.message}`)));
    child.on('exit', (code, signal) => exited.abort(new Error(`dockerd exited with ${signal ?? `code ${code}`}`)));
    child.unref();

    try {
      await waitFor(async () => (await ping(this.socketPath)) === 'OK', {
        timeoutMs: this.#startTimeoutMs,
        intervalMs: 100,
        description: `dockerd ping on ${this.socketPath}`,
        signal: exited.signal,
      });
    } catch (error) {
      // The pidfile may not exist yet, so the child handle is the only way to reach the process.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await this.stop();
      throw new Error(
        `Private dockerd in ${this.dir} failed to start: ${(error as Error).message}\n` +
          `Last lines of ${this.logPath}:\n${this.logTail()}`,
        { cause: error },
      );
    }
  }

  // containerd and its shims name the exec root in their command line, which identifies the
  // processes of this daemon without touching any other Docker on the machine.
  #killLeftovers(): void {
    const marker = `${this.dir}/`;
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === process.pid) continue;

      let commandLine: string;
      try {
        commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!commandLine.includes(marker)) continue;

      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // It exited between the read and the kill.
      }
    }
  }
}

/** Sends `GET /_ping` over the unix socket and returns the body, or throws on a socket error. */
export function ping(socketPath: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET /_ping timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// A zombie still accepts signal 0, so a daemon whose parent has not reaped it yet counts as exited.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

// dockerd leaves its network namespace (and, after a SIGKILL, overlay mounts) mounted below the
// exec and data roots, and `rm -rf` fails on a mount point with EBUSY.
function unmountBelow(dir: string): void {
  const prefix = `${dir}/`;
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined)
    .map(decodeMountPath)
    .filter((mountPoint) => mountPoint.startsWith(prefix))
    .sort((a, b) => b.length - a.length);

  for (const mountPoint of mountPoints) {
    try {
      execFileSync('umount', ['--lazy', mountPoint], { stdio: 'ignore' });
    } catch {
      // Already gone because a parent mount was detached first.
    }
  }
}

// mountinfo escapes space, tab, newline and backslash as three octal digits.
function decodeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
