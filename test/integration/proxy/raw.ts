// Raw TCP peers for tests that must see or control every byte: a client connection to Berth and a server
// behind it. Both listen or connect on 127.0.0.1 only.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';

import { LOOPBACK } from './harness.js';

/** Resolves once `check()` returns true, checking again each time `subscribe` calls `wake`, and rejects after `timeoutMs`. */
async function until(check: () => boolean, subscribe: (wake: () => void) => () => void, what: string, timeoutMs: number): Promise<void> {
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

/** A client connection that records everything the peer sends, as Latin-1 text. */
export class RawClient {
  readonly socket: net.Socket;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  #received = '';
  #listeners = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.toString('latin1');
      for (const listener of [...this.#listeners]) listener();
    });
    // A peer that closes while the client still writes can reset the connection, so tests read `received` instead.
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => {
      for (const listener of [...this.#listeners]) listener();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, LOOPBACK);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  get received(): string {
    return this.#received;
  }

  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  /** Waits until the received text matches `pattern` and returns it. */
  async waitFor(pattern: RegExp, timeoutMs = 5_000): Promise<string> {
    await until(
      () => pattern.test(this.#received),
      (wake) => {
        this.#listeners.add(wake);
        return () => this.#listeners.delete(wake);
      },
      `${String(pattern)} in ${JSON.stringify(this.#received)}`,
      timeoutMs,
    );
    return this.#received;
  }

  async waitForClose(timeoutMs = 5_000): Promise<void> {
    await until(
      () => this.socket.closed,
      (wake) => {
        this.#listeners.add(wake);
        return () => this.#listeners.delete(wake);
      },
      'the connection to close',
      timeoutMs,
    );
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One accepted connection of a RawServer, with everything Berth sent on it. */
export interface RawConnection {
  socket: net.Socket;
  received: string;
  closed: boolean;
}

export interface RawServer {
  url: string;
  connections: RawConnection[];
  /** Everything received on all connections, in connection order. */
  received(): string;
  waitFor(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a TCP server that calls `onData` with the connection after each chunk Berth sends. */
export async function startRawServer(onData: (connection: RawConnection) => void = () => undefined): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const listeners = new Set<() => void>();
  const wakeAll = (): void => {
    for (const listener of [...listeners]) listener();
  };

  const server = net.createServer((socket) => {
    const connection: RawConnection = { socket, received: '', closed: false };
    connections.push(connection);
    socket.on('data', (chunk: Buffer) => {
      connection.received += chunk.toString('latin1');
      onData(connection);
      wakeAll();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connection.closed = true;
      wakeAll();
    });
    wakeAll();
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${LOOPBACK}:${port}`,
    connections,
    received: () => connections.map((connection) => connection.received).join(''),
    waitFor: async (check, what, timeoutMs = 5_000) =>
      until(
        check,
        (wake) => {
          listeners.add(wake);
          return () => listeners.delete(wake);
        },
        what,
        timeoutMs,
      ),
    async close() {
      for (const connection of connections) connection.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Splits the first request in `text` into its head and what follows, or returns undefined while the head is incomplete. */
export function splitHead(text: string): { head: string; rest: string } | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  return { head: text.slice(0, end + 4), rest: text.slice(end + 4) };
}

/** Returns the Content-Length value of a request or response head, or 0 without one. */
export function contentLength(head: string): number {
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return match === null ? 0 : Number(match[1]);
}
