// A message body kept in memory up to a threshold and in a temporary file beyond it. The vulcand/oxy
// buffer behind Traefik's `buffering` middleware does the same, so that a large upload or response
// does not take its whole size in memory.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** Prefix of the temporary files, so that leftovers of a crash can be recognized in the temp folder. */
const FILE_PREFIX = 'berth-buffer-';

/** Receives an error of the temporary file at `path`: a failed write (or open), or a failed removal. */
export type SpoolFileErrorListener = (error: Error, operation: 'write' | 'remove', path: string) => void;

export class BodySpool {
  readonly #memoryLimit: number;
  readonly #onFileError: SpoolFileErrorListener;
  readonly #chunks: Buffer[] = [];
  #memoryBytes = 0;
  #size = 0;
  #path: string | undefined;
  #file: FileHandle | undefined;
  /** Settles when every chunk given to the file so far is written. */
  #pending: Promise<void> = Promise.resolve();
  #error: Error | undefined;
  #disposed = false;

  /**
   * Keeps up to `memoryLimit` bytes in memory; the rest goes to a temporary file. `onFileError`
   * gets the first failed write of the file, and a failed removal, which `dispose` does not throw.
   */
  constructor(memoryLimit: number, onFileError: SpoolFileErrorListener = () => {}) {
    this.#memoryLimit = memoryLimit;
    this.#onFileError = onFileError;
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends `chunk`. Returns true when it is stored already (in memory), and false when it waits
   * for a file write, in which case the caller waits for `flushed()` before appending much more.
   */
  append(chunk: Buffer): boolean {
    this.#size += chunk.length;
    if (this.#path === undefined && this.#memoryBytes + chunk.length <= this.#memoryLimit) {
      this.#chunks.push(chunk);
      this.#memoryBytes += chunk.length;
      return true;
    }

    const path = (this.#path ??= join(tmpdir(), `${FILE_PREFIX}${randomUUID()}`));
    this.#pending = this.#pending.then(() => this.#writeToFile(chunk)).catch((error: unknown) => {
      if (this.#error !== undefined) return;
      this.#error = error instanceof Error ? error : new Error(String(error));
      this.#onFileError(this.#error, 'write', path);
    });
    return false;
  }

  /** Resolves when every appended chunk is stored; rejects with the error of a failed file write. */
  async flushed(): Promise<void> {
    await this.#pending;
    if (this.#error !== undefined) throw new Error(`writing the buffered body to ${this.#path ?? 'a temporary file'} failed`, { cause: this.#error });
  }

  /** Returns a stream of the whole body, the memory part first. Call it after `flushed()`. */
  reader(): Readable {
    const chunks = [...this.#chunks];
    const path = this.#path;
    async function* parts(): AsyncGenerator<Buffer> {
      yield* chunks;
      if (path !== undefined) {
        for await (const chunk of createReadStream(path)) yield chunk as Buffer;
      }
    }
    return Readable.from(parts(), { objectMode: false });
  }

  /**
   * Drops the body and removes the temporary file. Safe to call more than once, and never rejects,
   * because callers run it without waiting: a failed removal goes to the error listener.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#chunks.length = 0;
    await this.#pending;
    // The file is removed before its descriptor closes, so no moment has the file left without a descriptor.
    const path = this.#path;
    if (path !== undefined) {
      try {
        await rm(path, { force: true });
      } catch (error) {
        this.#onFileError(error instanceof Error ? error : new Error(String(error)), 'remove', path);
      }
    }
    await this.#file?.close().catch(() => undefined);
  }

  async #writeToFile(chunk: Buffer): Promise<void> {
    if (this.#error !== undefined || this.#disposed || this.#path === undefined) return;
    // `wx` fails rather than follow a file another user put at this name, and 0o600 keeps the body private.
    this.#file ??= await open(this.#path, 'wx', 0o600);
    await this.#file.write(chunk);
  }
}
