// Sets or removes request and response headers (Traefik's customRequestHeaders and
// customResponseHeaders); an empty value removes the header.
import type { Middleware } from './types.js';
import { checkHeadersOptions } from './header-fields.js';
import { stringMap } from './options.js';
import { editResponseHeaders, withoutHeader } from './response-headers.js';

/** Builds the middleware. Throws an Error naming the option, header and value when a field cannot be sent. */
export function createHeaders(options: Record<string, unknown>): Middleware {
  checkHeadersOptions(options);
  const requestHeaders = stringMap(options, 'customrequestheaders');
  const responseHeaders = stringMap(options, 'customresponseheaders');

  return async (context, next) => {
    for (const [name, value] of requestHeaders) {
      const key = name.toLowerCase();
      if (value === '') delete context.request.headers[key];
      else context.request.headers[key] = value;
    }

    if (responseHeaders.size > 0) {
      editResponseHeaders(context.response, (headers) => {
        let result = headers;
        for (const [name, value] of responseHeaders) {
          result = withoutHeader(result, name);
          if (value !== '') result.push(name, value);
        }
        return result;
      });
    }
    await next();
  };
}
