// Local servers and clients for the proxy tests. Everything listens on 127.0.0.1 with ephemeral ports.
import { once } from 'node:events';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { createForwarder, type ForwarderOptions, type TunnelingForwarder } from '../../src/proxy/forwarder.js';
import type { ForwardContext, ForwardOutcome, Upstream } from '../../src/proxy/types.js';
import { createUpgradeResponse } from '../../src/proxy/upgrade-response.js';

export const LOOPBACK = '127.0.0.1';

export const CONTEXT: ForwardContext = { entryPoint: 'web', scheme: 'http', serverName: 'berth-test' };

export interface RunningServer {
  server: http.Server;
  port: number;
  url: URL;
  close(): Promise<void>;
}

/** Starts a node:http server on an ephemeral loopback port. */
export async function startServer(handler: RequestListener, options: http.ServerOptions = {}): Promise<RunningServer> {
  const server = http.createServer(options, handler);
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: new URL(`http://${LOOPBACK}:${port}`),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Returns a loopback port on which nothing listens: it was bound and released again. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningProxy extends RunningServer {
  forwarder: TunnelingForwarder;
  /** Outcomes of `forward` and `forwardUpgrade`, in completion order. */
  outcomes: ForwardOutcome[];
  /** Resolves with the oldest outcome not returned yet, waiting for one to settle if needed. */
  nextOutcome(): Promise<ForwardOutcome>;
}

export interface ProxyOptions {
  forwarder?: ForwarderOptions;
  /** Options of the proxy's own node:http server. */
  server?: http.ServerOptions;
  passHostHeader?: boolean;
}

/** Starts a proxy server whose request handler calls `forward`, and whose 'upgrade' handler calls `forwardUpgrade`. */
export async function startProxy(target: URL, options: ProxyOptions = {}): Promise<RunningProxy> {
  const forwarder = createForwarder(options.forwarder);
  const upstream: Upstream = { url: target, passHostHeader: options.passHostHeader ?? true };
  const outcomes: ForwardOutcome[] = [];
  const waiters: ((outcome: ForwardOutcome) => void)[] = [];
  let consumed = 0;
  const record = (outcome: ForwardOutcome): void => {
    outcomes.push(outcome);
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      consumed += 1;
      waiter(outcome);
    }
  };
  const nextOutcome = (): Promise<ForwardOutcome> => {
    const ready = outcomes[consumed];
    if (ready !== undefined) {
      consumed += 1;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => waiters.push(resolve));
  };

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    void forwarder.forward(request, response, upstream, CONTEXT).then(record);
  };
  const running = await startServer(handler, options.server);
  // As Berth's entry points do, leaves `100 Continue` to the forwarder.
  running.server.on('checkContinue', handler);
  running.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // As Berth's dispatcher does, binds a stand-in response to the socket for every response but the tunnel.
    void forwarder.forwardUpgrade(request, createUpgradeResponse(request, socket), socket, head, upstream, CONTEXT).then(record);
  });

  return {
    ...running,
    forwarder,
    outcomes,
    nextOutcome,
    async close() {
      await running.close();
      await forwarder.close();
    },
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** Sends one request over a fresh connection and reads the whole response. */
export async function send(port: number, options: http.RequestOptions & { body?: string | Buffer } = {}): Promise<SimpleResponse> {
  const { body, ...requestOptions } = options;
  const request = http.request({ host: LOOPBACK, port, agent: false, ...requestOptions });
  request.end(body);
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
  }
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    rawHeaders: response.rawHeaders,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/** Writes raw bytes on a new connection and returns everything the peer sends until it closes the connection. */
export async function sendRaw(port: number, bytes: string): Promise<string> {
  const socket = net.connect(port, LOOPBACK);
  socket.write(bytes, 'latin1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** Returns the values of one field from a flat raw header list, in order. */
export function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) {
      values.push(rawHeaders[i + 1] ?? '');
    }
  }
  return values;
}

/** Reads from the socket until the text received contains `marker`, and returns that text. */
export async function readUntil(socket: net.Socket, marker: string): Promise<string> {
  let text = '';
  while (!text.includes(marker)) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    text += chunk.toString('latin1');
  }
  return text;
}
