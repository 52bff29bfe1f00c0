// Keeps a failure to send an HTTP/2 response's trailers inside its stream. Node.js's compatibility API
// (lib/internal/http2/compat.js, checked on 20.20 and 24.22) sends the fields given to addTrailers
// from the stream's 'wantTrailers' event, after the last DATA frame, and validates them only then. A
// field it rejects, such as a repeated single-value field or a connection-specific one, throws out of
// that event with no handler around it, which ended the process and every other connection with it.
import type { Http2ServerResponse, ServerHttp2Stream } from 'node:http2';

import { abortResponse } from '../proxy/abort-response.js';

/**
 * Wraps the stream's sendTrailers so that an error it throws resets only this stream with
 * INTERNAL_ERROR, so the client sees the response as incomplete, and is passed to `onError`.
 * The relay removes the fields that Node.js is known to reject before addTrailers, so this is the last guard.
 */
export function guardTrailerSend(response: Http2ServerResponse, onError: (error: unknown) => void): void {
  const stream = response.stream;
  const original = stream.sendTrailers;
  stream.sendTrailers = function sendTrailersOrReset(this: ServerHttp2Stream, headers) {
    try {
      original.call(this, headers);
    } catch (error) {
      onError(error);
      abortResponse(response);
    }
  };
}
