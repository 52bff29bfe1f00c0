// The trailer fields passed on in either direction. Before, a field named `__proto__` that came twice
// made forwardedTrailers throw, because a plain `{}` found Object.prototype under that name and the
// relay called `push` on it, and serverTrailers replaced its record's prototype instead of keeping it.
import { describe, expect, test } from 'vitest';

import { announcedTrailers, forwardedTrailers, isForwardedTrailer, serverTrailers } from '../../src/proxy/trailers.js';

describe('forwardedTrailers', () => {
  test('repeated lines become a list', () => {
    expect(forwardedTrailers({ 'x-checksum': ['a', 'b'] }, new Set(), false)).toEqual({ 'x-checksum': ['a', 'b'] });
  });

  test('forbidden and excluded fields dropped', () => {
    const fields = forwardedTrailers({ 'content-length': '5', 'x-hop': '1', 'if-match': '"a"', 'x-kept': 'yes' }, new Set(['x-hop']), false);

    expect(fields).toEqual({ 'x-kept': 'yes' });
  });

  test('nothing left is undefined', () => {
    expect(forwardedTrailers({ host: 'a.test' }, new Set(), false)).toBeUndefined();
  });

  test('field named __proto__ kept', () => {
    const trailers = JSON.parse('{"__proto__": ["a", "b"]}') as Record<string, string[]>;
    const fields = forwardedTrailers(trailers, new Set(), false);

    expect(Object.hasOwn(fields ?? {}, '__proto__')).toBe(true);
    expect(fields?.['__proto__']).toEqual(['a', 'b']);
  });
});

describe('serverTrailers', () => {
  test('h2c trailer object read', () => {
    const raw = JSON.parse('{":status": "200", "x-checksum": "abc", "__proto__": ["a"]}') as Record<string, unknown>;
    const fields = serverTrailers({ rawTrailers: raw as unknown as string[] }, {});

    expect(fields['x-checksum']).toBe('abc');
    expect(Object.hasOwn(fields, ':status')).toBe(false);
    expect(Object.hasOwn(fields, '__proto__')).toBe(true);
  });

  test('parsed trailers preferred', () => {
    expect(serverTrailers({ rawTrailers: [] }, { 'x-a': '1' })).toEqual({ 'x-a': '1' });
  });
});

describe('announcedTrailers', () => {
  test('forbidden names removed', () => {
    expect(announcedTrailers('x-checksum, content-length, X-Hop', new Set(['x-hop']))).toBe('x-checksum');
  });

  test('if- fields not forwarded', () => {
    expect(isForwardedTrailer('If-None-Match', new Set())).toBe(false);
  });
});
