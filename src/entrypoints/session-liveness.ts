// PING-based liveness check of HTTP/2 sessions with open streams (RFC 9113 section 6.7).
//
// Over TLS, Node.js 20.20 does not notice that a client closed or reset the connection while a
// write to it was blocked, which happens when the client stopped reading a large download and then
// went away. It emits neither 'end' nor 'close' for the socket, and the session waits for that write
// forever, with its streams, the requests to the servers and their sockets. Node.js 24.22 reports
// the reset in the same case. On both, a client that stays connected but reads nothing would hold
// a session the same way, and only a timeout detects either.
import type { Http2Session } from 'node:http2';

export interface SessionLivenessOptions {
  /** Time between two checks of a session with open streams, in ms, where 0 disables the check. */
  intervalMs: number;
  /** Time a PING may stay unanswered while the session makes no progress, in ms. */
  timeoutMs: number;
}

/**
 * A PING every 10 s, and a session closed after 30 s without its acknowledgement or any progress.
 * A PING waits behind every byte already queued for the client, in Node.js and in the kernel's
 * send buffer, which can hold megabytes, so a slow client that still reads may take many seconds
 * to acknowledge it. Any change of the session's flow-control window (data sent, or WINDOW_UPDATE
 * received) counts as progress and restarts the 30 s, so only a client that reads nothing for
 * that long is closed.
 */
export const DEFAULT_SESSION_LIVENESS: SessionLivenessOptions = { intervalMs: 10_000, timeoutMs: 30_000 };

/**
 * Checks a session while it has open streams, and calls `onDead` with the time waited, in ms,
 * when its client neither acknowledged a PING nor made progress for `timeoutMs`.
 */
export function watchSessionLiveness(session: Http2Session, options: SessionLivenessOptions, onDead: (waitedMs: number) => void): void {
  if (options.intervalMs <= 0) return;

  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  let pingSentAt: number | undefined;
  let progressAt = 0;
  let lastWindow: number | undefined;

  const check = (): void => {
    if (session.destroyed) return;
    const now = performance.now();
    const sendWindow = session.state.remoteWindowSize;
    if (sendWindow !== lastWindow) {
      lastWindow = sendWindow;
      progressAt = now;
    }

    if (pingSentAt !== undefined) {
      const waitedMs = now - Math.max(pingSentAt, progressAt);
      if (waitedMs >= options.timeoutMs) onDead(now - pingSentAt);
      return;
    }
    const sentAt = now;
    const sent = session.ping((error) => {
      if (error === null && pingSentAt === sentAt) pingSentAt = undefined;
    });
    // ping() returns false when the session already has its maximum of unanswered PINGs, and the next check tries again.
    if (sent) pingSentAt = sentAt;
  };

  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
    pingSentAt = undefined;
  };

  session.on('stream', (stream) => {
    open += 1;
    if (timer === undefined) {
      progressAt = performance.now();
      timer = setInterval(check, options.intervalMs);
      timer.unref();
    }
    stream.once('close', () => {
      open -= 1;
      if (open === 0) stop();
    });
  });
  session.once('close', stop);
}
