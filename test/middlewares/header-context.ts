// A request context without a network, and a recorder of the response that a middleware chain
// produces, for the tests of the headers middleware.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

import type { Middleware, RequestContext } from '../../src/middlewares/types.js';

export interface RequestShape {
  method?: string;
  url?: string;
  scheme?: 'http' | 'https';
  /** Header lines in the order the client sent them. A repeated name is joined as Node.js does. */
  headers?: Array<[string, string]>;
}

export function contextFor(shape: RequestShape = {}): RequestContext {
  const request = new IncomingMessage(new Socket());
  request.method = shape.method ?? 'GET';
  request.url = shape.url ?? '/';
  request.rawHeaders = (shape.headers ?? []).flat();
  const headers: Record<string, string> = {};
  for (const [name, value] of shape.headers ?? []) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  request.headers = headers;
  return {
    request,
    response: new ServerResponse(request),
    facts: { host: 'h.example.test', path: '/', rawQuery: '', method: request.method, headers: request.headers, clientIp: '127.0.0.1' },
    entryPoint: 'web',
    scheme: shape.scheme ?? 'http',
  };
}

export interface Outcome {
  /** Whether the request reached the server. */
  reachedServer: boolean;
  status: number | undefined;
  /** The header list that reached the response's own `writeHead`, after every edit. */
  headers: string[];
  /** The value of the field `name` (any case), with repeated lines joined by ", ". */
  header(name: string): string | undefined;
}

/**
 * Runs `middleware` on `context`. The server behind it responds with `serverStatus` and the header
 * list `serverHeaders`, unless the middleware responds first.
 */
export async function runMiddleware(middleware: Middleware, context: RequestContext, serverHeaders: string[] = [], serverStatus = 200): Promise<Outcome> {
  let reachedServer = false;
  let status: number | undefined;
  let written: string[] = [];
  const original = context.response.writeHead.bind(context.response);
  context.response.writeHead = ((code: number, headers: string[]) => {
    status = code;
    written = headers;
    return original(code, headers);
  }) as typeof context.response.writeHead;

  await middleware(context, async () => {
    reachedServer = true;
    context.response.writeHead(serverStatus, serverHeaders);
    context.response.end();
  });

  return {
    reachedServer,
    status,
    headers: written,
    header(name: string) {
      const values: string[] = [];
      for (let i = 0; i + 1 < written.length; i += 2) {
        if ((written[i] as string).toLowerCase() === name.toLowerCase()) values.push(written[i + 1] as string);
      }
      return values.length === 0 ? undefined : values.join(', ');
    },
  };
}
