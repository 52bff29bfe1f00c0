import { describe, expect, it } from 'vitest';

import { applyServingV8Flags, servingV8Flags } from '../../src/cli/v8-flags.js';

const FLAGS = ['--scavenger-max-new-space-capacity-mb=2', '--no-concurrent-array-buffer-sweeping'];

describe('servingV8Flags', () => {
  it('sets both flags on V8 13+', () => {
    expect(servingV8Flags('13.6.233.17-node.63')).toEqual(FLAGS);
    expect(servingV8Flags('14.1.0')).toEqual(FLAGS);
  });

  it('sets nothing on older or unknown V8 versions', () => {
    expect(servingV8Flags('11.3.244.8-node.38')).toEqual([]);
    expect(servingV8Flags('12.4.254.21-node.33')).toEqual([]);
    expect(servingV8Flags('')).toEqual([]);
  });
});

describe('applyServingV8Flags', () => {
  it('keeps a value given on the command line', () => {
    const setOnCommandLine = ['--scavenger-max-new-space-capacity-mb=8', '--concurrent-array-buffer-sweeping'];
    expect(applyServingV8Flags('13.6.233.17-node.63', setOnCommandLine)).toEqual([]);
    expect(applyServingV8Flags('13.6.233.17-node.63', ['--scavenger_max_new_space_capacity_mb=8', '--no_concurrent_array_buffer_sweeping'])).toEqual([]);
  });

  it('applies nothing on V8 11', () => {
    expect(applyServingV8Flags('11.3.244.8-node.38', [])).toEqual([]);
  });

  it('sets the flags of this V8', () => {
    expect(applyServingV8Flags(process.versions.v8, [])).toEqual(servingV8Flags(process.versions.v8));
  });
});
