import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, test } from 'vitest';

import { InFlightResponses } from '../../src/entrypoints/in-flight.js';

/** Returns a stand-in response that has the one thing the list uses, the 'close' event. */
function fakeResponse(): ServerResponse {
  return new EventEmitter() as unknown as ServerResponse;
}

function visited(list: InFlightResponses): ServerResponse[] {
  const responses: ServerResponse[] = [];
  list.forEach((response) => responses.push(response));
  return responses;
}

describe('InFlightResponses', () => {
  test('holds a response until it closes', () => {
    const list = new InFlightResponses();
    const response = fakeResponse();
    list.track(response);
    expect(visited(list)).toEqual([response]);
    response.emit('close');
    expect(list.size).toBe(0);
  });

  test('keeps others in any close order', () => {
    const list = new InFlightResponses();
    const responses = Array.from({ length: 6 }, fakeResponse);
    for (const response of responses) list.track(response);

    for (const index of [0, 4, 2]) responses[index]?.emit('close');
    expect(new Set(visited(list))).toEqual(new Set([responses[1], responses[3], responses[5]]));

    for (const index of [5, 1, 3]) responses[index]?.emit('close');
    expect(list.size).toBe(0);
  });

  test('ignores a repeated close', () => {
    const list = new InFlightResponses();
    const [first, second] = [fakeResponse(), fakeResponse()];
    list.track(first);
    list.track(second);
    first.emit('close');
    first.emit('close');
    expect(visited(list)).toEqual([second]);
  });

  test('allows closing during forEach', () => {
    const list = new InFlightResponses();
    const responses = Array.from({ length: 4 }, fakeResponse);
    for (const response of responses) list.track(response);
    const seen: ServerResponse[] = [];
    list.forEach((response) => {
      seen.push(response);
      response.emit('close');
    });
    expect(new Set(seen)).toEqual(new Set(responses));
    expect(list.size).toBe(0);
  });
});
