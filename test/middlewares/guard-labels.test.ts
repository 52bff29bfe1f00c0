// Labels of the access and rate middlewares, decoded as the Docker provider does and built by the
// registry, so option names and nesting agree between the schema and the middlewares.
import { describe, expect, it } from 'vitest';

import { decodeLabels } from '../../src/labels/decode.js';
import { middlewareSchema } from '../../src/labels/middleware-schemas.js';
import { createMiddleware } from '../../src/middlewares/registry.js';
import { contextFor, runMiddleware } from './header-context.js';

const PREFIX = 'traefik.http.middlewares.m.';

/** Decodes `labels` and builds the one middleware they declare. */
function build(labels: Record<string, string>) {
  const result = decodeLabels(middlewareSchema, labels, PREFIX);
  expect(result.issues).toEqual([]);
  const [type, options] = Object.entries(result.value as Record<string, Record<string, unknown>>)[0] ?? [];
  return createMiddleware(type ?? '', options ?? {});
}

describe('guard middleware labels', () => {
  it('basicauth users and removeheader', async () => {
    const middleware = build({ 'basicauth.users': 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'basicauth.removeheader': 'true' });
    const context = contextFor({ headers: [['Authorization', `Basic ${Buffer.from('test:test').toString('base64')}`]] });
    const outcome = await runMiddleware(middleware, context);
    expect(outcome.reachedServer).toBe(true);
    expect(context.request.headers.authorization).toBeUndefined();
  });

  it('ipallowlist with ipstrategy depth', async () => {
    const middleware = build({ 'ipallowlist.sourcerange': '10.0.0.0/8', 'ipallowlist.ipstrategy.depth': '1', 'ipallowlist.rejectstatuscode': '404' });
    expect((await runMiddleware(middleware, contextFor({ headers: [['X-Forwarded-For', '10.1.1.1']] }))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, contextFor({ headers: [['X-Forwarded-For', '192.0.2.1']] }))).status).toBe(404);
  });

  // Before, these labels were unknown, though Traefik v3 still accepts the deprecated name.
  it('ipwhitelist with ipstrategy depth', async () => {
    const middleware = build({ 'ipwhitelist.sourcerange': '10.0.0.0/8', 'ipwhitelist.ipstrategy.depth': '1' });
    expect((await runMiddleware(middleware, contextFor({ headers: [['X-Forwarded-For', '10.1.1.1']] }))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, contextFor({ headers: [['X-Forwarded-For', '192.0.2.1']] }))).status).toBe(403);
  });

  it('ratelimit with header criterion', async () => {
    const middleware = build({ 'ratelimit.average': '1', 'ratelimit.period': '1m', 'ratelimit.sourcecriterion.requestheadername': 'X-Api-Key' });
    const keyed = (key: string) => contextFor({ headers: [['X-Api-Key', key]] });
    expect((await runMiddleware(middleware, keyed('a'))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, keyed('a'))).status).toBe(429);
    expect((await runMiddleware(middleware, keyed('b'))).reachedServer).toBe(true);
  });

  it('inflightreq with requesthost', () => {
    expect(() => build({ 'inflightreq.amount': '3', 'inflightreq.sourcecriterion.requesthost': 'true' })).not.toThrow();
  });

  it('inflightreq exclusive criteria rejected', () => {
    expect(() => build({ 'inflightreq.amount': '3', 'inflightreq.sourcecriterion.requesthost': 'true', 'inflightreq.sourcecriterion.ipstrategy.depth': '1' })).toThrow(
      'inflightreq sourceCriterion sets ipStrategy and requestHost, which exclude each other',
    );
  });
});
