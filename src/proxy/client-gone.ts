// Tells whether the client of a response has gone away, on HTTP/1.1 and HTTP/2 alike, so that nothing is
// forwarded, retried or waited for on its behalf. Each check and event below covers a case the others miss.
import type { ServerResponse } from 'node:http';
import { constants, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';

/** A response to a client of either HTTP version. */
export type ClientResponse = ServerResponse | Http2ServerResponse;

/**
 * Returns whether the client of `response` can no longer receive it: its connection closed, its HTTP/2 stream
 * was reset, or Berth destroyed the response. A response that was ended first is complete, not gone.
 */
export function isClientGone(response: ClientResponse): boolean {
  if (response.writableEnded) {
    return false;
  }

  // Http2ServerResponse has no `destroyed` property (Node.js 20 and 24), so its stream is asked instead.
  if (response instanceof Http2ServerResponse) {
    const stream = response.stream;
    return stream.destroyed || stream.closed;
  }

  // The socket is checked as well, because it reports its end at once, while the response hears of it in the
  // 'close' event a tick later, or never, as noted in `watchClientGone`.
  return response.destroyed || requestSocket(response).destroyed;
}

/**
 * Calls `listener` once when the client of `response` goes away before the response ends, and at once, before
 * returning, when it already has. Returns a function that stops watching; the caller calls it once the
 * exchange is over, so that a keep-alive connection does not collect listeners.
 */
export function watchClientGone(response: ClientResponse, listener: () => void): () => void {
  if (isClientGone(response)) {
    listener();
    return () => {};
  }

  let watching = true;
  // A response emits 'close' after it ends too, which is not the client leaving.
  const onClose = (): void => {
    if (!watching || response.writableEnded) {
      return;
    }
    stop();
    listener();
  };

  // NOTE: Node.js 20.20 emits no 'close' on an HTTP/1.1 response still waiting behind earlier pipelined
  // responses when the connection closes, and 24.22 does. Until its turn such a response has no socket of its
  // own, so the connection's 'close' is watched directly.
  const socket = response instanceof Http2ServerResponse ? undefined : waitingSocket(response);
  // NOTE: for a client's RST_STREAM with NO_ERROR, Node.js 20 and 24 emit only 'aborted' until the session
  // closes. Berth's own resets use INTERNAL_ERROR (`abortResponse`) and also emit 'aborted', so they are skipped.
  const stream = response instanceof Http2ServerResponse ? response.stream : undefined;
  const onAborted = (): void => {
    if (stream?.rstCode === constants.NGHTTP2_NO_ERROR) onClose();
  };
  const stop = (): void => {
    watching = false;
    response.off('close', onClose);
    socket?.off('close', onClose);
    stream?.off('aborted', onAborted);
  };
  response.on('close', onClose);
  socket?.on('close', onClose);
  stream?.on('aborted', onAborted);
  return stop;
}

/** Returns the connection that the request of an HTTP/1.1 response came on. */
function requestSocket(response: ServerResponse): Socket {
  return response.req.socket;
}

/** Returns the connection of a pipelined HTTP/1.1 response that has not yet been given it, else undefined. */
function waitingSocket(response: ServerResponse): Socket | undefined {
  const socket = requestSocket(response);
  return response.socket !== socket ? socket : undefined;
}

/**
 * Waits `delayMs`, or less when the client of `response` leaves first. Returns true when the client is still
 * there at the end, and false when it left, without waiting when it had already left.
 */
export async function sleepUnlessClientGone(response: ClientResponse, delayMs: number): Promise<boolean> {
  if (isClientGone(response)) {
    return false;
  }
  if (delayMs <= 0) {
    return true;
  }

  let timer: NodeJS.Timeout | undefined;
  let stopWatching = (): void => {};
  const present = await new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), delayMs);
    stopWatching = watchClientGone(response, () => resolve(false));
  });
  clearTimeout(timer);
  stopWatching();
  return present;
}

/**
 * Waits for 'drain' on `response` after a write returned false. Returns true on 'drain', and false when the
 * client leaves first, because a response whose client left never emits 'drain' on HTTP/2.
 */
export async function drainUnlessClientGone(response: ClientResponse): Promise<boolean> {
  let stopWatching = (): void => {};
  let onDrain = (): void => {};
  const drained = await new Promise<boolean>((resolve) => {
    onDrain = () => resolve(true);
    response.once('drain', onDrain);
    stopWatching = watchClientGone(response, () => resolve(false));
  });
  response.off('drain', onDrain);
  stopWatching();
  return drained;
}
