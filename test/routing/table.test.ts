import { describe, expect, it } from 'vitest';
import { RouteTable, type Route } from '../../src/routing/table.js';
import type { RequestFacts } from '../../src/rules/types.js';

function route(name: string, priority: number, hosts: string[] | null, matches: (facts: RequestFacts) => boolean = () => true): Route {
  return { name, rule: name, priority, hosts, matcher: matches, service: `${name}-service`, middlewares: [] };
}

function facts(host: string, path = '/'): RequestFacts {
  return { host, path, rawQuery: '', method: 'GET', headers: {}, clientIp: '127.0.0.1' };
}

describe('RouteTable', () => {
  it('prefers higher priority across hosted and host-less routes', () => {
    const table = new RouteTable([route('catch-all', 1, null), route('a', 10, ['a.example.test']), route('top', 100, null)]);
    expect(table.match(facts('a.example.test'))?.name).toBe('top');
  });

  it('breaks priority ties by router name', () => {
    const table = new RouteTable([route('zeta', 5, ['a.example.test']), route('alpha', 5, ['a.example.test'])]);
    expect(table.match(facts('a.example.test'))?.name).toBe('alpha');
  });

  it('keeps the same winner whatever the input order', () => {
    const routes = [route('b', 7, ['x.example.test']), route('a', 7, null), route('c', 7, ['x.example.test'])];
    const winners = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) {
      const shuffled = [...routes].sort(() => Math.random() - 0.5);
      winners.add(new RouteTable(shuffled).match(facts('x.example.test'))?.name);
    }
    expect([...winners]).toEqual(['a']);
  });

  it('skips routers of other hosts', () => {
    const table = new RouteTable([route('a', 10, ['a.example.test'])]);
    expect(table.match(facts('b.example.test'))).toBeUndefined();
  });

  it('falls through to a lower route when the matcher rejects', () => {
    const table = new RouteTable([
      route('api', 20, ['a.example.test'], (request) => request.path.startsWith('/api')),
      route('web', 10, ['a.example.test']),
    ]);
    expect(table.match(facts('a.example.test', '/api/x'))?.name).toBe('api');
    expect(table.match(facts('a.example.test', '/home'))?.name).toBe('web');
  });

  it('lists candidates in the order they are tried', () => {
    const table = new RouteTable([route('low', 1, null), route('mid', 5, ['h']), route('high', 9, null), route('other', 50, ['g'])]);
    expect([...table.candidates('h')].map((item) => item.name)).toEqual(['high', 'mid', 'low']);
  });
});
