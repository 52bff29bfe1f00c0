import { describe, expect, it } from 'vitest';
import { closestKey, levenshtein } from '../../src/labels/decode.js';
import { MiddlewareSchemas } from '../../src/labels/middleware-schemas.js';
import { routerSchema } from '../../src/labels/http-schemas.js';
import { listKnownKeys } from '../../src/labels/schema.js';
import { buildLabelTree, formatKeyPath, parseKeyPath } from '../../src/labels/tree.js';

describe('levenshtein', () => {
  const cases = [
    { a: '', b: '', expected: 0 },
    { a: 'abc', b: '', expected: 3 },
    { a: 'entrypoint', b: 'entrypoints', expected: 1 },
    { a: 'kitten', b: 'sitting', expected: 3 },
    { a: 'rule', b: 'rule', expected: 0 },
    { a: 'flaw', b: 'lawn', expected: 2 },
  ];
  for (const testCase of cases) {
    it(`${JSON.stringify(testCase.a)} to ${JSON.stringify(testCase.b)}`, () => {
      expect(levenshtein(testCase.a, testCase.b)).toBe(testCase.expected);
      expect(levenshtein(testCase.b, testCase.a)).toBe(testCase.expected);
    });
  }
});

describe('closestKey', () => {
  const known = listKnownKeys(routerSchema);

  it('one letter missing', () => {
    expect(closestKey(['entrypoint'], known)).toEqual(['entrypoints']);
  });

  it('wrong case and typo', () => {
    expect(closestKey(['Middleware'], known)).toEqual(['middlewares']);
  });

  it('array placeholder filled with the written index', () => {
    expect(closestKey(['tls', 'domains', '[2]', 'man'], known)).toEqual(['tls', 'domains', '[2]', 'main']);
  });

  it('no candidates', () => {
    expect(closestKey(['x'], [])).toBeUndefined();
  });
});

describe('parseKeyPath', () => {
  const cases = [
    { desc: 'dotted names', key: 'a.b.c', expected: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
    { desc: 'index after a name', key: 'domains[0].main', expected: [{ name: 'domains' }, { index: 0 }, { name: 'main' }] },
    { desc: 'two indices', key: 'a[1][2]', expected: [{ name: 'a' }, { index: 1 }, { index: 2 }] },
    { desc: 'empty segment', key: 'a..b', expected: undefined },
    { desc: 'index that is not a number', key: 'a[x]', expected: undefined },
    { desc: 'index without a name', key: '[0]', expected: undefined },
    { desc: 'unclosed bracket', key: 'a[0', expected: undefined },
  ];
  for (const testCase of cases) {
    it(testCase.desc, () => {
      expect(parseKeyPath(testCase.key)).toEqual(testCase.expected);
    });
  }

  it('formatKeyPath reverses the split', () => {
    expect(formatKeyPath(['tls', 'domains', '[0]', 'main'])).toBe('tls.domains[0].main');
  });
});

describe('buildLabelTree', () => {
  it('merges names with first sorted spelling', () => {
    const tree = buildLabelTree({ 'routers.web.rule': 'a', 'routers.Web.priority': '1' });
    const routers = tree.root.children[0];
    expect(routers?.children.map((child) => ('name' in child.segment ? child.segment.name : ''))).toEqual(['Web']);
    expect(tree.malformed).toEqual([]);
  });

  it('keeps identical values set under two spellings', () => {
    const tree = buildLabelTree({ 'a.b': 'x', 'A.B': 'x' });
    expect(tree.malformed).toEqual([]);
  });
});

describe('MiddlewareSchemas', () => {
  it('keys are lower-case type names', () => {
    for (const type of Object.keys(MiddlewareSchemas)) expect(type).toBe(type.toLowerCase());
  });

  it('declares the example types', () => {
    expect(Object.keys(MiddlewareSchemas)).toEqual(expect.arrayContaining(['stripprefix', 'addprefix', 'headers', 'redirectscheme', 'basicauth']));
  });

  it('known keys include the header map placeholder', () => {
    expect(listKnownKeys(MiddlewareSchemas.headers)).toContainEqual(['customrequestheaders', '<name>']);
  });
});

describe('closestKey with map placeholders', () => {
  const known = listKnownKeys(MiddlewareSchemas.headers);

  it('extra level suggests the option', () => {
    expect(closestKey(['stsseconds', 'x'], known)).toEqual(['stsseconds']);
  });

  it('map name misspelled keeps the written entry name', () => {
    expect(closestKey(['customrequestheader', 'X-Trace'], known)).toEqual(['customrequestheaders', 'X-Trace']);
  });
});
