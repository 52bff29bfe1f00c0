// The runtime events that middlewares log: each test captures the pino lines of one middleware and
// checks the message, the level and the fields, and that no credential reaches the log.
import { describe, expect, it } from 'vitest';

import { createBasicAuth } from '../../src/middlewares/basicauth.js';
import { terminateBcryptWorker } from '../../src/middlewares/bcrypt-worker.js';
import { createCircuitBreaker } from '../../src/middlewares/circuitbreaker.js';
import { createErrors } from '../../src/middlewares/errors.js';
import { createInFlightReq } from '../../src/middlewares/inflightreq.js';
import { createRateLimit } from '../../src/middlewares/ratelimit.js';
import { createRedirectRegex } from '../../src/middlewares/redirect.js';
import type { Middleware, RequestContext } from '../../src/middlewares/types.js';
import { contextFor, runMiddleware } from './header-context.js';
import { captureLogs, LEVEL } from './log-capture.js';

/** crypt_blowfish test vector for the password `U*U`, at cost 5. */
const BCRYPT_UU = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';

function routed(router: string, shape: Parameters<typeof contextFor>[0] = {}): RequestContext {
  return { ...contextFor(shape), router };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Starts `middleware` on a request whose server waits until the returned `finish` is called. */
function hold(middleware: Middleware, context: RequestContext): { reached: Promise<void>; finish: () => Promise<void> } {
  let open: () => void = () => {};
  let entered: () => void = () => {};
  const reached = new Promise<void>((resolve) => (entered = resolve));
  const gate = new Promise<void>((resolve) => (open = resolve));
  const done = middleware(context, async () => {
    entered();
    await gate;
    context.response.writeHead(200, []);
    context.response.end();
  });
  return {
    reached,
    finish: async () => {
      open();
      await done;
    },
  };
}

describe('circuitBreaker logs', () => {
  const options = { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', fallbackDuration: '10s', recoveryDuration: '10s' };

  it('trip is a warning', async () => {
    const clock = { now: 0 };
    const { logger, records } = captureLogs('info');
    const middleware = createCircuitBreaker(options, { now: () => clock.now, logger });

    await runMiddleware(middleware, routed('app@docker'), [], 500);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      level: LEVEL.warn,
      msg: 'circuit breaker tripped: requests get the fallback status without reaching the service',
      routerName: 'app@docker',
      status: 503,
      durationMs: 10_000,
      previousState: 'standby',
    });
  });

  it('recovery is info', async () => {
    const clock = { now: 0 };
    const { logger, records, withMessage } = captureLogs('info');
    const middleware = createCircuitBreaker(options, { now: () => clock.now, logger });
    await runMiddleware(middleware, routed('app@docker'), [], 500);

    clock.now = 10_001;
    const ramping = await runMiddleware(middleware, routed('app@docker'));
    expect(ramping.status).toBe(503);
    const recovering = withMessage('circuit breaker recovering: a growing share of requests reaches the service');
    expect(recovering).toHaveLength(1);
    expect(recovering[0]).toMatchObject({ level: LEVEL.info, routerName: 'app@docker', durationMs: 10_000, previousState: 'tripped' });

    clock.now = 20_002;
    const passed = await runMiddleware(middleware, routed('app@docker'));
    expect(passed.reachedServer).toBe(true);
    const recovered = withMessage('circuit breaker recovered: every request reaches the service');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ level: LEVEL.info, routerName: 'app@docker', previousState: 'recovering' });
    expect(records).toHaveLength(3);
  });

  it('each router logs its own breaker', async () => {
    const { logger, records } = captureLogs('info');
    const middleware = createCircuitBreaker(options, { now: () => 0, logger });

    await runMiddleware(middleware, routed('a@docker'), [], 500);
    await runMiddleware(middleware, routed('b@docker'), [], 500);
    expect(records.map((record) => record.routerName)).toEqual(['a@docker', 'b@docker']);
  });
});

describe('inFlightReq logs', () => {
  it('rejection is debug and throttled', async () => {
    const { logger, records } = captureLogs('debug');
    const middleware = createInFlightReq({ amount: 1, sourceCriterion: { requestHeaderName: 'X-Api-Key' } }, () => {}, logger);
    const headers: Array<[string, string]> = [['X-Api-Key', 'key-s3cret']];
    const first = hold(middleware, routed('api@docker', { headers }));
    await first.reached;

    for (let i = 0; i < 3; i += 1) {
      const rejected = await runMiddleware(middleware, routed('api@docker', { headers }));
      expect(rejected.status).toBe(429);
    }
    await first.finish();

    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: LEVEL.debug, msg: 'rejected a request', routerName: 'api@docker', status: 429, suppressed: 0 });
    expect(records[0]?.reason).toBe('more than 1 requests of the source in flight');
    expect(JSON.stringify(records)).not.toContain('key-s3cret');
  });

  it('nothing logged above debug', async () => {
    const { logger, records } = captureLogs('info');
    const middleware = createInFlightReq({ amount: 1 }, () => {}, logger);
    const first = hold(middleware, routed('api@docker'));
    await first.reached;
    expect((await runMiddleware(middleware, routed('api@docker'))).status).toBe(429);
    await first.finish();
    expect(records).toEqual([]);
  });
});

describe('rateLimit logs', () => {
  it('rejection is debug with wait', async () => {
    const { logger, records } = captureLogs('debug');
    const middleware = createRateLimit({ average: 1, burst: 1 }, () => {}, { now: () => 0, logger });

    expect((await runMiddleware(middleware, routed('api@docker'))).status).toBe(200);
    expect((await runMiddleware(middleware, routed('api@docker'))).status).toBe(429);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: LEVEL.debug, msg: 'rejected a request', routerName: 'api@docker', status: 429, delayMs: 1_000, reason: 'rate limit exceeded' });
  });
});

describe('redirectRegex logs', () => {
  it('invalid target warns without URL', async () => {
    const { logger, records } = captureLogs('info');
    const middleware = createRedirectRegex({ regex: '^http://([^/:]+)/(.*)', replacement: 'http://${1}:99999/${2}' }, logger);

    const outcome = await runMiddleware(middleware, routed('web@docker', { url: '/login?token=t0ken-s3cret', headers: [['Host', 'app.example.test']] }));
    expect(outcome.status).toBe(500);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: LEVEL.warn, msg: 'redirect target is not a valid URL', routerName: 'web@docker', status: 500, reason: 'invalid host or port' });
    expect(JSON.stringify(records)).not.toContain('t0ken-s3cret');
  });
});

describe('errors logs', () => {
  it('page service failure is a warning', async () => {
    const { logger, records } = captureLogs('info');
    const build = { logger, resolveService: (name: string) => `${name}@docker` };
    const middleware = createErrors({ status: '500-599', service: 'pages', query: '/{status}.html' }, build);
    const context = routed('app@docker', { url: '/app?session=abc' });
    context.callService = async () => false;

    const outcome = await runMiddleware(middleware, context, [], 502);
    expect(outcome.status).toBe(502);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      level: LEVEL.warn,
      msg: 'calling the error page service failed',
      routerName: 'app@docker',
      serviceName: 'pages@docker',
      status: 502,
      originalStatus: 502,
      reason: 'no server is available',
    });
  });
});

describe('basicAuth logs', () => {
  it('full check queue is a warning', async () => {
    const { logger, records, withMessage } = captureLogs('info');
    const middleware = createBasicAuth({ users: [`blow:${BCRYPT_UU}`] }, logger);

    // Distinct passwords, because requests with the same credentials share one check. Each request
    // queues its check before the first await, so the checks beyond 64 find the queue full.
    const passwords = Array.from({ length: 70 }, (_, i) => `guess-${i}`);
    const outcomes = await Promise.all(passwords.map((password) => runMiddleware(middleware, routed('admin@docker', { headers: [['Authorization', basic('blow', password)]] }))));
    expect(outcomes.every((outcome) => outcome.status === 401)).toBe(true);

    const full = withMessage('bcrypt check queue is full, so a request was rejected');
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ level: LEVEL.warn, routerName: 'admin@docker', status: 401, suppressed: 0 });
    expect(full[0]?.err).toMatchObject({ type: 'BcryptCheckError' });
    expect(JSON.stringify(records)).not.toContain('guess-');
  });

  it('worker failure is a warning', async () => {
    const { logger, records, withMessage } = captureLogs('info');
    const middleware = createBasicAuth({ users: [`blow:${BCRYPT_UU}`] }, logger);

    const passwords = Array.from({ length: 8 }, (_, i) => `try-${i}`);
    const running = Promise.all(passwords.map((password) => runMiddleware(middleware, routed('admin@docker', { headers: [['Authorization', basic('blow', password)]] }))));
    await terminateBcryptWorker();
    const outcomes = await running;
    expect(outcomes.every((outcome) => outcome.status === 401)).toBe(true);

    const failed = withMessage('bcrypt worker thread failed, so a request was rejected');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: LEVEL.warn, routerName: 'admin@docker', status: 401 });
    // pino's error serializer appends the message of the cause.
    expect(failed[0]?.err).toMatchObject({ type: 'BcryptCheckError', message: 'the bcrypt worker thread stopped during the check: the bcrypt worker thread exited with code 1' });
    expect(JSON.stringify(records)).not.toContain('try-');
  });

  it('new worker after failure', async () => {
    const middleware = createBasicAuth({ users: [`blow:${BCRYPT_UU}`] });
    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Authorization', basic('blow', 'U*U')]] }));
    expect(outcome.reachedServer).toBe(true);
  });
});
