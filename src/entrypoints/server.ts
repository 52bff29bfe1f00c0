// One HTTP listener per entry point. The request handler is fixed at start; dynamic changes reach
// it through the dispatcher's runtime reference, so no listener is closed or reopened for them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { parseListenAddress } from './address.js';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

export interface EntryPointOptions {
  name: string;
  address: string;
  handler: RequestHandler;
  /** Handles requests with `Connection: upgrade`; without one they get a 404. */
  upgradeHandler?: UpgradeHandler;
  logger: Logger;
}

export class EntryPoint {
  readonly name: string;
  readonly #server: Server;
  readonly #options: EntryPointOptions;
  readonly #logger: Logger;

  constructor(options: EntryPointOptions) {
    this.name = options.name;
    this.#options = options;
    this.#logger = options.logger.child({ [Fields.entryPoint]: options.name });
    this.#server = createServer({ requireHostHeader: false }, (request, response) => {
      Promise.resolve(options.handler(request, response)).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'request handler failed');
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('500 Internal Server Error\n');
        } else {
          response.destroy();
        }
      });
    });
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!options.upgradeHandler) {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      Promise.resolve(options.upgradeHandler(request, socket, head)).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'upgrade handler failed');
        socket.destroy();
      });
    });
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      this.#logger.debug({ err: error }, 'rejected a malformed request');
      if (socket.writable && !socket.destroyed) {
        const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      } else {
        socket.destroy();
      }
    });
  }

  /** Starts listening; rejects with a message naming the entry point and address on failure. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = parseListenAddress(this.#options.address);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(new Error(`entry point "${this.name}" cannot listen on ${this.#options.address}: ${error.code ?? error.message}`, { cause: error }));
      };
      this.#server.once('error', onError);
      this.#server.listen({ port, ...(host ? { host } : {}) }, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    this.#logger.info({ [Fields.address]: `${address.address}:${address.port}` }, 'entry point listening');
    return address;
  }

  /** Stops accepting connections, lets requests in flight finish for up to `graceMs`, then closes the rest. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => this.#server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }
}
