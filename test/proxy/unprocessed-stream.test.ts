// Recognizing h2c requests that the server did not process, against a real undici H2CClient and a
// node:http2 server. A failing check here after an undici upgrade means the session is no longer found.
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';

import { H2CClient, type Dispatcher } from 'undici';
import { afterEach, expect, test } from 'vitest';

import { isRefusedStream, requestNotProcessed, requestStream, type RequestStream } from '../../src/proxy/unprocessed-stream.js';
import { LOOPBACK } from './harness.js';

const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Starts an h2c server that handles each stream with `handle`, and a client for it. */
async function start(handle: (stream: http2.ServerHttp2Stream) => void): Promise<{ client: H2CClient; origin: string }> {
  const server = http2.createServer();
  server.on('session', (session) => session.on('error', () => undefined));
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    handle(stream);
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const origin = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  const client = new H2CClient(origin);
  cleanups.push(() => client.destroy(), () => void server.close());
  return { client, origin };
}

interface Result {
  stream: RequestStream | undefined;
  error: Error | undefined;
}

/** Sends `GET path` and returns the stream that `requestStream` found for it and the error it failed with. */
async function request(client: H2CClient, origin: string, path: string): Promise<Result> {
  const result: Result = { stream: undefined, error: undefined };
  const onSendHeaders = (message: unknown): void => {
    const { request: sent, socket } = message as { request: { path: string }; socket: Socket };
    if (sent.path === path) result.stream = requestStream(socket);
  };
  diagnosticsChannel.subscribe('undici:client:sendHeaders', onSendHeaders);
  try {
    await new Promise<void>((resolve) => {
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: () => undefined,
        onResponseData: () => undefined,
        onResponseEnd: () => resolve(),
        onResponseError: (_controller, error) => {
          result.error = error;
          resolve();
        },
      };
      client.dispatch({ origin, path, method: 'GET', headers: [] }, handler);
    });
  } finally {
    diagnosticsChannel.unsubscribe('undici:client:sendHeaders', onSendHeaders);
  }
  return result;
}

test('stream identifiers of one session', async () => {
  const { client, origin } = await start((stream) => {
    stream.respond({ ':status': 200 });
    stream.end();
  });

  const first = await request(client, origin, '/one');
  const second = await request(client, origin, '/two');

  expect(first.stream?.id).toBe(1);
  expect(second.stream?.id).toBe(3);
  expect(second.stream?.session).toBe(first.stream?.session);
});

test('refused stream not processed', async () => {
  const { client, origin } = await start((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));

  const { error } = await request(client, origin, '/refused');

  expect(isRefusedStream(error)).toBe(true);
  expect(requestNotProcessed(undefined, error)).toBe(true);
});

test('INTERNAL_ERROR reset counts as processed', async () => {
  const { client, origin } = await start((stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));

  const { stream, error } = await request(client, origin, '/broken');

  expect(error).toBeDefined();
  expect(isRefusedStream(error)).toBe(false);
  expect(requestNotProcessed(stream, error)).toBe(false);
});

test('GOAWAY below the stream', async () => {
  // The server processes stream 1 and sends GOAWAY with last-stream-id 1 when stream 3 arrives.
  const { client, origin } = await start((stream) => {
    if (stream.id === 1) {
      stream.respond({ ':status': 200 });
      stream.end();
      return;
    }
    stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
  });

  await request(client, origin, '/warm');
  const below = await request(client, origin, '/below');

  expect(below.stream?.id).toBe(3);
  expect(below.stream?.session.goawayLastStreamId).toBe(1);
  expect(below.error).toBeDefined();
  expect(requestNotProcessed(below.stream, below.error)).toBe(true);

  // The same error for a stream at the last-stream-id, which the server may have processed.
  const processed: RequestStream = { id: 1, session: { goawayLastStreamId: 1 }, reset: () => undefined };
  expect(requestNotProcessed(processed, below.error)).toBe(false);
});
