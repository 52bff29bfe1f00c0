// bcrypt checks on a worker thread. bcryptjs computes in JavaScript, about 70 ms at cost 10 on a
// 2-core machine (an estimate), and on the event loop 20 wrong passwords sent at once delayed every
// other request of the process by over a second. On one worker thread the checks run one after
// another while the event loop keeps serving; Traefik (Go) runs them on every core.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Checks allowed to wait for the worker; a check beyond them fails at once. */
const MAX_WAITING_CHECKS = 64;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash }) => {
  let matched = false;
  try {
    matched = bcrypt.compareSync(password, hash);
  } catch {
    matched = false;
  }
  parentPort.postMessage({ id, matched });
});
`;

interface Reply {
  id: number;
  matched: boolean;
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, (matched: boolean) => void>();

/** Starts the worker on first use. It does not keep the process alive. */
function workerThread(): Worker {
  if (worker !== undefined) return worker;
  const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
  const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs } });
  started.unref();
  started.on('message', (reply: Reply) => {
    pending.get(reply.id)?.(reply.matched);
    pending.delete(reply.id);
  });
  // A worker that fails or exits fails the checks it held, and the next check starts a new one.
  const stop = (): void => {
    if (worker === started) worker = undefined;
    for (const settle of pending.values()) settle(false);
    pending.clear();
  };
  started.on('error', stop);
  started.on('exit', stop);
  worker = started;
  return started;
}

/**
 * Returns whether `password` matches the bcrypt `hash`, computed on the worker thread. A hash that
 * bcryptjs cannot read is a mismatch. With more checks waiting than the limit, the check fails at
 * once, so a flood of guesses costs later logins, not the rest of the traffic.
 */
export function compareOnWorker(password: string, hash: string): Promise<boolean> {
  if (pending.size >= MAX_WAITING_CHECKS) return Promise.resolve(false);
  const id = nextId++;
  return new Promise<boolean>((resolve) => {
    pending.set(id, resolve);
    workerThread().postMessage({ id, password, hash });
  });
}
