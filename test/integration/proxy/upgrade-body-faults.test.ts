// Upgrade requests with a body that the server rejects before reading it, or that the client leaves unfinished.
import { afterEach, expect, test } from 'vitest';

import { startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const running: Array<RawServer | InProcessBerth> = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map((item) => item.close()));
});

function upgradeHead(length: number): string {
  return `POST /exec/1/start HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${length}\r\n\r\n`;
}

test('401 before the body', async () => {
  const answered = new Set<RawConnection>();
  const server = await startRawServer((connection) => {
    if (splitHead(connection.received) !== undefined && !answered.has(connection)) {
      answered.add(connection);
      connection.socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno');
    }
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);
  clients.push(client);

  client.write(`${upgradeHead(100)}hello`);
  await client.waitFor(/\r\n\r\nno$/);
  expect(client.received).toMatch(/^HTTP\/1\.1 401 /);
  // The rest of the body is never read, so the connection closes and no later byte is taken for a request.
  client.write('GET /second HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
  await client.waitForClose();
  expect(client.received).toMatch(/\r\nConnection: close\r\n/);
  expect(client.received).not.toMatch(/HTTP\/1\.1 [^]*HTTP\/1\.1 /);
  expect(server.received()).not.toContain('/second');
  await server.waitFor(() => server.connections.every((connection) => connection.closed), 'the server connection to close');
});

test('client gone right after head', async () => {
  const server = await startRawServer();
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);

  client.write(`${upgradeHead(100)}hello`);
  client.close();

  await server.waitFor(() => berth.logs().some((line) => line.status === 499), 'the 499 log line');
  await server.waitFor(() => server.connections.every((connection) => connection.closed), 'the server connection to close');
});
