// The `inFlightReq` middleware (Traefik v3's pkg/middlewares/inflightreq, which uses oxy's
// connlimit): at most `amount` requests of one source are in progress at a time, and a request
// over that gets 429. A request stops counting when its response has ended (the last byte was
// handed to Node.js) or the client has gone away, whichever comes first.
import { Fields } from '../observability/fields.js';
import { isClientGone } from '../proxy/client-gone.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { throttledLog } from './log-throttle.js';
import { integerOption, option } from './options.js';
import { sourceExtractorFrom, type SourceExtractor } from './client-source.js';
import { sendStatus } from './status-response.js';
import { withPreview, type Middleware, type Next, type RequestContext } from './types.js';

export interface InFlightReqSettings {
  amount: number;
  source: SourceExtractor;
}

export function createInFlightReq(options: Record<string, unknown>, warn: (message: string) => void = () => {}, logger: Logger = silentLogger()): Middleware {
  const settings = inFlightReqSettings(options, warn);
  const counter = new InFlightCounter(settings.amount);
  const logRejection = throttledLog(logger, 'debug');

  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    const source = settings.source(context);
    if (!counter.acquire(source)) {
      // The source stays out of the log, because with sourceCriterion.requestHeaderName it can be a credential.
      logRejection({ [Fields.router]: context.router, [Fields.status]: 429, [Fields.reason]: `more than ${settings.amount} requests of the source in flight` }, 'rejected a request');
      sendStatus(context, 429);
      return;
    }

    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      counter.release(source);
    };
    const { response } = context;
    // 'close' follows both the end of the response and a client that went away.
    response.once('close', release);
    try {
      await next();
    } finally {
      // A response that the chain ended or destroyed counts as done, even before its 'close' arrives.
      if (response.writableEnded || isClientGone(response)) {
        response.off('close', release);
        release();
      }
    }
  };

  const reason = `responds 429 when ${settings.amount} requests of the same source are already in progress`;
  return withPreview(handle, () => ({ effect: 'may-respond', statuses: [429], reason }));
}

/** Reads and checks the options; throws an Error naming the bad option and value. */
export function inFlightReqSettings(options: Record<string, unknown>, warn: (message: string) => void = () => {}): InFlightReqSettings {
  const amount = integerOption(options, 'inflightreq', 'amount', { fallback: 0, min: 0, example: 10 });
  if (amount < 1) {
    throw new Error('inflightreq amount is missing or 0: set the maximum number of simultaneous requests per source, for example amount=10');
  }
  // Without a criterion Traefik groups requests by Host.
  return { amount, source: sourceExtractorFrom(option(options, 'sourceCriterion'), 'inflightreq', 'host', warn) };
}

/**
 * Counts requests in progress per source. A source is forgotten when its count drops to 0, so the
 * map contains at most one entry per request in progress.
 */
export class InFlightCounter {
  readonly #counts = new Map<string, number>();

  constructor(readonly amount: number) {}

  /** Counts one more request of `source`; returns false, and counts nothing, when it has `amount` already. */
  acquire(source: string): boolean {
    const count = this.#counts.get(source) ?? 0;
    if (count >= this.amount) return false;
    this.#counts.set(source, count + 1);
    return true;
  }

  release(source: string): void {
    const count = this.#counts.get(source) ?? 0;
    if (count <= 1) this.#counts.delete(source);
    else this.#counts.set(source, count - 1);
  }

  /** Returns the number of requests of `source` in progress. */
  inFlight(source: string): number {
    return this.#counts.get(source) ?? 0;
  }

  /** Returns the number of sources with a request in progress. */
  get size(): number {
    return this.#counts.size;
  }
}
