import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { MAX_WAITING_REQUESTS, PAUSE_AT_WAITING_REQUESTS, serveMalformed, servePipelined } from '../../src/entrypoints/pipeline.js';

/** A connection stand-in that counts pause(), resume() and _read() calls. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  pauses = 0;
  resumes = 0;
  reads = 0;
  pause(): this {
    this.pauses += 1;
    return this;
  }
  resume(): this {
    this.resumes += 1;
    return this;
  }
  _read(): void {
    this.reads += 1;
  }
}

/** Returns a response stand-in. Emitting 'close' on it ends its request's turn. */
function fakeResponse(requestComplete = true): ServerResponse & EventEmitter {
  return Object.assign(new EventEmitter(), { req: { complete: requestComplete } }) as unknown as ServerResponse & EventEmitter;
}

/** Queues one request per response on `socket` and returns the indexes of those started, in order. */
function queue(socket: FakeSocket, responses: ServerResponse[]): number[] {
  const started: number[] = [];
  responses.forEach((response, index) => servePipelined(socket as unknown as Socket, response, () => started.push(index)));
  return started;
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

  it('restarts reading for an upgrade', () => {
    const socket = new FakeSocket();
    const responses = Array.from({ length: PAUSE_AT_WAITING_REQUESTS + 1 }, () => fakeResponse());
    queue(socket, responses);
    let upgraded = false;

    servePipelined(socket as unknown as Socket, undefined, () => (upgraded = true));
    expect(socket.reads).toBe(1);
    for (const response of responses) response.emit('close');

    expect(upgraded).toBe(true);
    // resume() would make the stream flow before the upgrade handler listens to it.
    expect(socket.resumes).toBe(0);
  });

  it('resumes an ending connection', () => {
    const socket = new FakeSocket();
    const responses = Array.from({ length: PAUSE_AT_WAITING_REQUESTS + 1 }, () => fakeResponse());
    const started = queue(socket, responses);
    expect(socket.pauses).toBe(1);

    socket.writableEnded = true;
    responses[0]?.emit('close');

    expect(started).toEqual([0]);
    expect(socket.resumes).toBe(1);
    // The connection stays busy, so a request parsed before it closes does not start.
    expect(servePipelined(socket as unknown as Socket, fakeResponse(), () => started.push(-1))).toBe('waiting');
    expect(started).toEqual([0]);
  });
});

describe('serveMalformed', () => {
  it('waits for earlier requests', () => {
    const socket = new FakeSocket();
    const responses = [fakeResponse(), fakeResponse()];
    const started = queue(socket, responses);

    expect(serveMalformed(socket as unknown as Socket, () => started.push(-1))).toBe('waiting');
    responses[0]?.emit('close');
    expect(started).toEqual([0, 1]);
    responses[1]?.emit('close');

    expect(started).toEqual([0, 1, -1]);
  });

  it('takes the turn of a waiting body', () => {
    const socket = new FakeSocket();
    const responses = [fakeResponse(), fakeResponse(false)];
    const started = queue(socket, responses);

    serveMalformed(socket as unknown as Socket, () => started.push(-1));
    responses[0]?.emit('close');

    expect(started).toEqual([0, -1]);
  });

  it('answers the served body at once', () => {
    const socket = new FakeSocket();
    const started = queue(socket, [fakeResponse(false)]);

    expect(serveMalformed(socket as unknown as Socket, () => started.push(-1))).toBe('started');

    expect(started).toEqual([0, -1]);
  });
});
