// The `circuitBreaker` middleware (Traefik v3's pkg/middlewares/circuitbreaker, which uses
// vulcand/oxy's cbreaker). In standby it passes every request on and records the status, latency
// and network errors of each response. At most once per `checkPeriod`, after a response, it
// evaluates `expression`. When it is true, the breaker trips: for `fallbackDuration` every request
// gets `responseCode` without reaching the service, and the metrics start over. Then it recovers
// for `recoveryDuration`, letting a growing share of requests through as oxy does, while it keeps
// checking the expression, which trips it again when true. After that it is back in standby.
//
// Each router that uses the middleware gets its own breaker, as in Traefik. The breaker runs no
// timer: every state change happens while a request is handled, and is logged then. A breaker that
// trips is logged at warn, its recovery and its return to standby at info.
import { parseDurationMs } from '../balancer/health-options.js';
import { Fields } from '../observability/fields.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { isGatewayErrorResponse } from '../proxy/error-response.js';
import { isSettledUpgrade } from '../proxy/upgrade-response.js';
import { BreakerMetrics } from './breaker-metrics.js';
import { parseBreakerExpression, type BreakerCondition } from './breaker-expression.js';
import { integerOption, option } from './options.js';
import { sendStatus } from './status-response.js';
import { withPreview, type Middleware, type Next, type RequestContext } from './types.js';

/** Oxy's defaults, which Traefik keeps for a missing or non-positive duration. */
const DEFAULT_CHECK_PERIOD_MS = 100;
const DEFAULT_FALLBACK_DURATION_MS = 10_000;
const DEFAULT_RECOVERY_DURATION_MS = 10_000;
const DEFAULT_RESPONSE_CODE = 503;

export interface CircuitBreakerSettings {
  condition: BreakerCondition;
  checkPeriodMs: number;
  fallbackDurationMs: number;
  recoveryDurationMs: number;
  /** Status of the responses the breaker sends itself: while tripped, and to requests it rejects in recovery. */
  responseCode: number;
}

export interface CircuitBreakerRuntime {
  /** Clock in milliseconds; tests pass a fake one. */
  now?: () => number;
  /** Logger for the state changes of the breakers. Nothing is logged without it. */
  logger?: Logger;
}

export type BreakerState = 'standby' | 'tripped' | 'recovering';

/** Called when a breaker moves from `previous` to `state`. */
export type BreakerStateListener = (state: BreakerState, previous: BreakerState) => void;

export function createCircuitBreaker(options: Record<string, unknown>, runtime: CircuitBreakerRuntime = {}): Middleware {
  const settings = circuitBreakerSettings(options);
  const now = runtime.now ?? (() => performance.now());
  const logger = runtime.logger ?? silentLogger();
  // Keyed by router name, so bounded by the routers of the configuration.
  const breakers = new Map<string, CircuitBreaker>();

  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    const key = context.router ?? '';
    let breaker = breakers.get(key);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(settings, now, stateLogger(logger, settings, context.router));
      breakers.set(key, breaker);
    }

    if (!breaker.allowRequest()) {
      sendStatus(context, settings.responseCode);
      return;
    }

    const startedAt = now();
    await next();
    const { response } = context;
    // A response that never started (the client left first) has no status to record.
    if (!response.headersSent && !isSettledUpgrade(response)) return;
    const status = response.statusCode;
    const networkError = (status === 502 || status === 504) && isGatewayErrorResponse(response);
    breaker.recordResponse(status, networkError, now() - startedAt);
  };

  // The state is the one the last request left, because the breaker changes state only while it handles a request.
  return withPreview(handle, (context) => {
    const state = breakers.get(context.router ?? '')?.state ?? 'standby';
    const reason = `responds ${settings.responseCode} while the breaker is tripped, and to some requests while it recovers; its state after the last request was ${state}`;
    return { effect: 'may-respond', statuses: [settings.responseCode], reason };
  });
}

/** Returns a listener that logs the state changes of the breaker of `router`. */
function stateLogger(logger: Logger, settings: CircuitBreakerSettings, router: string | undefined): BreakerStateListener {
  const fields = router === undefined ? {} : { [Fields.router]: router };
  return (state, previous) => {
    if (state === 'tripped') {
      // `status` is what the rejected requests get, and `durationMs` how long before recovery starts.
      logger.warn(
        { ...fields, [Fields.status]: settings.responseCode, [Fields.durationMs]: settings.fallbackDurationMs, [Fields.previousState]: previous },
        'circuit breaker tripped: requests get the fallback status without reaching the service',
      );
    } else if (state === 'recovering') {
      logger.info({ ...fields, [Fields.durationMs]: settings.recoveryDurationMs, [Fields.previousState]: previous }, 'circuit breaker recovering: a growing share of requests reaches the service');
    } else {
      logger.info({ ...fields, [Fields.previousState]: previous }, 'circuit breaker recovered: every request reaches the service');
    }
  };
}

/** Reads and checks the options; throws an Error naming the bad option and value. */
export function circuitBreakerSettings(options: Record<string, unknown>): CircuitBreakerSettings {
  const expression = option(options, 'expression');
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new Error(`circuitbreaker expression is missing: set the condition that trips the breaker, for example expression=NetworkErrorRatio() > 0.30`);
  }

  const responseCode = integerOption(options, 'circuitbreaker', 'responseCode', { fallback: 0, min: 0, example: DEFAULT_RESPONSE_CODE });
  if (responseCode !== 0 && (responseCode < 200 || responseCode > 599)) {
    throw new Error(`circuitbreaker responseCode ${responseCode} is invalid: write a status from 200 to 599, for example responseCode=503`);
  }

  return {
    condition: parseBreakerExpression(expression),
    checkPeriodMs: durationOption(options, 'checkPeriod', DEFAULT_CHECK_PERIOD_MS),
    fallbackDurationMs: durationOption(options, 'fallbackDuration', DEFAULT_FALLBACK_DURATION_MS),
    recoveryDurationMs: durationOption(options, 'recoveryDuration', DEFAULT_RECOVERY_DURATION_MS),
    responseCode: responseCode === 0 ? DEFAULT_RESPONSE_CODE : responseCode,
  };
}

/** Reads a duration, where a bare number is seconds; a missing, zero or negative one returns `fallbackMs`. */
function durationOption(options: Record<string, unknown>, name: string, fallbackMs: number): number {
  const raw = option(options, name);
  if (raw === undefined || raw === null || raw === '') return fallbackMs;
  const ms = typeof raw === 'number' ? raw * 1_000 : parseDurationMs(String(raw));
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new Error(`circuitbreaker ${name} ${JSON.stringify(raw)} is invalid: write a duration such as 100ms, 10s or 1m`);
  }
  return ms > 0 ? ms : fallbackMs;
}

/** The state machine and metrics of one router's breaker. */
export class CircuitBreaker {
  readonly metrics: BreakerMetrics;
  #state: BreakerState = 'standby';
  /** End of the tripped or recovering state, in milliseconds of the clock. */
  #until = 0;
  /** Time after which the next response evaluates the expression; the first response always does. */
  #nextCheckAt = Number.NEGATIVE_INFINITY;
  #recovery: RecoveryRamp | undefined;

  constructor(
    readonly settings: CircuitBreakerSettings,
    readonly now: () => number,
    readonly onStateChange: BreakerStateListener = () => {},
  ) {
    this.metrics = new BreakerMetrics(now);
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Moves on from a state whose time is over and returns whether this request may reach the service. */
  allowRequest(): boolean {
    if (this.#state === 'standby') return true;

    const now = this.now();
    if (this.#state === 'tripped') {
      if (now < this.#until) return false;
      this.#setState('recovering');
      this.#until = now + this.settings.recoveryDurationMs;
      this.#recovery = new RecoveryRamp(now, this.settings.recoveryDurationMs);
    }

    if (now > this.#until) {
      this.#setState('standby');
      this.#recovery = undefined;
      return true;
    }
    return this.#recovery?.allow(now) ?? true;
  }

  /** Records a response of the service, then evaluates the expression when a check period has passed. */
  recordResponse(status: number, networkError: boolean, latencyMs: number): void {
    this.metrics.record(status, networkError, latencyMs);

    const now = this.now();
    if (now <= this.#nextCheckAt) return;
    this.#nextCheckAt = now + this.settings.checkPeriodMs;
    if (this.#state === 'tripped' || !this.settings.condition(this.metrics)) return;

    this.#setState('tripped');
    this.#until = now + this.settings.fallbackDurationMs;
    this.#recovery = undefined;
    this.metrics.reset();
  }

  #setState(state: BreakerState): void {
    const previous = this.#state;
    this.#state = state;
    this.onStateChange(state, previous);
  }
}

/**
 * Oxy's ratio controller: lets a request through when the share of requests let through since
 * recovery began, counting this one, stays below a target that grows linearly from 0 to 0.5 over
 * the recovery duration. With steady traffic that share is a running total, so the rate of the
 * moment grows from none to nearly all requests.
 */
export class RecoveryRamp {
  #allowed = 0;
  #denied = 0;

  constructor(
    readonly startedAt: number,
    readonly durationMs: number,
  ) {}

  allow(now: number): boolean {
    const target = (0.5 * (now - this.startedAt)) / this.durationMs;
    const share = (this.#allowed + 1) / (this.#allowed + 1 + this.#denied);
    if (share < target) {
      this.#allowed++;
      return true;
    }
    this.#denied++;
    return false;
  }
}
