import { describe, expect, it } from 'vitest';
import { explain, InvalidExplainRequestError, type NearMiss } from '../../src/routing/explain.js';
import { explainFacts } from '../../src/routing/explain-request.js';
import { runtimeOf } from './helpers.js';

const APP = 'app.example.com';

/** Builds two routers on one host whose order the rule length decides: a long `web` rule and a shorter `api` rule. */
function priorityRuntime(apiPriority?: number) {
  return runtimeOf({
    routers: {
      web: { rule: `Host(\`${APP}\`) && (PathPrefix(\`/\`) || PathPrefix(\`/v2/webhook\`) || PathPrefix(\`/v2/token\`))` },
      api: { rule: `Host(\`${APP}\`) && PathPrefix(\`/v2\`)`, ...(apiPriority === undefined ? {} : { priority: apiPriority }) },
      catchall: { rule: 'PathPrefix(`/`)', service: 'fallback', priority: 1 },
    },
    services: { web: ['http://127.0.0.1:9001'], api: ['http://127.0.0.1:9002'], fallback: ['http://127.0.0.1:9003'] },
  });
}

function missesOf<K extends NearMiss['kind']>(misses: NearMiss[], kind: K): Array<Extract<NearMiss, { kind: K }>> {
  return misses.filter((miss): miss is Extract<NearMiss, { kind: K }> => miss.kind === kind);
}

describe('explain ordering', () => {
  it('lists candidates in the order match tries them', () => {
    const runtime = priorityRuntime();
    const report = explain(runtime, { url: `http://${APP}/v2/asdf` });

    const table = runtime.tables.get('web');
    const expected = [...(table?.candidates(APP) ?? [])].map((route) => route.name);
    expect(report.candidates.map((candidate) => candidate.router)).toEqual(expected);
    expect(expected).toEqual(['web@docker', 'api@docker', 'catchall@docker']);
  });

  it('picks the same winner as match', () => {
    const runtime = priorityRuntime();
    for (const path of ['/v2/asdf', '/', '/v2/webhook', '/other']) {
      const report = explain(runtime, { url: `http://${APP}${path}` });
      const facts = explainFacts({ url: `http://${APP}${path}` });
      expect(report.winner?.router).toBe(runtime.tables.get('web')?.match(facts)?.name);
    }
  });

  it('sends /v2/asdf to web by rule length', () => {
    const report = explain(priorityRuntime(), { url: `http://${APP}/v2/asdf` });
    expect(report.winner?.router).toBe('web@docker');
    expect(report.outcome).toBe('routed');
  });

  it('sends /v2/asdf to api with priority 1000', () => {
    const report = explain(priorityRuntime(1000), { url: `http://${APP}/v2/asdf` });
    expect(report.winner?.router).toBe('api@docker');
    expect(report.candidates[0]?.priority).toBe(1000);
  });

  it('marks routers after the winner as not tried', () => {
    const report = explain(priorityRuntime(), { url: `http://${APP}/v2/asdf` });
    expect(report.candidates.map((candidate) => [candidate.tried, candidate.matched])).toEqual([
      [true, true],
      [false, true],
      [false, true],
    ]);
  });

  it('labels host-less routers as any host', () => {
    const report = explain(priorityRuntime(), { url: `http://${APP}/` });
    const catchAll = report.candidates.find((candidate) => candidate.router === 'catchall@docker');
    expect(catchAll?.index).toBe('any host');
    expect(report.candidates[0]?.index).toBe('host');
  });
});

describe('explain matcher results', () => {
  it('gives every matcher its result', () => {
    const runtime = runtimeOf({
      routers: { r: { rule: 'Host(`a.example.com`) && (PathPrefix(`/x`) || !Method(`POST`)) && Header(`X-Env`, `prod`)' } },
      services: { r: ['http://127.0.0.1:9001'] },
    });
    const report = explain(runtime, { url: 'http://a.example.com/y', method: 'POST' });

    expect(report.candidates[0]?.matchers).toEqual([
      { name: 'Host', text: 'Host(`a.example.com`)', column: 1, matched: true, negated: false },
      { name: 'PathPrefix', text: 'PathPrefix(`/x`)', column: 27, matched: false, negated: false },
      { name: 'Method', text: 'Method(`POST`)', column: 48, matched: true, negated: true },
      { name: 'Header', text: 'Header(`X-Env`, `prod`)', column: 67, matched: false, negated: false },
    ]);
    expect(report.candidates[0]?.matched).toBe(false);
  });

  it('reads headers and client IP', () => {
    const runtime = runtimeOf({
      routers: { r: { rule: 'Header(`X-Env`, `prod`) && ClientIP(`10.0.0.0/8`)' } },
      services: { r: ['http://127.0.0.1:9001'] },
    });
    const matching = explain(runtime, { url: 'http://h.example.com/', headers: { 'x-env': 'prod' }, clientIp: '10.1.2.3' });
    const wrongIp = explain(runtime, { url: 'http://h.example.com/', headers: { 'X-Env': 'prod' }, clientIp: '192.0.2.1' });

    expect(matching.winner?.router).toBe('r@docker');
    expect(wrongIp.winner).toBeUndefined();
    expect(wrongIp.candidates[0]?.matchers.map((result) => result.matched)).toEqual([true, false]);
  });

  it('shows a v2-looking HostRegexp with its warning', () => {
    const runtime = runtimeOf({
      routers: { sub: { rule: 'HostRegexp(`{sub:[a-z]+}.example.com`)' } },
      services: { sub: ['http://127.0.0.1:9001'] },
    });
    const report = explain(runtime, { url: 'http://abc.example.com/' });

    expect(report.outcome).toBe('not-found');
    expect(report.candidates[0]?.matchers[0]?.matched).toBe(false);
    expect(report.candidates[0]?.warnings?.join('\n')).toContain('v2 syntax');
  });
});

describe('explain winner', () => {
  it('reports middlewares in order and the service', () => {
    const runtime = runtimeOf({
      routers: { app: { rule: 'Host(`m.example.com`)', middlewares: ['strip', 'prefix'] } },
      services: { app: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'] },
      middlewares: {
        strip: { type: 'stripprefix', options: { prefixes: ['/app'] } },
        prefix: { type: 'addprefix', options: { prefix: '/v1' } },
      },
    });
    const report = explain(runtime, { url: 'http://m.example.com/app/x' });

    expect(report.winner?.middlewares).toEqual([
      { name: 'strip@docker', type: 'stripprefix', effect: 'passes' },
      { name: 'prefix@docker', type: 'addprefix', effect: 'passes' },
    ]);
    expect(report.winner?.service.name).toBe('app@docker');
    expect(report.winner?.service.servers.map((server) => server.url)).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
  });

  it('names the next server without advancing the balancer', () => {
    const runtime = runtimeOf({
      routers: { app: { rule: 'Host(`b.example.com`)' } },
      services: { app: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'] },
    });
    const balancer = runtime.services.get('app@docker')?.balancer;
    balancer?.next();

    const first = explain(runtime, { url: 'http://b.example.com/' });
    const second = explain(runtime, { url: 'http://b.example.com/' });

    expect(first.winner?.service.next).toBe('http://127.0.0.1:9002');
    expect(first.winner?.service.servers.map((server) => server.next)).toEqual([false, true]);
    expect(second.winner?.service.next).toBe('http://127.0.0.1:9002');
    expect(balancer?.next()?.url).toBe('http://127.0.0.1:9002');
  });

  it('reports no-server for a service without servers', () => {
    const runtime = runtimeOf({ routers: { empty: { rule: 'Host(`e.example.com`)' } }, services: { empty: [] } });
    const report = explain(runtime, { url: 'http://e.example.com/' });

    expect(report.winner?.router).toBe('empty@docker');
    expect(report.winner?.service.next).toBeUndefined();
    expect(report.outcome).toBe('no-server');
  });
});

describe('explain near misses', () => {
  const runtime = runtimeOf({
    routers: {
      docs: { rule: 'Host(`n.example.com`) && PathPrefix(`/docs`)' },
      secure: { rule: 'Host(`n.example.com`) && PathPrefix(`/admin`)', entryPoints: ['websecure'] },
      broken: { rule: 'Host(`n.example.com`) && (PathPrefix(`/admin`)' },
      orphan: { rule: 'PathPrefix(`/admin`)', service: 'nope' },
      unrelated: { rule: 'Host(`other.example.com`) && (' },
    },
    services: { docs: ['http://127.0.0.1:9001'], secure: ['http://127.0.0.1:9002'], broken: ['http://127.0.0.1:9003'] },
    entryPoints: ['web', 'websecure'],
  });
  const report = explain(runtime, { url: 'http://n.example.com/admin', entryPoint: 'web' });

  it('is a 404', () => {
    expect(report.outcome).toBe('not-found');
    expect(report.winner).toBeUndefined();
  });

  it('lists routers whose host matched', () => {
    const misses = missesOf(report.nearMisses, 'host-matched');
    expect(misses.map((miss) => miss.router)).toEqual(['docs@docker']);
    expect(misses[0]?.failed.map((result) => result.text)).toEqual(['PathPrefix(`/docs`)']);
  });

  it('lists the router of another entry point', () => {
    const misses = missesOf(report.nearMisses, 'other-entry-point');
    expect(misses).toEqual([{ kind: 'other-entry-point', router: 'secure@docker', rule: 'Host(`n.example.com`) && PathPrefix(`/admin`)', entryPoint: 'websecure', scheme: 'http' }]);
  });

  it('lists disabled routers that match or name the host', () => {
    const misses = missesOf(report.nearMisses, 'disabled');
    expect(misses.map((miss) => [miss.router, miss.reason])).toEqual([
      ['broken@docker', 'rule-names-host'],
      ['orphan@docker', 'rule-matches'],
    ]);
    expect(misses[0]?.errors.join('\n')).toContain('invalid rule');
    expect(misses[1]?.errors.join('\n')).toContain('service "nope@docker" does not exist');
  });
});

describe('explain request', () => {
  const runtime = runtimeOf({
    routers: { slash: { rule: 'Path(`/a%2Fb`)' }, host: { rule: 'Host(`h.example.com`) && Query(`x`, `1`)' } },
    services: { slash: ['http://127.0.0.1:9001'], host: ['http://127.0.0.1:9002'] },
    entryPoints: ['web', 'websecure'],
  });

  it('keeps the path undecoded', () => {
    const report = explain(runtime, { url: 'http://any.example.com/a%2Fb' });
    expect(report.request.path).toBe('/a%2Fb');
    expect(report.winner?.router).toBe('slash@docker');
  });

  it('lets the Host header replace the URL host', () => {
    const report = explain(runtime, { url: 'http://127.0.0.1:8000/?x=1', headers: { Host: 'H.example.com.' } });
    expect(report.request.host).toBe('h.example.com');
    expect(report.request.rawQuery).toBe('x=1');
    expect(report.winner?.router).toBe('host@docker');
  });

  it('accepts a URL without scheme', () => {
    const facts = explainFacts({ url: 'user@h.example.com:8443/p?q#frag' });
    expect([facts.host, facts.path, facts.rawQuery]).toEqual(['h.example.com', '/p', 'q']);
  });

  // Before, `delete` became DELETE, though the entry point rejects a lower-case method with 400.
  it('keeps the case of the method', () => {
    expect(explainFacts({ url: 'http://h.example.com/', method: 'delete' }).method).toBe('delete');
  });

  it('defaults to the web entry point', () => {
    expect(explain(runtime, { url: 'http://h.example.com/' }).request.entryPoint).toBe('web');
  });

  it('joins repeated headers as Node does', () => {
    expect(explainFacts({ url: 'http://h.example.com/', headers: { 'x-a': ['1', '2'] } }).headers['x-a']).toBe('1, 2');
  });

  it('rejects an unknown entry point', () => {
    expect(() => explain(runtime, { url: 'http://h.example.com/', entryPoint: 'nope' })).toThrow(InvalidExplainRequestError);
    expect(() => explain(runtime, { url: 'http://h.example.com/', entryPoint: 'nope' })).toThrow('entry points: web, websecure');
  });

  it('rejects a URL without host', () => {
    expect(() => explain(runtime, { url: '/path' })).toThrow('has no host');
  });

  it('rejects an invalid client IP', () => {
    expect(() => explain(runtime, { url: 'http://h.example.com/', clientIp: 'localhost' })).toThrow('not an IPv4 or IPv6 address');
  });

  it('maps an IPv4-mapped client IP to IPv4', () => {
    expect(explainFacts({ url: 'http://h.example.com/', clientIp: '::ffff:10.0.0.1' }).clientIp).toBe('10.0.0.1');
  });

  it('matches https requests against TLS routers', () => {
    const tls = runtimeOf({
      routers: { secure: { rule: 'Host(`s.example.com`)', tls: true } },
      services: { secure: ['http://127.0.0.1:9001'] },
    });
    const overTls = explain(tls, { url: 'https://s.example.com/' });
    const plain = explain(tls, { url: 'http://s.example.com/' });

    expect(overTls.request.scheme).toBe('https');
    expect(overTls.winner?.router).toBe('secure@docker');
    expect(plain.outcome).toBe('not-found');
    expect(plain.nearMisses).toEqual([{ kind: 'other-entry-point', router: 'secure@docker', rule: 'Host(`s.example.com`)', entryPoint: 'web', scheme: 'https' }]);
  });

  it('matches wss requests against TLS routers', () => {
    const tls = runtimeOf({
      routers: { secure: { rule: 'Host(`s.example.com`)', tls: true } },
      services: { secure: ['http://127.0.0.1:9001'] },
    });
    const overTls = explain(tls, { url: 'wss://s.example.com/socket' });
    const plain = explain(tls, { url: 'ws://s.example.com/socket' });

    expect(overTls.request.scheme).toBe('https');
    expect(overTls.winner?.router).toBe('secure@docker');
    expect(plain.request.scheme).toBe('http');
    expect(plain.outcome).toBe('not-found');
  });

  // Before, `ftp://h.example.com/` was explained as if it were an HTTP request.
  it('rejects a URL of another protocol', () => {
    for (const url of ['ftp://h.example.com/', 'FILE:///etc/passwd', 'gopher://h.example.com/']) {
      expect(() => explain(runtime, { url })).toThrow(InvalidExplainRequestError);
      expect(() => explain(runtime, { url })).toThrow(`the URL "${url}" has the scheme "${url.slice(0, url.indexOf(':')).toLowerCase()}"`);
      expect(() => explain(runtime, { url })).toThrow('http://, https://, ws:// or wss://');
    }
  });

  it('accepts a URL without a scheme', () => {
    expect(explainFacts({ url: 'h.example.com/path' }).host).toBe('h.example.com');
    expect(explainFacts({ url: 'h.example.com:8080/path' }).path).toBe('/path');
  });

  it('needs a choice among several entry points without web', () => {
    const noWeb = runtimeOf({ routers: {}, entryPoints: ['a', 'b'] });
    expect(() => explain(noWeb, { url: 'http://h.example.com/' })).toThrow('choose one');
  });
});
