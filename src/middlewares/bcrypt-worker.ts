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

/** Why a bcrypt check did not run: the password was neither matched nor rejected. */
export type BcryptFailure = 'queue full' | 'worker failed';

/**
 * A bcrypt check that could not run. Its message names neither the password nor the hash, and its
 * cause is the worker thread's own error or exit code.
 */
export class BcryptCheckError extends Error {
  constructor(
    readonly failure: BcryptFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BcryptCheckError';
  }
}

interface PendingCheck {
  resolve: (matched: boolean) => void;
  reject: (error: BcryptCheckError) => void;
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, PendingCheck>();

/** Starts the worker on first use. It does not keep the process alive. */
function workerThread(): Worker {
  if (worker !== undefined) return worker;
  const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
  const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs } });
  started.unref();
  started.on('message', (reply: Reply) => {
    pending.get(reply.id)?.resolve(reply.matched);
    pending.delete(reply.id);
  });
  // A worker that fails or exits fails the checks it held, and the next check starts a new one.
  // An uncaught error emits 'error' and then 'exit', and the checks fail with the first of them.
  const stop = (cause: Error): void => {
    if (worker === started) worker = undefined;
    const error = new BcryptCheckError('worker failed', 'the bcrypt worker thread stopped during the check', { cause });
    for (const check of pending.values()) check.reject(error);
    pending.clear();
  };
  started.on('error', stop);
  started.on('exit', (code: number) => stop(new Error(`the bcrypt worker thread exited with code ${code}`)));
  worker = started;
  return started;
}

/**
 * Returns whether `password` matches the bcrypt `hash`, computed on the worker thread. A hash that
 * bcryptjs cannot read is a mismatch. With more checks waiting than the limit, the check rejects at
 * once, so a flood of guesses costs later logins, not the rest of the traffic. Rejects with a
 * BcryptCheckError when the check cannot run: the queue is full, or the worker failed.
 */
export function compareOnWorker(password: string, hash: string): Promise<boolean> {
  if (pending.size >= MAX_WAITING_CHECKS) {
    return Promise.reject(new BcryptCheckError('queue full', `${MAX_WAITING_CHECKS} bcrypt checks are waiting already, the maximum`));
  }
  let thread: Worker;
  try {
    thread = workerThread();
  } catch (cause) {
    return Promise.reject(new BcryptCheckError('worker failed', 'starting the bcrypt worker thread failed', { cause }));
  }
  const id = nextId++;
  return new Promise<boolean>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    thread.postMessage({ id, password, hash });
  });
}

/**
 * Stops the worker thread. Checks in progress fail as when the worker dies, and the next check
 * starts a new worker. Tests call it to see a worker failure.
 */
export async function terminateBcryptWorker(): Promise<void> {
  await worker?.terminate();
}
