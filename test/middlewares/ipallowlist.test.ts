// The ipAllowList middleware and the ipStrategy choices it shares with inFlightReq and rateLimit.
import { describe, expect, it } from 'vitest';

import { ipStrategyFrom, withSubnet } from '../../src/middlewares/client-source.js';
import { createIpAllowList, ipAllowListSettings } from '../../src/middlewares/ipallowlist.js';
import { createMiddleware } from '../../src/middlewares/registry.js';
import type { RequestContext } from '../../src/middlewares/types.js';
import { contextFor, runMiddleware } from './header-context.js';

/** Builds a request from peer `peer`, with X-Forwarded-For `forwardedFor` when given. */
function from(peer: string, forwardedFor?: string): RequestContext {
  const context = contextFor({ headers: forwardedFor === undefined ? [] : [['X-Forwarded-For', forwardedFor]] });
  context.facts.clientIp = peer;
  return context;
}

describe('ipAllowList requests', () => {
  const middleware = createIpAllowList({ sourceRange: '192.168.1.0/24, 10.0.0.7, fd00::/8' });

  it.each(['192.168.1.1', '192.168.1.254', '10.0.0.7', 'fd00::1', 'fdff:1::2'])('peer %s passes', async (peer) => {
    const outcome = await runMiddleware(middleware, from(peer));
    expect(outcome.reachedServer).toBe(true);
  });

  it.each(['192.168.2.1', '10.0.0.8', '127.0.0.1', 'fe80::1', ''])('peer %j gets 403', async (peer) => {
    const outcome = await runMiddleware(middleware, from(peer));
    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(403);
    expect(outcome.header('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('peer decides without ipStrategy', async () => {
    const outcome = await runMiddleware(middleware, from('127.0.0.1', '192.168.1.1'));
    expect(outcome.status).toBe(403);
  });

  it('rejectStatusCode replaces 403', async () => {
    const outcome = await runMiddleware(createIpAllowList({ sourceRange: ['10.0.0.0/8'], rejectStatusCode: 404 }), from('127.0.0.1'));
    expect(outcome.status).toBe(404);
  });
});

describe('ipStrategy', () => {
  const chain = '1.1.1.1, 2.2.2.2 ,3.3.3.3';

  it.each([
    [1, '3.3.3.3'],
    [2, '2.2.2.2'],
    [3, '1.1.1.1'],
    [4, ''],
  ])('depth %i picks %j', (depth, expected) => {
    expect(ipStrategyFrom({ depth }, 'test')(from('9.9.9.9', chain))).toBe(expected);
  });

  it('depth 1 without X-Forwarded-For is empty', () => {
    expect(ipStrategyFrom({ depth: 1 }, 'test')(from('9.9.9.9'))).toBe('');
  });

  it('excludedIPs skips known proxies', () => {
    const strategy = ipStrategyFrom({ excludedIPs: '3.3.3.0/24,2.2.2.2' }, 'test');
    expect(strategy(from('9.9.9.9', chain))).toBe('1.1.1.1');
    expect(strategy(from('9.9.9.9', '3.3.3.3'))).toBe('');
  });

  it('depth wins over excludedIPs', () => {
    expect(ipStrategyFrom({ depth: 1, excludedIPs: ['3.3.3.3'] }, 'test')(from('9.9.9.9', chain))).toBe('3.3.3.3');
  });

  it('ipv6Subnet groups the peer', () => {
    const strategy = ipStrategyFrom({ ipv6Subnet: 64 }, 'test');
    expect(strategy(from('2001:db8:1:2:aaaa::1'))).toBe('2001:db8:1:2::');
    expect(strategy(from('10.1.2.3'))).toBe('10.1.2.3');
  });

  it('ipv6Subnet with depth', () => {
    expect(ipStrategyFrom({ depth: 1, ipv6Subnet: '48' }, 'test')(from('9.9.9.9', '2001:db8:abcd:12::7'))).toBe('2001:db8:abcd::');
  });

  it('ipv6Subnet with excludedIPs warns', () => {
    const warnings: string[] = [];
    ipStrategyFrom({ excludedIPs: ['10.0.0.1'], ipv6Subnet: 64 }, 'test', (message) => warnings.push(message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('ipv6Subnet has no effect together with excludedIPs');
  });

  it('withSubnet formats addresses', () => {
    expect(withSubnet('2001:db8::1', 128)).toBe('2001:db8::1');
    expect(withSubnet('1:2:3:4:5:6:7:8', 128)).toBe('1:2:3:4:5:6:7:8');
    expect(withSubnet('1:0:0:4:0:0:0:8', 128)).toBe('1:0:0:4::8');
    expect(withSubnet('2001:db8::1', 1)).toBe('::');
    expect(withSubnet('not-an-ip', 64)).toBe('not-an-ip');
  });

  it('allow list with depth', async () => {
    const middleware = createIpAllowList({ sourceRange: ['2.2.2.2'], ipStrategy: { depth: 2 } });
    expect((await runMiddleware(middleware, from('9.9.9.9', chain))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, from('2.2.2.2', '2.2.2.2'))).status).toBe(403);
  });
});

describe('ipAllowList bad options', () => {
  it.each([
    [{}, 'ipallowlist sourceRange is missing'],
    [{ sourceRange: '10.0.0.0/33' }, 'ipallowlist sourceRange entry "10.0.0.0/33" is not a valid IP address or CIDR range'],
    [{ sourceRange: '10.0.0.0/8,example.com' }, 'ipallowlist sourceRange entry "example.com" is not a valid IP address'],
    [{ sourceRange: '10.0.0.0/8', rejectStatusCode: 299 }, 'ipallowlist rejectStatusCode 299 is invalid'],
    [{ sourceRange: '10.0.0.0/8', rejectStatusCode: 'teapot' }, 'ipallowlist rejectStatusCode "teapot" is invalid'],
    [{ sourceRange: '10.0.0.0/8', ipStrategy: { depth: -1 } }, 'ipallowlist ipStrategy depth -1 is invalid'],
    [{ sourceRange: '10.0.0.0/8', ipStrategy: { ipv6Subnet: 0 } }, 'ipallowlist ipStrategy ipv6Subnet 0 is invalid'],
    [{ sourceRange: '10.0.0.0/8', ipStrategy: { ipv6Subnet: 129 } }, 'ipallowlist ipStrategy ipv6Subnet 129 is invalid'],
    [{ sourceRange: '10.0.0.0/8', ipStrategy: { excludedIPs: '10.0.0.300' } }, 'ipallowlist ipStrategy excludedIPs entry "10.0.0.300" is not a valid IP address'],
    [{ sourceRange: '10.0.0.0/8', ipStrategy: 'depth=1' }, 'ipallowlist ipStrategy "depth=1" is invalid'],
  ])('%j rejected', (options, message) => {
    expect(() => ipAllowListSettings(options)).toThrow(message);
  });
});

// Before, the type was unknown, and Berth suggested renaming it, where Traefik v3 still runs it.
describe('ipWhiteList alias', () => {
  it('runs as ipAllowList with a warning', async () => {
    const warnings: string[] = [];
    const middleware = createMiddleware('ipWhiteList', { sourceRange: '10.0.0.0/8' }, (message) => warnings.push(message));

    expect((await runMiddleware(middleware, from('10.1.2.3'))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, from('127.0.0.1'))).status).toBe(403);
    expect(warnings).toEqual(['middleware type ipWhiteList is deprecated, and Berth runs it as ipAllowList, as Traefik v3 does; rename the type to ipAllowList']);
  });
});
