import { describe, expect, it } from 'vitest';

import { MAX_QUOTED_LENGTH, quoteOptionValue, quoteValue, truncateValue } from '../src/quote.js';

describe('truncateValue', () => {
  it('keeps a short value', () => {
    expect(truncateValue('Host(`a`)')).toBe('Host(`a`)');
    expect(truncateValue('x'.repeat(MAX_QUOTED_LENGTH))).toBe('x'.repeat(MAX_QUOTED_LENGTH));
  });

  it('cuts a long value and gives its length', () => {
    expect(truncateValue('x'.repeat(40_786))).toBe(`${'x'.repeat(200)}…(40786 characters)`);
  });

  it('counts characters, not UTF-16 units', () => {
    const value = '☕'.repeat(150) + '𝄞'.repeat(50);

    expect(truncateValue(value)).toBe(value);
    expect(truncateValue(`${value}𝄞`)).toBe(`${value}…(201 characters)`);
  });
});

describe('quoteValue', () => {
  it('quotes the shortened value', () => {
    expect(quoteValue('abc')).toBe('"abc"');
    expect(quoteValue('abcdef', 3)).toBe('"abc…(6 characters)"');
  });

  // Before, a CR or LF in a value was printed raw and broke the message across lines.
  it('escapes as JSON', () => {
    expect(quoteValue('a b;\r\nx')).toBe('"a b;\\r\\nx"');
    expect(quoteValue('say "hi" \\d')).toBe('"say \\"hi\\" \\\\d"');
  });
});

describe('quoteOptionValue', () => {
  it('quotes strings only', () => {
    expect(quoteOptionValue('https')).toBe('"https"');
    expect(quoteOptionValue(443)).toBe('443');
    expect(quoteOptionValue(['a', 'b'])).toBe('["a","b"]');
  });

  it('shortens JSON text', () => {
    expect(quoteOptionValue(['x'.repeat(10)], 3)).toBe('["x…(14 characters)');
  });
});
