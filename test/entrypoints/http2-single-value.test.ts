// Folding of repeated single-value fields before an HTTP/2 response head. Node.js's http2 module throws
// on such a field, which gave HTTP/2 clients a 502 or a bare RST_STREAM where HTTP/1.1 clients got the page.
import http2 from 'node:http2';

import { describe, expect, test } from 'vitest';

import { foldSingleValueFields, repeatsSingleValueField } from '../../src/entrypoints/http2-single-value.js';

describe('foldSingleValueFields', () => {
  const cases: Array<{ desc: string; list: string[]; expected: string[] }> = [
    { desc: 'keeps the first Date', list: ['Date', 'd1', 'Date', 'd2'], expected: ['Date', 'd1'] },
    { desc: 'keeps the first Content-Type', list: ['Content-Type', 'text/html', 'X-A', '1', 'content-type', 'text/plain'], expected: ['Content-Type', 'text/html', 'X-A', '1'] },
    { desc: 'keeps the first Location', list: ['Location', '/a', 'Location', '/b'], expected: ['Location', '/a'] },
    { desc: 'keeps the first X-Content-Type-Options', list: ['X-Content-Type-Options', 'nosniff', 'X-Content-Type-Options', 'nosniff'], expected: ['X-Content-Type-Options', 'nosniff'] },
    { desc: 'joins Content-Encoding in order', list: ['Content-Encoding', 'gzip', 'X-A', '1', 'Content-Encoding', 'br'], expected: ['Content-Encoding', 'gzip, br', 'X-A', '1'] },
    { desc: 'joins Content-Language', list: ['Content-Language', 'en', 'Content-Language', 'de'], expected: ['Content-Language', 'en, de'] },
    { desc: 'keeps every Set-Cookie', list: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], expected: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'] },
    { desc: 'keeps other repeated fields', list: ['X-Other', 'v1', 'X-Other', 'v2'], expected: ['X-Other', 'v1', 'X-Other', 'v2'] },
  ];
  for (const { desc, list, expected } of cases) {
    test(desc, () => {
      expect(foldSingleValueFields(list)).toEqual(expected);
    });
  }
});

describe('repeatsSingleValueField', () => {
  test('flat list with repeated ETag', () => {
    expect(repeatsSingleValueField(['ETag', '"a"', 'etag', '"b"'])).toBe(true);
  });

  test('flat list without repeats', () => {
    expect(repeatsSingleValueField(['ETag', '"a"', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])).toBe(false);
  });

  test('object with an array value', () => {
    const headers: Record<string, string[]> = { date: ['d1', 'd2'] };
    expect(repeatsSingleValueField(headers)).toBe(true);
  });

  test('object with keys differing in case', () => {
    expect(repeatsSingleValueField({ Location: '/a', location: '/b' })).toBe(true);
  });

  test('object with one value each', () => {
    expect(repeatsSingleValueField({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] })).toBe(false);
  });
});

describe('single-value field list', () => {
  // Node.js's own list, read by sending each known field twice: a field added to it in a later
  // Node.js release fails here instead of failing HTTP/2 responses.
  test('covers every field Node.js rejects', async () => {
    const server = http2.createServer();
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    await new Promise((resolve) => session.once('connect', resolve));

    const rejected: string[] = [];
    for (const [constant, name] of Object.entries(http2.constants)) {
      if (!constant.startsWith('HTTP2_HEADER_') || typeof name !== 'string' || name.startsWith(':')) continue;
      try {
        session.request({ ':path': '/', [name]: ['a', 'b'] }).close();
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_HTTP2_HEADER_SINGLE_VALUE') rejected.push(name);
      }
    }
    session.destroy();
    server.close();

    expect(rejected.length).toBeGreaterThan(20);
    for (const name of rejected) {
      expect(repeatsSingleValueField([name, 'a', name, 'b']), name).toBe(true);
    }
  });
});
