// Explain reports when a middleware on the path responds itself. Before, a router with
// redirectscheme was explained as `=> router redir@docker, service mw@docker, server ...` while
// the client got 301, and a basicauth router as routed while a client without credentials got 401.
import { describe, expect, it } from 'vitest';

import { explain, type NearMiss } from '../../src/routing/explain.js';
import { runtimeOf } from './helpers.js';

const SERVER = 'http://127.0.0.1:9141';
/** A user with a hash in bcrypt's format; explain never checks a password, so the hash need not match one. */
const USERS = ['user:$2y$05$Lwq7UYj0D4Vt5E9HGy2aS.dYVs5s3tA2XzjO6Oa1dYH6bS6m8nA7a'];

function runtimeWith(middlewares: Record<string, { type: string; options: Record<string, unknown> }>, names: string[] = Object.keys(middlewares)) {
  return runtimeOf({
    routers: { redir: { rule: 'Host(`m.localhost`)', service: 'mw', middlewares: names } },
    services: { mw: [SERVER] },
    middlewares,
  });
}

describe('explain redirect middlewares', () => {
  const runtime = runtimeWith({ https: { type: 'redirectscheme', options: { scheme: 'https', permanent: true } } });

  it('reports the 301 and its Location', () => {
    const report = explain(runtime, { url: 'http://m.localhost/a?b=1' });
    expect(report.outcome).toBe('middleware-response');
    expect(report.response).toEqual({ status: 301, reason: 'redirect', location: 'https://m.localhost/a?b=1', middleware: 'https@docker' });
    expect(report.winner?.middlewares[0]?.effect).toBe('responds');
  });

  it('reports 308 for POST', () => {
    expect(explain(runtime, { url: 'http://m.localhost/', method: 'POST' }).response?.status).toBe(308);
  });

  it('redirects to the normalized path', () => {
    expect(explain(runtime, { url: 'http://m.localhost/x/../%65xact' }).response?.location).toBe('https://m.localhost/exact');
  });

  it('passes an https request on', () => {
    const tls = runtimeOf({
      routers: { redir: { rule: 'Host(`m.localhost`)', service: 'mw', middlewares: ['https'], tls: true } },
      services: { mw: [SERVER] },
      middlewares: { https: { type: 'redirectscheme', options: { scheme: 'https' } } },
    });
    const report = explain(tls, { url: 'https://m.localhost/' });
    expect(report.outcome).toBe('routed');
    expect(report.winner?.middlewares[0]?.effect).toBe('passes');
  });

  it('applies redirectregex only when the regex matches', () => {
    const regex = runtimeWith({ old: { type: 'redirectregex', options: { regex: '^http://m\\.localhost/old/(.*)', replacement: 'http://m.localhost/new/${1}' } } });
    expect(explain(regex, { url: 'http://m.localhost/old/page' }).response).toEqual({ status: 302, reason: 'redirect', location: 'http://m.localhost/new/page', middleware: 'old@docker' });
    expect(explain(regex, { url: 'http://m.localhost/other' }).outcome).toBe('routed');
  });

  it('keeps the port of the Host', () => {
    const regex = runtimeWith({ port: { type: 'redirectregex', options: { regex: '^http://m\\.localhost:8080/(.*)', replacement: 'https://m.localhost/${1}' } } });
    expect(explain(regex, { url: 'http://m.localhost:8080/a' }).response?.location).toBe('https://m.localhost/a');
    expect(explain(runtime, { url: 'http://m.localhost:8080/a' }).response?.location).toBe('https://m.localhost/a');
  });

  it('marks later middlewares not reached', () => {
    const chained = runtimeWith({
      https: { type: 'redirectscheme', options: { scheme: 'https' } },
      auth: { type: 'basicauth', options: { users: USERS } },
    });
    const middlewares = explain(chained, { url: 'http://m.localhost/' }).winner?.middlewares;
    expect(middlewares?.map((middleware) => middleware.effect)).toEqual(['responds', 'not-reached']);
  });

  it('wins over a service without servers', () => {
    const empty = runtimeOf({
      routers: { redir: { rule: 'Host(`m.localhost`)', service: 'none', middlewares: ['https'] } },
      services: { none: [] },
      middlewares: { https: { type: 'redirectscheme', options: { scheme: 'https' } } },
    });
    expect(explain(empty, { url: 'http://m.localhost/' }).outcome).toBe('middleware-response');
  });
});

describe('explain access middlewares', () => {
  it('reports basicauth 401 without credentials', () => {
    const report = explain(runtimeWith({ auth: { type: 'basicauth', options: { users: USERS } } }), { url: 'http://m.localhost/' });
    expect(report.outcome).toBe('middleware-response');
    expect(report.response?.status).toBe(401);
    expect(report.response?.reason).toContain('no Basic credentials');
  });

  it('reports basicauth as open with credentials', () => {
    const authorization = `Basic ${Buffer.from('user:guess').toString('base64')}`;
    const report = explain(runtimeWith({ auth: { type: 'basicauth', options: { users: USERS } } }), { url: 'http://m.localhost/', headers: { Authorization: authorization } });
    expect(report.outcome).toBe('routed');
    expect(report.winner?.middlewares[0]).toMatchObject({ effect: 'may-respond', statuses: [401] });
  });

  it('reports forwardauth as open', () => {
    const report = explain(runtimeWith({ fa: { type: 'forwardauth', options: { address: 'http://127.0.0.1:9999/verify' } } }), { url: 'http://m.localhost/' });
    expect(report.outcome).toBe('routed');
    expect(report.winner?.middlewares[0]).toMatchObject({ effect: 'may-respond', statuses: [] });
    expect(report.winner?.middlewares[0]?.reason).toContain('http://127.0.0.1:9999/verify');
  });

  it('reports ipallowlist 403 for another client', () => {
    const runtime = runtimeWith({ lan: { type: 'ipallowlist', options: { sourceRange: ['10.0.0.0/8'] } } });
    const rejected = explain(runtime, { url: 'http://m.localhost/', clientIp: '192.0.2.7' });
    expect(rejected.outcome).toBe('middleware-response');
    expect(rejected.response).toEqual({ status: 403, reason: 'client address 192.0.2.7 is not in sourceRange', middleware: 'lan@docker' });
    expect(explain(runtime, { url: 'http://m.localhost/', clientIp: '10.1.2.3' }).outcome).toBe('routed');
  });

  it('reports ratelimit and inflightreq as open', () => {
    const runtime = runtimeWith({
      limit: { type: 'ratelimit', options: { average: 10, burst: 5 } },
      flight: { type: 'inflightreq', options: { amount: 2 } },
    });
    const report = explain(runtime, { url: 'http://m.localhost/' });
    expect(report.outcome).toBe('routed');
    expect(report.winner?.middlewares.map((middleware) => [middleware.effect, middleware.statuses])).toEqual([
      ['may-respond', [429]],
      ['may-respond', [429]],
    ]);
  });

  it('does not use up a rate limit token', () => {
    const runtime = runtimeWith({ limit: { type: 'ratelimit', options: { average: 1, burst: 1 } } });
    for (let i = 0; i < 5; i++) expect(explain(runtime, { url: 'http://m.localhost/' }).outcome).toBe('routed');
  });

  it('expands chains into their members', () => {
    const runtime = runtimeWith(
      {
        secure: { type: 'chain', options: { middlewares: ['lan', 'https'] } },
        lan: { type: 'ipallowlist', options: { sourceRange: ['127.0.0.1'] } },
        https: { type: 'redirectscheme', options: { scheme: 'https' } },
      },
      ['secure'],
    );
    const report = explain(runtime, { url: 'http://m.localhost/' });
    expect(report.winner?.middlewares).toEqual([
      { name: 'lan@docker', type: 'ipallowlist', chain: 'secure@docker', effect: 'passes' },
      { name: 'https@docker', type: 'redirectscheme', chain: 'secure@docker', effect: 'responds', status: 302, reason: 'redirect', location: 'https://m.localhost/' },
    ]);
    expect(report.response?.middleware).toBe('https@docker');
  });
});

describe('explain skipped containers', () => {
  const runtime = runtimeOf({
    routers: { other: { rule: 'Host(`other.localhost`)' } },
    services: { other: [SERVER] },
    skipped: [
      { id: 'c1', name: 'api-1', reason: 'unhealthy (HEALTHCHECK failing)', routers: [{ name: 'api', rule: 'Host(`api.localhost`)' }] },
      { id: 'c2', name: 'admin-1', reason: 'not enabled: exposedByDefault is false and label traefik.enable=true is missing', routers: [{ name: 'admin', rule: 'Host(`api.localhost`) && PathPrefix(`/admin`)' }] },
      { id: 'c3', name: 'web-1', reason: 'paused', routers: [{ name: 'web', rule: 'Host(`web.localhost`)' }] },
    ],
  });

  it('names skipped containers whose routers match a 404', () => {
    const report = explain(runtime, { url: 'http://api.localhost/admin/x' });
    expect(report.outcome).toBe('not-found');
    const misses = report.nearMisses.filter((miss): miss is Extract<NearMiss, { kind: 'skipped-container' }> => miss.kind === 'skipped-container');
    expect(misses).toEqual([
      { kind: 'skipped-container', container: 'api-1', skipReason: 'unhealthy (HEALTHCHECK failing)', router: 'api@docker', rule: 'Host(`api.localhost`)', reason: 'rule-matches' },
      {
        kind: 'skipped-container',
        container: 'admin-1',
        skipReason: 'not enabled: exposedByDefault is false and label traefik.enable=true is missing',
        router: 'admin@docker',
        rule: 'Host(`api.localhost`) && PathPrefix(`/admin`)',
        reason: 'rule-matches',
      },
    ]);
  });

  it('names a skipped container whose rule names the host', () => {
    const report = explain(runtime, { url: 'http://api.localhost/' });
    const containers = report.nearMisses.filter((miss) => miss.kind === 'skipped-container').map((miss) => (miss.kind === 'skipped-container' ? [miss.container, miss.reason] : []));
    expect(containers).toEqual([
      ['api-1', 'rule-matches'],
      ['admin-1', 'rule-names-host'],
    ]);
  });
});
