// Listener settings derived from an entry point's static configuration.
import { describe, expect, test } from 'vitest';

import { listenerSettings } from '../../src/entrypoints/from-config.js';
import { load } from '../config/helpers.js';

describe('listenerSettings', () => {
  test('defaults of a new entry point', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=127.0.0.1:8000'] });
    const settings = listenerSettings(config.entryPoints.web!);

    expect(settings.address).toBe('127.0.0.1:8000');
    expect(settings.timeouts).toEqual({ readTimeoutMs: 60_000, writeTimeoutMs: 0, idleTimeoutMs: 180_000 });
    expect(settings.http2).toEqual({ maxConcurrentStreams: 250, h2c: false });
    expect(settings.graceTimeOutMs).toBe(10_000);
    expect(settings.maxHeaderSize).toBe(16_384);
  });

  test('maxHeaderBytes sets the head limit', async () => {
    const config = await load({ argv: ['--entrypoints.web.address=:8000', '--entrypoints.web.http.maxheaderbytes=1048576'] });
    expect(listenerSettings(config.entryPoints.web!).maxHeaderSize).toBe(1_048_576);
  });
});
