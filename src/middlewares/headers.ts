// Sets or removes request and response headers (Traefik's customRequestHeaders and
// customResponseHeaders); an empty value removes the header.
import type { Middleware } from './types.js';
import { stringMap } from './options.js';

export function createHeaders(options: Record<string, unknown>): Middleware {
  const requestHeaders = stringMap(options, 'customrequestheaders');
  const responseHeaders = stringMap(options, 'customresponseheaders');

  return async (context, next) => {
    for (const [name, value] of requestHeaders) {
      const key = name.toLowerCase();
      if (value === '') delete context.request.headers[key];
      else context.request.headers[key] = value;
    }

    if (responseHeaders.size > 0) {
      const response = context.response;
      const writeHead = response.writeHead;
      // Headers are applied when the status line is written, so they override what the server sent.
      response.writeHead = function patchedWriteHead(this: typeof response, ...args: Parameters<typeof writeHead>) {
        for (const [name, value] of responseHeaders) {
          if (value === '') response.removeHeader(name);
          else response.setHeader(name, value);
        }
        return writeHead.apply(this, args);
      } as typeof writeHead;
    }
    await next();
  };
}
