// The compressed body of one response for the `compress` middleware: a zlib compressor between the
// forwarder's writes and the client's response, which passes the client's backpressure back to the forwarder.
import zlib from 'node:zlib';

import type { CompressEncoding } from './compress.js';

type WriteCallback = (error?: Error | null) => void;
type Compressor = zlib.Gzip | zlib.BrotliCompress;

/**
 * Brotli's default quality (11) is meant for static assets and is far too slow for bodies compressed
 * per response, so a middle quality is used, as web servers do for dynamic content.
 */
const BROTLI_QUALITY = 5;

/**
 * Uncompressed bytes the compressor may buffer before `write` returns false. Each time the forwarder
 * resumes undici (7.30), undici reads up to 64 KiB more from the server's socket and keeps what it did
 * not parse in that socket's buffer. A writer that takes less per resume, such as one that returns false
 * after every chunk, lets that buffer grow without bound. 'drain' is passed on only while the compressor
 * buffers less than its high-water mark (16 KiB on Node.js 20, 64 KiB on 22 and later). So a resumed
 * writer writes at least 192 KiB before it has to wait again, or all that undici has buffered.
 */
const MAX_PENDING_INPUT_BYTES = 256 * 1024;

export interface CompressedBodyOptions {
  encoding: CompressEncoding;
  /** Writes compressed bytes to the client's response, and returns false when the caller must wait for its 'drain'. */
  writeThrough: (chunk: Buffer) => boolean;
  /** Emits 'drain' on the client's response, for the writer that `write` returned false to. */
  emitDrain: () => void;
  /** Called when the compressor fails. */
  abort: (error: Error) => void;
}

/**
 * Compresses a body as it streams. `write` returns false while the compressor buffers
 * MAX_PENDING_INPUT_BYTES or more, or while the client's response waits for 'drain'. The writer may
 * write again once both have cleared. The owner passes every 'drain' of the client's response to
 * `downstreamDrained`, and keeps it from the response's listeners when that returns false. In that case
 * `emitDrain` is called later, once the compressor has taken its input.
 */
export class CompressedBody {
  readonly #compressor: Compressor;
  readonly #encoding: CompressEncoding;
  readonly #emitDrain: () => void;
  /** Set when the client's response returned false, until its next 'drain'. */
  #downstreamBlocked = false;
  /** Set when `write` returned false, until the writer may hear a 'drain' again. */
  #drainOwed = false;
  #flushScheduled = false;

  constructor(options: CompressedBodyOptions) {
    this.#encoding = options.encoding;
    this.#emitDrain = options.emitDrain;
    this.#compressor = createCompressor(options.encoding);

    // A paused compressor stops taking input once its output buffer is full, so its own 'drain' waits too.
    this.#compressor.on('data', (data: Buffer) => {
      if (!options.writeThrough(data)) {
        this.#downstreamBlocked = true;
        this.#compressor.pause();
      }
    });
    this.#compressor.on('drain', () => this.#passDrainIfReady());
    this.#compressor.on('error', options.abort);
  }

  /** Compresses `data`, and returns false when the writer must wait for the response's 'drain'. */
  write(data: Buffer, callback?: WriteCallback): boolean {
    this.#compressor.write(data, callback);
    this.#scheduleFlush();

    const ready = !this.#downstreamBlocked && this.#compressor.writableLength < MAX_PENDING_INPUT_BYTES;
    if (!ready) this.#drainOwed = true;
    return ready;
  }

  /** Compresses the rest of the body, if any, and calls `onEnd` once all compressed bytes went to `writeThrough`. */
  end(data: Buffer | undefined, onEnd: () => void): void {
    // A writer that ended waits for no 'drain'. Writers of the layers below, such as the `buffering`
    // middleware sending what it held, wait for the response's own 'drain' from now on.
    this.#drainOwed = false;
    this.#compressor.once('end', onEnd);
    if (data === undefined) this.#compressor.end();
    else this.#compressor.end(data);
  }

  /**
   * Resumes sending compressed bytes after the client's response emitted 'drain'. Returns false when
   * the writer must not hear this 'drain', because the compressor cannot take more input yet.
   */
  downstreamDrained(): boolean {
    this.#downstreamBlocked = false;
    this.#compressor.resume();
    if (!this.#drainOwed) return true;
    if (this.#compressor.writableNeedDrain) return false;
    this.#drainOwed = false;
    return true;
  }

  destroy(): void {
    this.#compressor.destroy();
  }

  // The compressor's `writableNeedDrain` stays true until it has taken all its input, so a writer
  // resumed here starts from less than the compressor's high-water mark.
  #passDrainIfReady(): void {
    if (!this.#drainOwed || this.#downstreamBlocked || this.#compressor.writableNeedDrain) return;
    this.#drainOwed = false;
    this.#emitDrain();
  }

  // Compressed output is flushed once per turn of the event loop, so a streamed body reaches the
  // client as it arrives while chunks that arrive together still share one flush.
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.#compressor.writableEnded || this.#compressor.destroyed) return;
      // A sync flush ends the current block at a byte boundary, so the client can decode all data so far.
      this.#compressor.flush(this.#encoding === 'br' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH);
    });
  }
}

function createCompressor(encoding: CompressEncoding): Compressor {
  if (encoding === 'gzip') return zlib.createGzip();
  return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } });
}
