// The inFlightReq middleware: the count per source, its release, and the source criteria.
import { describe, expect, it } from 'vitest';

import { createInFlightReq, InFlightCounter, inFlightReqSettings } from '../../src/middlewares/inflightreq.js';
import type { RequestContext } from '../../src/middlewares/types.js';
import { contextFor, runMiddleware } from './header-context.js';

function withHost(host: string, headers: Array<[string, string]> = []): RequestContext {
  return contextFor({ headers: [['Host', host], ...headers] });
}

/** Starts a request that stays in progress until the returned `finish` is called. */
function hold(middleware: ReturnType<typeof createInFlightReq>, context: RequestContext): { finish: () => Promise<void>; reached: Promise<void> } {
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

describe('inFlightReq requests', () => {
  it('over amount gets 429', async () => {
    const middleware = createInFlightReq({ amount: 1 });
    const first = hold(middleware, withHost('a.example.test'));
    await first.reached;

    const second = await runMiddleware(middleware, withHost('a.example.test'));
    expect(second.reachedServer).toBe(false);
    expect(second.status).toBe(429);

    const otherHost = await runMiddleware(middleware, withHost('b.example.test'));
    expect(otherHost.reachedServer).toBe(true);

    await first.finish();
    const third = await runMiddleware(middleware, withHost('a.example.test'));
    expect(third.reachedServer).toBe(true);
  });

  it('client gone releases the count', async () => {
    const middleware = createInFlightReq({ amount: 1 });
    const context = withHost('a.example.test');
    const first = hold(middleware, context);
    await first.reached;
    // Without a socket, the response emits nothing when the client goes away, so the test emits 'close' itself.
    context.response.emit('close');

    const second = await runMiddleware(middleware, withHost('a.example.test'));
    expect(second.reachedServer).toBe(true);
    await first.finish();
  });

  it('thrown error releases the count', async () => {
    const middleware = createInFlightReq({ amount: 1 });
    const context = withHost('a.example.test');
    await expect(
      middleware(context, async () => {
        context.response.destroy();
        throw new Error('service failed');
      }),
    ).rejects.toThrow('service failed');

    const next = await runMiddleware(middleware, withHost('a.example.test'));
    expect(next.reachedServer).toBe(true);
  });

  it('requestHeaderName groups by header', async () => {
    const middleware = createInFlightReq({ amount: 1, sourceCriterion: { requestHeaderName: 'X-Tenant' } });
    const first = hold(middleware, withHost('a.example.test', [['X-Tenant', 'blue']]));
    await first.reached;

    expect((await runMiddleware(middleware, withHost('b.example.test', [['X-Tenant', 'blue']]))).status).toBe(429);
    expect((await runMiddleware(middleware, withHost('a.example.test', [['X-Tenant', 'red']]))).reachedServer).toBe(true);
    await first.finish();
  });

  it('ipStrategy groups by client address', async () => {
    const middleware = createInFlightReq({ amount: 1, sourceCriterion: { ipStrategy: { depth: 1 } } });
    const first = hold(middleware, withHost('a.example.test', [['X-Forwarded-For', '10.0.0.1']]));
    await first.reached;

    expect((await runMiddleware(middleware, withHost('b.example.test', [['X-Forwarded-For', '10.0.0.1']]))).status).toBe(429);
    expect((await runMiddleware(middleware, withHost('a.example.test', [['X-Forwarded-For', '10.0.0.2']]))).reachedServer).toBe(true);
    await first.finish();
  });
});

describe('InFlightCounter', () => {
  it('forgets sources at zero', () => {
    const counter = new InFlightCounter(2);
    expect(counter.acquire('a')).toBe(true);
    expect(counter.acquire('a')).toBe(true);
    expect(counter.acquire('a')).toBe(false);
    expect(counter.inFlight('a')).toBe(2);

    counter.release('a');
    counter.release('a');
    expect(counter.inFlight('a')).toBe(0);
    expect(counter.size).toBe(0);
  });
});

describe('inFlightReq bad options', () => {
  it.each([
    [{}, 'inflightreq amount is missing or 0'],
    [{ amount: 0 }, 'inflightreq amount is missing or 0'],
    [{ amount: 'ten' }, 'inflightreq amount "ten" is invalid'],
    [{ amount: -1 }, 'inflightreq amount -1 is invalid'],
    [{ amount: 1, sourceCriterion: { requestHost: true, requestHeaderName: 'X-A' } }, 'inflightreq sourceCriterion sets requestHeaderName and requestHost, which exclude each other'],
    [{ amount: 1, sourceCriterion: { ipStrategy: {}, requestHost: 'true' } }, 'inflightreq sourceCriterion sets ipStrategy and requestHost'],
    [{ amount: 1, sourceCriterion: { requestHost: 'yes' } }, 'inflightreq sourceCriterion requestHost "yes" is invalid'],
    [{ amount: 1, sourceCriterion: { ipStrategy: { excludedIPs: 'nope' } } }, 'inflightreq sourceCriterion ipStrategy excludedIPs entry "nope" is not a valid IP address'],
  ])('%j rejected', (options, message) => {
    expect(() => inFlightReqSettings(options)).toThrow(message);
  });
});
