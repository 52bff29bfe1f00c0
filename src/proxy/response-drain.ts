// Waiting for a client response to take more data. A response whose client has gone never emits
// 'drain' again, so a writer that waits for 'drain' alone waits for good and never releases what it
// holds, such as the temporary file of a buffered body.
import type { ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';

/** A response of either HTTP version. HTTP/2 responses reach middlewares typed as ServerResponse. */
type ClientResponse = ServerResponse | Http2ServerResponse;

/**
 * Returns whether the response is closed or destroyed, so that it takes no more data. On HTTP/2 the
 * stream's state is checked, because Http2ServerResponse has no `destroyed` or `closed` of its own
 * (Node.js 20 and 24).
 */
export function isResponseClosed(response: ClientResponse): boolean {
  if (response instanceof Http2ServerResponse) return response.stream.destroyed || response.stream.closed;
  return response.destroyed || response.closed;
}

/**
 * Waits until `response` emits 'drain', closes or fails. Resolves true on 'drain', and false when the
 * response closed or failed, at once if it is closed already. The caller then stops writing.
 */
export function waitForDrain(response: ClientResponse): Promise<boolean> {
  if (isResponseClosed(response)) return Promise.resolve(false);

  // Both response classes emit these events, but their overloads differ, so they are added through one type.
  const emitter = response as ServerResponse;
  return new Promise((resolve) => {
    const settle = (drained: boolean): void => {
      emitter.off('drain', onDrain);
      emitter.off('close', onClose);
      emitter.off('error', onClose);
      resolve(drained);
    };
    const onDrain = (): void => settle(true);
    const onClose = (): void => settle(false);
    emitter.once('drain', onDrain);
    emitter.once('close', onClose);
    // A write that failed on a closed response emits 'error', which ends the wait as well.
    emitter.once('error', onClose);
  });
}
