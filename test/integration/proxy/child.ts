// Runs `fixtures/berth-child.mjs`, Berth's request path in a process of its own with the V8 flags
// that `berth run` sets, for tests that signal it or measure its memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/berth-child.mjs', import.meta.url));

export interface BerthChild {
  port: number;
  process: ChildProcess;
  /** Lines of stdout parsed as JSON, in order. */
  messages: Array<Record<string, unknown>>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Starts the fixture forwarding to `serverUrl` and waits until it listens. `execArgv` adds Node.js options. */
export async function startBerthChild(serverUrl: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<BerthChild> {
  const child = spawn(process.execPath, [...execArgv, FIXTURE], {
    env: { ...process.env, BERTH_FIXTURE_SERVER: serverUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: Array<Record<string, unknown>> = [];
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const message = JSON.parse(line) as Record<string, unknown>;
        messages.push(message);
        if (typeof message.port === 'number') resolve(message.port);
      }
    });
    void exited.then((code) => reject(new Error(`the Berth fixture exited with code ${String(code)} before listening`)));
  });

  return {
    port,
    process: child,
    messages,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}
