import { describe, expect, test } from 'vitest';

import { staticConfigHelp } from '../../src/config/index.js';
import { listOptions } from '../../src/config/option-tree.js';
import { closestOption, editDistance } from '../../src/config/key-names.js';

describe('staticConfigHelp', () => {
  const help = staticConfigHelp();

  test('lists every option', () => {
    for (const { segments } of listOptions()) {
      const flag = `--${segments.join('.').toLowerCase()}`;
      const env = `BERTH_${segments.join('_').toUpperCase()}`;
      expect(help).toContain(flag);
      expect(help).toContain(env);
    }
  });

  test('shows defaults', () => {
    expect(help).toMatch(/--providers\.docker\.exposedbydefault\[=true\|false\]\n.*\n.*default: true/);
    expect(help).toMatch(/--log\.level=LEVEL\n.*\n.*default: info/);
    expect(help).toContain('default: $DOCKER_HOST if set, else unix:///var/run/docker.sock');
    expect(help).toContain('default: Host(`{{ normalize .Name }}`)');
  });

  // Observed: `default: 90s (capped at 1s)` after the cap became 0.9 s, while the description gives 0.9 s.
  // Expected: the default names the cap that applies.
  test('shows idle connection cap', () => {
    expect(help).toMatch(/--serverstransport\.forwardingtimeouts\.idleconntimeout=DURATION\n.*\n.*default: 90s \(capped at 0\.9s\)/);
  });

  test('names item placeholders', () => {
    expect(help).toContain('--entrypoints.<name>.address=ADDRESS');
    expect(help).toContain('BERTH_ENTRYPOINTS_<NAME>_ADDRESS');
    expect(help).toContain('YAML entryPoints.<name>.address');
  });

  test('marks flag-only options', () => {
    expect(help).toMatch(/--configfile=TEXT\n.*\n.*env BERTH_CONFIGFILE; not in the YAML file/);
  });
});

describe('suggestions', () => {
  test('editDistance counts swaps once', () => {
    expect(editDistance('docker', 'dokcer')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  test('closestOption fills item names', () => {
    expect(closestOption(['entrypoint', 'websecure', 'address'])).toEqual(['entryPoints', 'websecure', 'address']);
  });

  test('closestOption ignores distant keys', () => {
    expect(closestOption(['foo'])).toBeUndefined();
    expect(closestOption(['certificatesresolvers', 'le', 'acme', 'email'])).toBeUndefined();
  });
});
