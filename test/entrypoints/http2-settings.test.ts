// The HTTP/2 SETTINGS of the protocol servers are checked when the servers are built, and an error
// that node:http2 throws while setting up a session closes that connection instead of ending the process.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, test } from 'vitest';

import { createPriorKnowledgeServer, guardSessionSetup, type ProtocolServerOptions } from '../../src/entrypoints/protocol-servers.js';
import { EntryPoint } from '../../src/entrypoints/server.js';

function serverOptions(overrides: Partial<ProtocolServerOptions>): ProtocolServerOptions {
  return { headersTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxHeaderSize: 16_384, maxConcurrentStreams: 250, onSessionSetupError: () => undefined, ...overrides };
}

describe('HTTP/2 settings', () => {
  test('streams above 2^32-1 rejected at build', () => {
    expect(() => createPriorKnowledgeServer(serverOptions({ maxConcurrentStreams: 99_999_999_999 }))).toThrow(
      /invalid HTTP\/2 settings .*"maxConcurrentStreams":99999999999.*from 1 to 4294967295/,
    );
  });

  test('streams of 2^32-1 accepted', () => {
    expect(() => createPriorKnowledgeServer(serverOptions({ maxConcurrentStreams: 4_294_967_295 }))).not.toThrow();
  });

  test('entry point with invalid streams fails to build', () => {
    const build = () =>
      new EntryPoint({
        name: 'web',
        address: '127.0.0.1:0',
        logger: pino({ level: 'silent' }),
        http2: { maxConcurrentStreams: 99_999_999_999, h2c: true },
        handler: () => undefined,
      });
    expect(build).toThrow(/maxConcurrentStreams/);
  });
});

describe('guardSessionSetup', () => {
  test('setup error closes the connection', () => {
    const server = new EventEmitter();
    server.on('connection', () => {
      throw new RangeError('invalid setting');
    });
    const errors: unknown[] = [];
    guardSessionSetup(server, 'connection', (error) => errors.push(error));
    const socket = new PassThrough();

    expect(() => server.emit('connection', socket)).not.toThrow();
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('invalid setting');
    expect(socket.destroyed).toBe(true);
  });

  test('listener runs with the server as this', () => {
    const server = new EventEmitter();
    let self: unknown;
    server.on('secureConnection', function (this: unknown) {
      self = this;
    });
    guardSessionSetup(server, 'secureConnection', () => undefined);
    const socket = new PassThrough();
    server.emit('secureConnection', socket);

    expect(self).toBe(server);
    expect(socket.destroyed).toBe(false);
  });
});
