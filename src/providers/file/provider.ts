// The file provider: reads Traefik's dynamic configuration from one YAML file or a directory of
// them, reloads on change and on SIGHUP, and hands routers, services, middlewares and TLS options
// to the configuration store and certificates to the certificate store. A file that cannot be read
// or parsed, or whose sections have the wrong type (`http.routers: 5`), keeps the configuration
// last read from it, and its error stays visible until fixed.
import { dirname } from 'node:path';

import type { FileProviderConfig } from '../../config/types.js';
import type { ProviderConfig } from '../../dynamic/model.js';
import { Fields } from '../../observability/fields.js';
import type { Logger } from '../../observability/logger.js';
import { FileCertificates } from './certificates.js';
import { mergeFileItems, toProviderConfig, type FileItems } from './build.js';
import { describeFsError, listDynamicFiles, readDynamicFile } from './read.js';
import { DirectoryWatcher } from './watch.js';
import type { CertificateStore } from '../../tls/types.js';

/** Status of the file provider, as the API shows it. */
export interface FileProviderStatus {
  /** The configured file or directory. */
  path: string;
  watch: boolean;
  /** Files the configuration was read from. */
  files: string[];
  /** When the files were last read, in ISO 8601. */
  lastReadAt?: string;
  /** Problems that belong to no single item: unreadable files, invalid YAML, unusable certificates. */
  errors: string[];
  warnings: string[];
}

export interface FileProviderOptions {
  config: FileProviderConfig;
  logger: Logger;
  /** Receives the configuration after every change, and once after the first read. */
  onConfig: (config: ProviderConfig) => void;
  /** Receives the certificates of `tls.certificates` and the default certificate. */
  certificates?: CertificateStore;
  /** Quiet time after a change before reading, in milliseconds. */
  debounceMs?: number;
}

/** Waits this long after the last change, so an editor's several writes cause one reload. */
const DEFAULT_DEBOUNCE_MS = 100;

export class FileProvider {
  readonly #options: FileProviderOptions;
  readonly #logger: Logger;
  readonly #certificates: FileCertificates;
  readonly #watcher: DirectoryWatcher | undefined;
  /** The items last read from each file, kept while the file cannot be read, parsed or used. */
  readonly #lastGood = new Map<string, FileItems>();
  #status: FileProviderStatus;
  #emitted: string | undefined;
  #loggedProblems = new Set<string>();
  #running: Promise<void> | undefined;
  #pending = false;
  #stopped = false;
  readonly #onSignal = (): void => {
    this.#logger.info('SIGHUP received; reading the dynamic configuration again');
    void this.reload();
  };

  constructor(options: FileProviderOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ [Fields.module]: 'file-provider', [Fields.provider]: 'file' });
    this.#certificates = new FileCertificates(options.certificates);
    const path = options.config.filename ?? options.config.directory ?? '';
    this.#status = { path, watch: options.config.watch, files: [], errors: [], warnings: [] };
    if (options.config.watch) {
      const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
      this.#watcher = new DirectoryWatcher({ onChange: () => void this.reload(), logger: this.#logger, debounceMs, maxDelayMs: debounceMs * 10, retryMs: 5_000 });
    }
  }

  /** Reads the configuration once, then starts watching. Resolves after the first read is applied. */
  async start(): Promise<void> {
    process.on('SIGHUP', this.#onSignal);
    await this.reload();
    this.#logger.info({ [Fields.path]: this.#status.path, watch: this.#status.watch }, 'file provider started');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    process.off('SIGHUP', this.#onSignal);
    this.#watcher?.close();
    await this.#running;
  }

  status(): FileProviderStatus {
    return structuredClone(this.#status);
  }

  /** Reads the files again. Calls during a read are merged into one more read after it. */
  reload(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#pending = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#pending = false;
      try {
        await this.#read();
      } catch (error) {
        // Reading reports every expected failure as a problem, so this is a bug. The next change tries again.
        this.#logger.error({ err: error }, 'reading the dynamic configuration failed');
      }
    } while (this.#pending && !this.#stopped);
  }

  async #read(): Promise<void> {
    const errors: string[] = [];
    const warnings: string[] = [];
    const { files, directories } = await this.#listFiles(errors, warnings);

    const perFile: FileItems[] = [];
    for (const path of files) {
      const result = await readDynamicFile(path);
      if (result.items !== undefined) {
        this.#lastGood.set(path, result.items);
        perFile.push(result.items);
        continue;
      }
      const previous = this.#lastGood.get(path);
      errors.push(previous ? `${result.error}; the configuration read from it before stays in use` : result.error);
      if (previous) perFile.push(previous);
    }
    // A file removed from the directory takes its items with it.
    for (const path of this.#lastGood.keys()) if (!files.includes(path)) this.#lastGood.delete(path);

    const items = mergeFileItems(perFile);
    errors.push(...items.errors);
    warnings.push(...items.warnings);
    const certificates = await this.#certificates.apply(items.certificates, items.defaultCertificate);
    errors.push(...certificates.errors);
    warnings.push(...certificates.warnings);
    if (this.#stopped) return;

    this.#watcher?.update(new Set([...directories, ...certificates.paths.map((path) => dirname(path))]));
    this.#status = { ...this.#status, files, lastReadAt: new Date().toISOString(), errors, warnings };
    this.#logProblems(errors, warnings);

    const config = toProviderConfig(items);
    const serialized = JSON.stringify(config);
    if (serialized === this.#emitted) return;
    this.#emitted = serialized;
    this.#options.onConfig(config);
  }

  /** Returns the files to read and the directories to watch. A directory that cannot be read keeps every file read before. */
  async #listFiles(errors: string[], warnings: string[]): Promise<{ files: string[]; directories: string[] }> {
    const { filename, directory } = this.#options.config;
    if (filename !== undefined) return { files: [filename], directories: [dirname(filename)] };

    const root = directory ?? '';
    try {
      const listing = await listDynamicFiles(root);
      warnings.push(...listing.warnings);
      return { files: listing.files, directories: listing.directories };
    } catch (error) {
      errors.push(`directory ${root} cannot be read: ${describeFsError(error)}; the configuration read from it before stays in use`);
      return { files: [...this.#lastGood.keys()], directories: [dirname(root), root] };
    }
  }

  /** Logs each problem once, when it first appears, so a reload that changes nothing logs nothing. */
  #logProblems(errors: string[], warnings: string[]): void {
    const current = new Set<string>();
    for (const [level, messages] of [['error', errors], ['warn', warnings]] as const) {
      for (const message of messages) {
        const key = `${level}\0${message}`;
        current.add(key);
        if (!this.#loggedProblems.has(key)) this.#logger[level]({ [Fields.problem]: message }, 'dynamic configuration problem');
      }
    }
    this.#loggedProblems = current;
  }
}
