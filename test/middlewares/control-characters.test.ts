// Options that end up in a request target or a header field. Before the fix, an addprefix prefix of
// `/x\r\nEvil: 1` was accepted, and then every request through the router failed with 502
// UND_ERR_INVALID_ARG because undici refused the target.
import { describe, expect, it } from 'vitest';

import { createMiddleware } from '../../src/middlewares/registry.js';
import { checkNoControlCharacters, findControlCharacter } from '../../src/middlewares/request-target.js';

interface Case {
  desc: string;
  type: string;
  options: Record<string, unknown>;
  message: string;
}

const cases: Case[] = [
  { desc: 'addprefix prefix with CR LF', type: 'addprefix', options: { prefix: '/x\r\nEvil: 1' }, message: 'addprefix prefix "/x\\r\\nEvil: 1" is invalid: it contains the control character "\\r" at index 2' },
  { desc: 'addprefix prefix with NUL', type: 'addprefix', options: { prefix: '/x\u0000' }, message: 'addprefix prefix "/x\\u0000" is invalid' },
  { desc: 'stripprefix prefix with LF', type: 'stripprefix', options: { prefixes: ['/x\nEvil: 1'] }, message: 'stripprefix prefix "/x\\nEvil: 1" is invalid' },
  { desc: 'stripprefix prefix outside Latin-1', type: 'stripprefix', options: { prefixes: ['/☕'] }, message: 'stripprefix prefix value "/☕" of header "X-Forwarded-Prefix" is invalid' },
  { desc: 'replacepath path with CR', type: 'replacepath', options: { path: '/x\r' }, message: 'control character' },
  { desc: 'replacepathregex replacement with LF', type: 'replacepathregex', options: { regex: '^/(.*)', replacement: '/$1\nEvil: 1' }, message: 'replacePathRegex replacement "/$1\\nEvil: 1" is invalid' },
  { desc: 'redirectregex replacement with CR LF', type: 'redirectregex', options: { regex: '^http://(.*)', replacement: 'https://$1\r\nSet-Cookie: a=b' }, message: 'redirectRegex replacement' },
  { desc: 'errors query with LF', type: 'errors', options: { status: '500', service: 'pages', query: '/{status}\nx' }, message: 'errors query' },
  { desc: 'forwardauth address with LF', type: 'forwardauth', options: { address: 'http://auth:4181/\nverify' }, message: 'forwardauth address "http://auth:4181/\\nverify" is invalid' },
];

describe('middleware options with control characters', () => {
  for (const { desc, type, options, message } of cases) {
    it(`rejects ${desc}`, () => {
      const build = { resolveService: () => ({}) } as unknown as Parameters<typeof createMiddleware>[3];
      expect(() => createMiddleware(type, options, () => {}, build)).toThrow(message);
    });
  }

  it('accepts visible prefixes', () => {
    expect(() => createMiddleware('addprefix', { prefix: '/api/v1' })).not.toThrow();
    expect(() => createMiddleware('stripprefix', { prefixes: ['/app'] })).not.toThrow();
  });
});

describe('findControlCharacter', () => {
  it('names the first control character and its index', () => {
    expect(findControlCharacter('/a\tb\r')).toBe('"\\t" at index 2');
    expect(findControlCharacter('/a\u007f')).toBe(`${JSON.stringify('\u007f')} at index 2`);
  });

  it('returns undefined for visible text', () => {
    expect(findControlCharacter('/a b/ü')).toBeUndefined();
  });

  it('shortens a long value in the error', () => {
    const value = `/${'a'.repeat(1_000)}\n`;
    expect(() => checkNoControlCharacters('addprefix prefix', value)).toThrow(`…(1002 characters)`);
  });
});
