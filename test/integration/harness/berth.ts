// Runs the built `bin/berth` as a child process, the way a user runs it, with its entry points on
// free 127.0.0.1 ports.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { beforeEach } from 'vitest';

import { freePort } from './containers.js';
import { type HttpRequestOptions, type HttpResponse, httpRequest } from './http.js';
import { REPO_ROOT } from './paths.js';
import { waitFor } from './wait.js';

export interface StartBerthOptions {
  /** Path of the private daemon's unix socket. */
  dockerSocket: string;
  /** Flags appended after the default flags. */
  args?: string[];
  env?: Record<string, string>;
  /** How long to wait for `GET /ping` to return 200, in milliseconds. */
  startTimeoutMs?: number;
  /**
   * Script that node runs. Defaults to `$BERTH_TEST_SCRIPT`, then to `bin/berth`, so the whole
   * suite can run against another build without editing the tests.
   */
  script?: string;
}

export interface BerthProcess {
  /** `http://127.0.0.1:PORT`, the `web` entry point. */
  webUrl: string;
  /** `http://127.0.0.1:PORT`, the `berth` entry point with the API and `/ping`. */
  apiUrl: string;
  webPort: number;
  apiPort: number;
  pid: number;
  /** Everything Berth wrote to stdout and stderr so far. */
  logs(): string;
  /** Lines of `logs()` that parse as JSON objects, in order. */
  logEntries(): Array<Record<string, unknown>>;
  /** Sends SIGTERM, waits up to 10 s, then SIGKILL. Returns the exit code, or null after a signal. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();

// A test that fails before calling stop() must not leave Berth listening after the worker exits.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `node bin/berth` against the private daemon with the `web` and `berth` entry points, the
 * insecure API, `/ping` and JSON debug logs, and waits until `/ping` returns 200.
 */
export async function startBerth(options: StartBerthOptions): Promise<BerthProcess> {
  const { dockerSocket, args = [], env = {}, startTimeoutMs = 15_000 } = options;
  const script = options.script ?? process.env.BERTH_TEST_SCRIPT ?? join(REPO_ROOT, 'bin/berth');
  const webPort = await freePort();
  const apiPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const flags = [
    `--entrypoints.web.address=127.0.0.1:${webPort}`,
    `--entrypoints.berth.address=127.0.0.1:${apiPort}`,
    '--providers.docker',
    `--providers.docker.endpoint=unix://${dockerSocket}`,
    '--api.insecure',
    '--ping',
    '--log.format=json',
    '--log.level=debug',
    ...args,
  ];

  // DOCKER_HOST points at the private daemon too, so a fallback to the environment can never
  // reach the machine's own Docker.
  // BERTH_TEST_SCRIPT is for this harness only: Berth rejects environment variables that start
  // with BERTH_ and name no option.
  const { BERTH_TEST_SCRIPT: _script, ...inherited } = process.env;
  const child = spawn(process.execPath, [script, ...flags], {
    cwd: REPO_ROOT,
    env: { ...inherited, DOCKER_HOST: `unix://${dockerSocket}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

  let exitStatus: string | undefined;
  const exitedSignal = new AbortController();
  let resolveExited: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((resolve) => (resolveExited = resolve));
  child.on('exit', (code, signal) => {
    exitStatus = signal === null ? `exit code ${code}` : `signal ${signal}`;
    running.delete(child);
    exitedSignal.abort(new Error(`berth exited with ${exitStatus}`));
    resolveExited(code);
  });
  // A process that failed to spawn emits no 'exit' event.
  child.on('error', (error) => {
    exitStatus = `spawn error: ${error.message}`;
    running.delete(child);
    exitedSignal.abort(new Error(`could not run berth: ${error.message}`));
    resolveExited(null);
  });

  const stop = async (): Promise<number | null> => {
    if (exitStatus !== undefined) return exited;
    child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(10_000, 'timeout' as const, { ref: false })]);
    if (code !== 'timeout') return code;
    child.kill('SIGKILL');
    return exited;
  };

  try {
    await waitFor(async () => (await httpRequest(`${apiUrl}/ping`, { timeoutMs: 1_000 })).status === 200, {
      timeoutMs: startTimeoutMs,
      intervalMs: 50,
      description: `GET ${apiUrl}/ping returning 200`,
      signal: exitedSignal.signal,
    });
  } catch (error) {
    await stop();
    throw new Error(`Berth did not start: ${(error as Error).message}\nBerth output:\n${tail(output, 60)}`, {
      cause: error,
    });
  }

  return {
    webUrl,
    apiUrl,
    webPort,
    apiPort,
    pid: child.pid ?? -1,
    logs: () => output,
    logEntries: () => parseJsonLines(output),
    stop,
  };
}

/**
 * Registers a `beforeEach` hook that prints the last lines of Berth's output when a test of the
 * calling file fails. `getBerth` is read at failure time, so it can return a process that
 * `beforeAll` started.
 */
export function printBerthLogsOnFailure(getBerth: () => BerthProcess | undefined, lines = 120): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      const berth = getBerth();
      if (berth === undefined) return;
      console.error(`Last ${lines} lines of Berth output:\n${tail(berth.logs(), lines)}`);
    });
  });
}

/** Sends a request through the `web` entry point with the given Host header. */
export function fetchVia(
  berth: Pick<BerthProcess, 'webUrl'>,
  host: string,
  path = '/',
  options: HttpRequestOptions = {},
): Promise<HttpResponse> {
  return httpRequest(`${berth.webUrl}${path}`, { ...options, headers: { ...options.headers, host } });
}

/** Statuses that mean no router or no server took the request. */
export const NOT_ROUTED_STATUSES = [404, 503];

/**
 * Polls `host` through Berth until it returns 200 with `body`, and returns the
 * `performance.now()` time of that response.
 */
export async function waitUntilRouted(
  berth: Pick<BerthProcess, 'webUrl'>,
  host: string,
  body: string,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<number> {
  return waitFor(
    async () => {
      const response = await fetchVia(berth, host, '/', { timeoutMs: 2_000 });
      return response.status === 200 && response.body === body ? performance.now() : false;
    },
    { timeoutMs, intervalMs, description: `${host} through Berth returning 200 with body ${JSON.stringify(body)}` },
  );
}

/**
 * Polls `host` through Berth until it returns 404 or 503, and returns the `performance.now()`
 * time of that response.
 */
export async function waitUntilNotRouted(
  berth: Pick<BerthProcess, 'webUrl'>,
  host: string,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<number> {
  return waitFor(
    async () => {
      const response = await fetchVia(berth, host, '/', { timeoutMs: 2_000 });
      return NOT_ROUTED_STATUSES.includes(response.status) ? performance.now() : false;
    },
    { timeoutMs, intervalMs, description: `${host} through Berth returning 404 or 503` },
  );
}

/**
 * Sends `GET path` to the `berth` entry point and parses the JSON body. Throws unless the status
 * is 200.
 */
export async function apiGet<T = unknown>(berth: Pick<BerthProcess, 'apiUrl'>, path: string): Promise<T> {
  const response = await httpRequest(`${berth.apiUrl}${path}`);
  if (response.status !== 200) {
    throw new Error(`GET ${path} returned ${response.status}: ${response.body.slice(0, 500)}`);
  }
  try {
    return JSON.parse(response.body) as T;
  } catch (error) {
    throw new Error(`GET ${path} returned invalid JSON: ${response.body.slice(0, 500)}`, { cause: error });
  }
}

function parseJsonLines(text: string): Array<Record<string, unknown>> {
  const entries: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut off by a crash, or plain text that starts with a brace.
    }
  }
  return entries;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
