// An upgrade request with a body, such as Docker's `POST /exec/{id}/start` with `Upgrade: tcp` and a
// JSON body: the server receives the body with its Content-Length before it responds, and only the
// bytes after the body go through the tunnel. An upgrade request with a chunked body is rejected.
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, expect, test } from 'vitest';

import { startInProcessBerth, type InProcessBerth } from './harness.js';
import { contentLength, RawClient, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const running: Array<RawServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const BODY = '{"Detach":false,"Tty":true}';

function upgradeHead(length: number): string {
  return `POST /exec/1/start HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
}

/** What the server read as the request body, and what it received through the tunnel after its 101. */
interface Exchange {
  head: string;
  body: string;
  tunnel: string;
}

/**
 * Starts a server that reads the request body by its Content-Length, as dockerd does, then switches
 * to `tcp` and echoes what follows, and Berth in front of it.
 */
async function start(): Promise<{ berth: InProcessBerth; server: RawServer; exchanges: Map<RawConnection, Exchange> }> {
  const exchanges = new Map<RawConnection, Exchange>();
  const server = await startRawServer((connection) => {
    const known = exchanges.get(connection);
    if (known !== undefined) {
      if (known.body.length >= contentLength(known.head)) {
        const fresh = connection.received.slice(known.head.length + known.body.length + known.tunnel.length);
        known.tunnel += fresh;
        connection.socket.write(`echo:${fresh}`);
      }
      return;
    }
    const split = splitHead(connection.received);
    if (split === undefined) return;
    const length = contentLength(split.head);
    if (split.rest.length < length) return;
    const exchange = { head: split.head, body: split.rest.slice(0, length), tunnel: split.rest.slice(length) };
    exchanges.set(connection, exchange);
    connection.socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    if (exchange.tunnel !== '') connection.socket.write(`echo:${exchange.tunnel}`);
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url] });
  running.push(berth);
  return { berth, server, exchanges };
}

test('body and tunnel bytes in one write', async () => {
  const { berth, server, exchanges } = await start();
  const client = await RawClient.connect(berth.port);
  client.write(`${upgradeHead(BODY.length)}${BODY}stdin-1`);

  await client.waitFor(/101 [\s\S]*echo:stdin-1/);
  // Observed: the server got `content-length: 0` and read no body, and the JSON body went through
  // the tunnel ahead of stdin-1. Expected: the body with its Content-Length, then only stdin-1.
  await server.waitFor(() => [...exchanges.values()].some((exchange) => exchange.tunnel === 'stdin-1'), 'stdin-1 through the tunnel');
  const [exchange] = [...exchanges.values()];
  expect(exchange?.head).toMatch(new RegExp(`\\r\\ncontent-length: ${BODY.length}\\r\\n`, 'i'));
  expect(exchange?.body).toBe(BODY);
  client.close();
});

test('body sent in pieces after the head', async () => {
  const { berth, server, exchanges } = await start();
  const client = await RawClient.connect(berth.port);
  client.write(upgradeHead(BODY.length));
  await sleep(50);
  client.write(BODY.slice(0, 10));
  await sleep(50);
  client.write(`${BODY.slice(10)}stdin-2`);

  await client.waitFor(/101 [\s\S]*echo:stdin-2/);
  await server.waitFor(() => [...exchanges.values()].some((exchange) => exchange.tunnel === 'stdin-2'), 'stdin-2 through the tunnel');
  const [exchange] = [...exchanges.values()];
  expect(exchange?.body).toBe(BODY);

  client.write('stdin-3');
  await client.waitFor(/echo:stdin-3/);
  client.close();
});

test('chunked upgrade request gets 400', async () => {
  const { berth, server } = await start();
  const client = await RawClient.connect(berth.port);
  const chunk = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
  client.write(`POST /exec/1/start HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);

  // Observed: the server got `content-length: 0`, then the chunks through the tunnel after its 101.
  // Expected: 400, because node:http does not parse the chunks of an upgrade request.
  await client.waitForClose();
  expect(client.received).toMatch(/^HTTP\/1\.1 400 /);
  expect(server.received()).toBe('');
});

test('101 before the whole body is 502', async () => {
  // A server that switches as soon as it has the head, without reading the body.
  const switched = new Set<RawConnection>();
  const server = await startRawServer((connection) => {
    if (splitHead(connection.received) !== undefined && !switched.has(connection)) {
      switched.add(connection);
      connection.socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    }
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);
  client.write(`${upgradeHead(BODY.length)}${BODY.slice(0, 5)}`);

  // Berth cannot separate the rest of the body from the tunnel's bytes, which arrive on the same socket.
  await client.waitForClose();
  expect(client.received).toMatch(/^HTTP\/1\.1 502 /);
  await server.waitFor(() => server.connections.every((connection) => connection.closed), 'the server connection to close');
});

test('client gone mid-body closes server', async () => {
  const { berth, server } = await start();
  const client = await RawClient.connect(berth.port);
  client.write(`${upgradeHead(BODY.length)}${BODY.slice(0, 5)}`);
  await server.waitFor(() => server.received().includes(BODY.slice(0, 5)), 'the start of the body');

  client.close();
  await server.waitFor(() => server.connections.every((connection) => connection.closed), 'the server connection to close');
});
