// A raw HTTP/1.1 server for keep-alive tests, which decides per request whether to respond, close the
// connection at once without a response, or stay silent, and counts the connections it accepted.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

import { LOOPBACK } from './harness.js';

/**
 * What the server does with one request: the response text to write, `sendThenClose` to write a text
 * and close, undefined to close at once, or `later` for a promise of one of those actions, which the
 * server carries out once it resolves (never, for a promise that never does).
 */
export type ClosingServerAction = string | { sendThenClose: string } | { later: Promise<ClosingServerAction> } | undefined;

/** Facts about one request that `onRequest` decides on. */
export interface ReceivedRequest {
  /** The request line, such as `GET /one HTTP/1.1`. */
  line: string;
  /** The request's number on its connection, 1 for the first. */
  nth: number;
  /** The number of its connection in the order the server accepted them, 1 for the first. */
  connection: number;
}

export interface ClosingServer {
  /** `http://` or, with TLS options, `https://` and the loopback address and port. */
  url: string;
  /** Request lines in the order they arrived. */
  seen: string[];
  /** Every request in the order it arrived. */
  requests: ReceivedRequest[];
  /** Connections accepted so far. */
  accepted(): number;
  /** Numbers of the connections still open, in the order they were accepted. */
  openConnections(): number[];
  close(): Promise<void>;
}

export interface ClosingServerOptions {
  /** Certificate and key, for a server that speaks TLS. */
  tls?: tls.TlsOptions;
}

/**
 * Starts a raw HTTP/1.1 server on loopback that records each request and lets `onRequest` choose the
 * action. The requests of these tests have no body, so each one ends with its blank line.
 */
export async function startClosingServer(onRequest: (line: string, nth: number, connection: number) => ClosingServerAction, options: ClosingServerOptions = {}): Promise<ClosingServer> {
  const seen: string[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Map<net.Socket, number>();
  let accepted = 0;

  const serve = (socket: net.Socket): void => {
    accepted += 1;
    const connection = accepted;
    sockets.set(socket, connection);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let nth = 0;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const line = buffered.slice(0, buffered.indexOf('\r\n'));
        buffered = buffered.slice(end + 4);
        nth += 1;
        seen.push(line);
        requests.push({ line, nth, connection });
        if (!carryOut(socket, onRequest(line, nth, connection))) return;
      }
    });
  };

  /** Carries out one action, and returns false when it closed the connection. */
  const carryOut = (socket: net.Socket, action: ClosingServerAction): boolean => {
    if (action === undefined) {
      socket.destroy();
      return false;
    }
    if (typeof action === 'string') {
      socket.write(action);
      return true;
    }
    if ('sendThenClose' in action) {
      socket.end(action.sendThenClose);
      return false;
    }
    void action.later.then((settled) => carryOut(socket, settled));
    return true;
  };

  const server = options.tls === undefined ? net.createServer(serve) : tls.createServer(options.tls, serve);
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${LOOPBACK}:${port}`,
    seen,
    requests,
    accepted: () => accepted,
    openConnections: () => [...sockets.values()],
    close: async () => {
      for (const socket of sockets.keys()) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A complete 200 response with a two-byte body. */
export const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
