import { describe, expect, it } from 'vitest';

import { copyDictionary, createDictionary, getOwn, hasOwn, setOwn } from '../src/dictionary.js';

describe('dictionary records', () => {
  it('stores __proto__ as an ordinary key', () => {
    const record = createDictionary([['__proto__', 1]]);

    expect(Object.keys(record)).toEqual(['__proto__']);
    expect(getOwn(record, '__proto__')).toBe(1);
  });

  it('finds nothing inherited', () => {
    const record = createDictionary<number>();

    expect(getOwn(record, 'constructor')).toBeUndefined();
    expect(record['toString']).toBeUndefined();
  });

  it('guards lookups in records built as {}', () => {
    const plain: Record<string, number> = { web: 1 };

    expect(getOwn(plain, 'constructor')).toBeUndefined();
    expect(hasOwn(plain, 'hasOwnProperty')).toBe(false);
    expect(getOwn(plain, 'web')).toBe(1);
  });

  it('sets __proto__ as an own key of a plain record', () => {
    const plain: Record<string, number> = {};
    setOwn(plain, '__proto__', 2);

    expect(Object.keys(plain)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
  });

  it('copies own entries only', () => {
    const copy = copyDictionary(JSON.parse('{"__proto__": "a", "b": "c"}') as Record<string, string>);

    expect(Object.entries(copy)).toEqual([
      ['__proto__', 'a'],
      ['b', 'c'],
    ]);
    expect(Object.getPrototypeOf(copy)).toBeNull();
  });
});
