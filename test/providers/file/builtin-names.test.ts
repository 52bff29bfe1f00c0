// Dynamic file items and header names that are also properties of every JavaScript object. Before
// the fix, an item or header named `__proto__` replaced the prototype of its record and vanished.
import { describe, expect, it } from 'vitest';

import { mergeFileItems, toProviderConfig, type FileItems } from '../../../src/providers/file/build.js';
import { parseDynamicText } from '../../../src/providers/file/read.js';

function itemsOf(text: string, path = '/etc/berth/dynamic.yml'): FileItems {
  const result = parseDynamicText(text, path);
  if (result.items === undefined) throw new Error(result.error);
  return result.items;
}

const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'prototype'] as const;

describe('file items with built-in object names', () => {
  for (const name of NAMES) {
    it(`builds router, service, middleware and header ${name}`, () => {
      const items = itemsOf(`
http:
  routers:
    ${name}:
      rule: Host(\`x.localhost\`)
      service: ${name}
      middlewares: [${name}]
  services:
    ${name}:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:8080
  middlewares:
    ${name}:
      headers:
        customResponseHeaders:
          ${name}: one
`);
      const config = toProviderConfig(items);

      expect(Object.keys(config.routers)).toEqual([name]);
      expect(Object.keys(config.services)).toEqual([name]);
      expect(Object.keys(config.middlewares)).toEqual([name]);
      expect(Object.getOwnPropertyDescriptor(config.routers, name)?.value?.errors).toEqual([]);
      const options = Object.getOwnPropertyDescriptor(config.middlewares, name)?.value?.options as Record<string, Record<string, string>>;
      expect(Object.entries(options['customResponseHeaders'] ?? {})).toEqual([[name, 'one']]);
    });
  }

  it('reports constructor defined in two files', () => {
    const text = `
http:
  routers:
    constructor:
      rule: Host(\`x.localhost\`)
      service: s
`;
    const merged = mergeFileItems([itemsOf(text, '/a.yml'), itemsOf(text, '/b.yml')]);

    expect(merged.routers['constructor']?.warnings).toEqual([expect.stringContaining('router "constructor" is defined again in file /b.yml')]);
  });

  it('reports toString defined once as unique', () => {
    const merged = mergeFileItems([itemsOf('http:\n  routers:\n    toString:\n      rule: Host(`x.localhost`)\n      service: s\n')]);

    expect(merged.routers['toString']?.warnings).toEqual([]);
  });
});
