// addPrefix and the escapes of its prefix. Before the fix, prefix=/a b and prefix=/€ were sent
// unescaped, so every request got 502 (undici rejected the target), prefix=/ü got 400 from the
// server, and prefix=/a%zz forwarded an escape that the entry point rejects from a client.
import { describe, expect, it } from 'vitest';

import { createAddPrefix } from '../../src/middlewares/addprefix.js';
import { contextFor, runMiddleware } from './header-context.js';

async function urlAfter(prefix: string, url: string): Promise<string | undefined> {
  const context = contextFor({ url });
  const outcome = await runMiddleware(createAddPrefix({ prefix }), context);
  expect(outcome.reachedServer).toBe(true);
  return context.request.url;
}

interface EscapeCase {
  desc: string;
  prefix: string;
  expected: string;
}

const escapeCases: EscapeCase[] = [
  { desc: 'space', prefix: '/a b', expected: '/a%20b/x?q=1' },
  { desc: 'character outside Latin-1', prefix: '/€', expected: '/%E2%82%AC/x?q=1' },
  { desc: 'Latin-1 letter', prefix: '/ü', expected: '/%C3%BC/x?q=1' },
  { desc: 'question mark', prefix: '/a?b', expected: '/a%3Fb/x?q=1' },
  { desc: 'number sign', prefix: '/a#b', expected: '/a%23b/x?q=1' },
  { desc: 'valid escape kept', prefix: '/a%2Fb', expected: '/a%2Fb/x?q=1' },
  { desc: 'relative prefix with a space', prefix: 'a b', expected: '/a%20b/x?q=1' },
  { desc: 'sub-delimiters kept', prefix: "/a:b@c!$&'()*+,;=", expected: "/a:b@c!$&'()*+,;=/x?q=1" },
];

describe('addPrefix escapes', () => {
  for (const { desc, prefix, expected } of escapeCases) {
    it(`escapes ${desc}`, async () => {
      expect(await urlAfter(prefix, '/x?q=1')).toBe(expected);
    });
  }

  it('rejects an invalid escape', () => {
    expect(() => createAddPrefix({ prefix: '/a%zz' })).toThrow('addprefix prefix "/a%zz" is invalid: invalid escape "%zz": a "%" must be followed by two hex digits; write %25 for a literal "%"');
  });

  it('rejects a trailing percent sign', () => {
    expect(() => createAddPrefix({ prefix: '/100%' })).toThrow(/addprefix prefix "\/100%" is invalid: invalid escape "%"/);
  });

  it('accepts an escaped percent sign', async () => {
    expect(await urlAfter('/100%25', '/x')).toBe('/100%25/x');
  });
});
