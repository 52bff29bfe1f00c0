// A steady, bounded request load through Berth for the deploy tests: a fixed rate of GET requests
// from an undici Pool, stopped by the test or by its own count and time limits, with every
// failure recorded.

import { setTimeout as sleep } from 'node:timers/promises';

import { Pool } from 'undici';

export interface LoadOptions {
  /** Base URL of Berth's entry point, such as `http://127.0.0.1:PORT`. */
  url: string;
  /** Host header of every request. */
  host: string;
  path?: string;
  requestsPerSecond: number;
  /** Hard limits: the load stops at whichever comes first, even if the test never calls `stop`. */
  maxDurationMs: number;
  maxRequests: number;
  /** Requests allowed to wait for a response at once; a request due above it is skipped. Defaults to 64. */
  maxPending?: number;
  /** Time allowed for one response, in milliseconds. Defaults to 10 000. */
  timeoutMs?: number;
}

/** One response or failure, with `performance.now()` times. */
export interface LoadSample {
  sentAt: number;
  doneAt: number;
  /** HTTP status, or 0 when the request failed without a response. */
  status: number;
  body: string;
  error?: string;
}

export interface LoadReport {
  sent: number;
  failed: number;
  /** Requests that were due but not sent because `maxPending` requests were waiting. */
  skipped: number;
  durationMs: number;
  /** Failed samples: a status other than 200, or no response. */
  failures: LoadSample[];
  samples: LoadSample[];
  /** Responses per body, which is the name of the container that sent it. */
  bodies: Record<string, number>;
}

export interface RunningLoad {
  /** Samples of the responses received so far. */
  samples(): readonly LoadSample[];
  /** Stops sending, waits for the requests in flight and returns the report. */
  stop(): Promise<LoadReport>;
}

const TICK_MS = 10;

/** Starts sending requests at a steady rate until `stop` or a limit. */
export function startLoad(options: LoadOptions): RunningLoad {
  const { url, host, path = '/', requestsPerSecond, maxDurationMs, maxRequests, maxPending = 64, timeoutMs = 10_000 } = options;
  const pool = new Pool(url, { connections: 16, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 4_000 });
  const samples: LoadSample[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();
  let scheduled = 0;
  let sent = 0;
  let skipped = 0;
  let stopped = false;

  const sendOne = async (): Promise<void> => {
    const sentAt = performance.now();
    try {
      const response = await pool.request({ path, method: 'GET', headers: { host } });
      const body = await response.body.text();
      samples.push({ sentAt, doneAt: performance.now(), status: response.statusCode, body });
    } catch (error) {
      samples.push({ sentAt, doneAt: performance.now(), status: 0, body: '', error: (error as Error).message });
    }
  };

  // Sends as many requests per tick as the elapsed time calls for, so timer jitter does not change
  // the rate. A request that is due while too many wait is skipped, not sent later in a burst.
  const loop = (async () => {
    while (!stopped) {
      const elapsed = performance.now() - startedAt;
      if (elapsed >= maxDurationMs || scheduled >= maxRequests) break;
      const due = Math.min(maxRequests, Math.floor((elapsed * requestsPerSecond) / 1_000));
      while (scheduled < due) {
        scheduled++;
        if (inFlight.size >= maxPending) {
          skipped++;
          continue;
        }
        sent++;
        const request = sendOne().finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await sleep(TICK_MS);
    }
  })();

  let report: Promise<LoadReport> | undefined;
  const finish = async (): Promise<LoadReport> => {
    stopped = true;
    await loop;
    await Promise.all(inFlight);
    await pool.close();

    const failures = samples.filter((sample) => sample.status !== 200);
    const bodies: Record<string, number> = {};
    for (const sample of samples) if (sample.status === 200) bodies[sample.body] = (bodies[sample.body] ?? 0) + 1;
    return { sent, failed: failures.length, skipped, durationMs: Math.round(performance.now() - startedAt), failures, samples, bodies };
  };

  return {
    samples: () => samples,
    // Calling it again returns the same report, so a `finally` block can stop the load safely.
    stop: () => (report ??= finish()),
  };
}

/** Formats a report for the test output: counts, and the first failures with their times. */
export function describeLoad(name: string, report: LoadReport, startedAt = 0): string {
  const head = `${name}: sent ${report.sent}, failed ${report.failed}, skipped ${report.skipped}, ${report.durationMs} ms, bodies ${JSON.stringify(report.bodies)}`;
  const examples = report.failures.slice(0, 5).map((sample) => `  at ${Math.round(sample.sentAt - startedAt)} ms: status ${sample.status} ${sample.error ?? sample.body.trim()}`);
  return [head, ...examples].join('\n');
}
