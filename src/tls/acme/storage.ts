// The ACME storage file: one JSON document in the layout of Traefik's `acme.json`, with one section
// per resolver holding its account and certificates. Several resolvers may share one file.
//
// Private keys live in this file, so it is read only when its mode gives no access to other users,
// and written only atomically (temporary file, fsync, rename, fsync of the directory) with mode
// 0600. A file that Berth cannot trust or parse is never overwritten: it is reported, and the
// resolvers that use it serve what they could read and order nothing.

import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { copyDictionary, createDictionary, getOwn } from '../../dictionary.js';

/** A certificate as Traefik stores it: PEM texts in base64, under the names it was ordered for. */
export interface StoredCertificate {
  domain: { main: string; sans?: string[] };
  /** Base64 of the PEM chain, leaf first. */
  certificate: string;
  /** Base64 of the PEM private key. */
  key: string;
  Store: string;
}

/** The ACME account as Traefik stores it. `PrivateKey` is base64 of the PKCS#1 DER RSA key. */
export interface StoredAccount {
  Email: string;
  Registration: { body: { status: string; contact?: string[] }; uri: string };
  PrivateKey: string;
  KeyType: string;
}

/** A TXT record that Berth created and has not deleted yet, kept so a crash's leftovers are removed at the next start. */
export interface StoredDnsRecord {
  provider: string;
  zoneId: string;
  recordId: string;
  name: string;
}

/** One resolver's section. `BerthDnsRecords` is Berth's own; Traefik ignores keys it does not know. */
export interface ResolverSection {
  Account: StoredAccount | null;
  Certificates: StoredCertificate[] | null;
  BerthDnsRecords?: StoredDnsRecord[];
}

export type StorageDocument = Record<string, ResolverSection>;

/** The reason a storage file cannot be written, with the step that fixes it. */
export class StorageError extends Error {
  readonly code = 'BERTH_ACME_STORAGE';
  /** Whether the certificates in the file could still be read (a wide mode), or nothing could. */
  readonly readable: boolean;

  constructor(message: string, readable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.readable = readable;
  }
}

const PRIVATE_MODE = 0o600;

/**
 * One storage file. Reads happen once, at `load()`; writes replace the whole document and are
 * queued, so two resolvers sharing the file never interleave their writes.
 */
export class StorageFile {
  readonly path: string;
  #document: StorageDocument = createDictionary();
  #problem: StorageError | undefined;
  #writes: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** The reason the file is not written, or `undefined` when it is usable. */
  get problem(): StorageError | undefined {
    return this.#problem;
  }

  /** Reads the file. A missing file is an empty document; any other problem is kept in `problem`. */
  async load(): Promise<void> {
    this.#document = {};
    this.#problem = undefined;

    let mode: number;
    try {
      const info = await stat(this.path);
      if (info.isDirectory()) {
        this.#problem = new StorageError(`ACME storage ${this.path} is a directory; remove it or point storage at a file path`, false);
        return;
      }
      mode = info.mode & 0o777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.#problem = new StorageError(`ACME storage ${this.path} cannot be read: ${(error as Error).message}`, false, { cause: error });
      return;
    }

    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      this.#problem = new StorageError(`ACME storage ${this.path} cannot be read: ${(error as Error).message}`, false, { cause: error });
      return;
    }

    const parsed = parseDocument(text);
    if (typeof parsed === 'string') {
      this.#problem = new StorageError(`ACME storage ${this.path} is not valid JSON (${parsed}); fix or remove the file, Berth does not overwrite it`, false);
      return;
    }
    this.#document = parsed;

    // Traefik refuses the same file; the certificates are still served, since they are already exposed.
    if ((mode & 0o077) !== 0) {
      const octal = mode.toString(8).padStart(4, '0');
      this.#problem = new StorageError(
        `ACME storage ${this.path} has mode ${octal}, which lets other users read private keys; run "chmod 600 ${this.path}"`,
        true,
      );
    }
  }

  /** Returns a copy of one resolver's section, empty when the file has none. */
  section(resolver: string): ResolverSection {
    const section = getOwn(this.#document, resolver);
    return section === undefined ? { Account: null, Certificates: null } : structuredClone(section);
  }

  /**
   * Applies `change` to one resolver's section and writes the file. Rejects with the storage
   * problem, without writing, when the file was found unusable.
   */
  update(resolver: string, change: (section: ResolverSection) => void): Promise<void> {
    const write = this.#writes.then(async () => {
      if (this.#problem !== undefined) throw this.#problem;
      const section = this.section(resolver);
      change(section);
      const next = copyDictionary(this.#document);
      next[resolver] = section;
      await writeAtomically(this.path, `${JSON.stringify(next, null, 2)}\n`);
      this.#document = next;
    });
    // A failed write must not block the ones queued after it.
    this.#writes = write.catch(() => undefined);
    return write;
  }
}

function parseDocument(text: string): StorageDocument | string {
  if (text.trim() === '') return createDictionary();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the top level is not an object of resolvers';

  // Resolver names such as `constructor` must not find Object.prototype's members.
  const document: StorageDocument = createDictionary();
  for (const [name, section] of Object.entries(value)) {
    if (section === null || typeof section !== 'object' || Array.isArray(section)) return `the entry of resolver "${name}" is not an object`;
    const { Account = null, Certificates = null, BerthDnsRecords } = section as Partial<ResolverSection>;
    if (Certificates !== null && !Array.isArray(Certificates)) return `"Certificates" of resolver "${name}" is not a list`;
    document[name] = { ...(section as ResolverSection), Account, Certificates, ...(BerthDnsRecords ? { BerthDnsRecords } : {}) };
  }
  return document;
}

/**
 * Writes `text` to `path` so that a crash leaves either the old or the new content: a temporary
 * file in the same directory (mode 0600 from creation), fsync, rename over `path`, then fsync of
 * the directory so the rename itself survives a power loss.
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

  const file = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, PRIVATE_MODE);
  try {
    await file.writeFile(text, 'utf8');
    // The umask can only narrow the creation mode, but an explicit chmod also fixes ACLs' defaults.
    await file.chmod(PRIVATE_MODE);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();

  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }

  const directoryHandle = await open(directory, constants.O_RDONLY);
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
}

/** Encodes a PEM text the way Traefik stores it. */
export function encodePem(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/** Decodes a stored PEM text. */
export function decodePem(encoded: string): string {
  return Buffer.from(encoded, 'base64').toString('utf8');
}
