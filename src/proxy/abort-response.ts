// Ends a response that Berth cannot complete, such as one whose server closed the connection in the middle of
// the body, so that the client sees it as incomplete on either HTTP version.
import type { ServerResponse } from 'node:http';
import { constants, Http2ServerResponse } from 'node:http2';

/** A response of either HTTP version, reduced to what aborting it needs. */
export type AbortableResponse = Pick<ServerResponse, 'destroy'> | Http2ServerResponse;

/**
 * Aborts `response` mid-way. On HTTP/1.1 it closes the connection, so the missing end of the body shows the
 * client that the response is incomplete (RFC 9112 §8). On HTTP/2 it resets the stream with INTERNAL_ERROR.
 * A plain `destroy()` would reset it with NO_ERROR there, because Node.js (checked on 20.20) uses code 0 when
 * destroy() gets no error. RFC 9113 §8.1 lets a client take such a response as complete, so a cache or
 * downloader would keep the truncated body.
 *
 * `error` is passed to destroy(). On HTTP/1.1, Node.js reports it through the server's 'clientError' event, so
 * callers pass one only when that report is wanted.
 */
export function abortResponse(response: AbortableResponse, error?: Error): void {
  if (response instanceof Http2ServerResponse) {
    // A stream the client already reset, or one that ended, keeps the code it closed with. destroy() below
    // then finds the stream closed and sends no second RST_STREAM, but still destroys the stream at once,
    // which `isClientGone` checks, because Http2ServerResponse itself has no `destroyed` property.
    const stream = response.stream;
    if (!stream.closed && !stream.destroyed) {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }
  response.destroy(error);
}
