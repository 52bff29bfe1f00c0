import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { MAX_WAITING_REQUESTS, PAUSE_AT_WAITING_REQUESTS, servePipelined } from '../../src/entrypoints/pipeline.js';

/** A connection stand-in that counts pause() and resume() calls. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  pauses = 0;
  resumes = 0;
  pause(): this {
    this.pauses += 1;
    return this;
  }
  resume(): this {
    this.resumes += 1;
    return this;
  }
}

/** Returns a response stand-in. Emitting 'close' on it ends its request's turn. */
function fakeResponse(): ServerResponse & EventEmitter {
  return new EventEmitter() as ServerResponse & EventEmitter;
}

describe('servePipelined', () => {
  it('pauses and resumes reading', () => {
    const socket = new FakeSocket();
    const responses = Array.from({ length: PAUSE_AT_WAITING_REQUESTS + 1 }, fakeResponse);
    const started: number[] = [];
    responses.forEach((response, index) => servePipelined(socket as unknown as Socket, response, () => started.push(index)));

    expect(started).toEqual([0]);
    expect(socket.pauses).toBe(1);

    responses[0]?.emit('close');
    expect(started).toEqual([0, 1]);
    expect(socket.resumes).toBe(1);
  });

  it('drops requests beyond the limit', () => {
    const socket = new FakeSocket();
    const responses = Array.from({ length: MAX_WAITING_REQUESTS + 3 }, fakeResponse);
    const turns = responses.map((response) => servePipelined(socket as unknown as Socket, response, () => undefined));

    expect(turns.filter((turn) => turn === 'rejected')).toHaveLength(2);
    for (const response of responses.slice(0, MAX_WAITING_REQUESTS)) response.emit('close');
    const lastKept = responses[MAX_WAITING_REQUESTS] as unknown as { shouldKeepAlive?: boolean };
    expect(lastKept.shouldKeepAlive).toBe(false);
    const beforeLast = responses[MAX_WAITING_REQUESTS - 1] as unknown as { shouldKeepAlive?: boolean };
    expect(beforeLast.shouldKeepAlive).toBeUndefined();
  });
});
