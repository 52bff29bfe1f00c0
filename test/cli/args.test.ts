import { describe, expect, it } from 'vitest';
import { splitArgs, UsageError } from '../../src/cli/args.js';

const SPEC = { method: 'value', header: 'list', json: 'flag' } as const;

describe('splitArgs', () => {
  it('takes own options in both forms', () => {
    const args = splitArgs(['http://a/', '--method', 'PUT', '--header=X-A: 1', '--header', 'X-B: 2', '--json'], SPEC);
    expect(args.positionals).toEqual(['http://a/']);
    expect(args.values.get('method')).toBe('PUT');
    expect(args.lists.get('header')).toEqual(['X-A: 1', 'X-B: 2']);
    expect(args.flags.has('json')).toBe(true);
    expect(args.staticArgs).toEqual([]);
  });

  it('leaves static flags with their values', () => {
    const args = splitArgs(['--entrypoints.web.address', ':80', 'http://a/', '--providers.docker.exposedbydefault=false'], SPEC);
    expect(args.staticArgs).toEqual(['--entrypoints.web.address', ':80', '--providers.docker.exposedbydefault=false']);
    expect(args.positionals).toEqual(['http://a/']);
  });

  it('rejects a missing value', () => {
    expect(() => splitArgs(['--method'], SPEC)).toThrow(UsageError);
    expect(() => splitArgs(['--method', '--json'], SPEC)).toThrow('--method needs a value');
  });

  it('rejects a value on a flag', () => {
    expect(() => splitArgs(['--json=yes'], SPEC)).toThrow('takes no value');
  });
});
