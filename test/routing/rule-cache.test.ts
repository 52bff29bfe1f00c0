import { describe, expect, it } from 'vitest';
import { RuleCache, compileRouterRule } from '../../src/routing/rule-cache.js';

describe('RuleCache', () => {
  it('reuses a rule of the previous build', () => {
    const cache = new RuleCache();
    const first = cache.compile('Host(`a.example.com`)', 'v3');
    cache.finishBuild();
    const second = cache.compile('Host(`a.example.com`)', 'v3');

    expect(second).toBe(first);
  });

  it('drops rules the last build did not use', () => {
    const cache = new RuleCache();
    const old = cache.compile('Host(`old.example.com`)', 'v3');
    cache.finishBuild();
    cache.compile('Host(`new.example.com`)', 'v3');
    cache.finishBuild();

    expect(cache.size).toBe(1);
    expect(cache.compile('Host(`old.example.com`)', 'v3')).not.toBe(old);
  });

  it('keeps syntaxes apart', () => {
    const cache = new RuleCache();
    // `Host` with two arguments is valid in v2 only.
    const v2 = cache.compile('Host(`a.example.com`, `b.example.com`)', 'v2');
    const v3 = cache.compile('Host(`a.example.com`, `b.example.com`)', 'v3');

    expect(v2.ok).toBe(true);
    expect(v3.ok).toBe(false);
  });

  it('returns what compiling returns', () => {
    const cache = new RuleCache();
    const rule = 'Host(`A.example.com`) && PathPrefix(`/api`)';
    const cached = cache.compile(rule, 'v3');
    const fresh = compileRouterRule(rule, 'v3');
    if (!cached.ok || !fresh.ok) throw new Error('the rule is valid');

    expect(cached.hosts).toEqual(fresh.hosts);
    expect(cached.warnings).toEqual(fresh.warnings);
  });

  it('returns the parse error', () => {
    const cache = new RuleCache();
    const cached = cache.compile('Host(`a.example.com`', 'v3');
    const fresh = compileRouterRule('Host(`a.example.com`', 'v3');
    if (cached.ok || fresh.ok) throw new Error('the rule is invalid');

    expect(cached.message).toBe(fresh.message);
    expect(cached.message).not.toBe('');
  });
});
