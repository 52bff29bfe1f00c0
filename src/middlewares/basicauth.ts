// The `basicAuth` middleware (Traefik v3's pkg/middlewares/auth/basic_auth.go): lets a request
// through only with `Authorization: Basic` credentials that match one of the htpasswd lines of
// `users` and `usersFile`. Any other request gets 401 with `WWW-Authenticate: Basic realm="..."`.
// A bcrypt check that cannot run (full queue, failed worker thread) also gets 401, and is logged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Fields } from '../observability/fields.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { BcryptCheckError } from './bcrypt-worker.js';
import { hashScheme, verifyPassword } from './htpasswd.js';
import { throttledLog } from './log-throttle.js';
import { booleanOption, option, stringList } from './options.js';
import { sendStatus } from './status-response.js';
import { withPreview, type Middleware, type Next, type RequestContext } from './types.js';

/** Traefik's default realm. */
const DEFAULT_REALM = 'traefik';

/**
 * Successful checks remembered, so a client that sends the same credentials with every request
 * does not pay a bcrypt run each time. Entries are keyed by a SHA-256 of the hash and password,
 * never by the password itself.
 */
const VERIFIED_CACHE_SIZE = 1_024;

export interface BasicAuthSettings {
  /** Hash of each user name. */
  users: ReadonlyMap<string, string>;
  realm: string;
  /** Lower-case request field that receives the user name, or undefined. */
  headerField: string | undefined;
  removeHeader: boolean;
}

export function createBasicAuth(options: Record<string, unknown>, logger: Logger = silentLogger()): Middleware {
  const settings = basicAuthSettings(options);
  const checker = new CredentialChecker(settings.users);
  const challenge = `Basic realm="${settings.realm.replace(/["\\]/g, '\\$&')}"`;
  // A flood of guesses fills the queue on every request, so both events are throttled.
  const logQueueFull = throttledLog(logger, 'warn');
  const logWorkerFailed = throttledLog(logger, 'warn');

  const passes = async (context: RequestContext, user: string, password: string): Promise<boolean> => {
    try {
      return await checker.check(user, password);
    } catch (error) {
      if (!(error instanceof BcryptCheckError)) throw error;
      // The log line contains neither the user name nor the password, and neither does the error.
      const fields = { [Fields.router]: context.router, [Fields.status]: 401, err: error };
      if (error.failure === 'queue full') logQueueFull(fields, 'bcrypt check queue is full, so a request was rejected');
      else logWorkerFailed(fields, 'bcrypt worker thread failed, so a request was rejected');
      return false;
    }
  };

  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    const credentials = basicCredentials(context);
    if (credentials === undefined || !(await passes(context, credentials.user, credentials.password))) {
      sendStatus(context, 401, ['WWW-Authenticate', challenge], '401 Unauthorized\n');
      return;
    }

    const headers = context.request.headers;
    if (settings.headerField !== undefined) headers[settings.headerField] = credentials.user;
    if (settings.removeHeader) delete headers.authorization;
    await next();
  };

  // The password is not checked for explain, because a bcrypt run is slow on purpose.
  return withPreview(handle, (context) =>
    basicCredentials(context) === undefined
      ? { effect: 'responds', status: 401, reason: 'the request has no Basic credentials in its Authorization header' }
      : { effect: 'may-respond', statuses: [401], reason: 'responds 401 unless the user name and password in the Authorization header are valid' },
  );
}

/**
 * Reads and checks the options; throws an Error naming the bad option. Messages never contain a
 * hash. They name the user of a bad `users` entry, but for `usersFile` only the line number,
 * because the file may be any file (such as /etc/passwd) and the API redacts the option. `usersFile`
 * is read here, once.
 */
export function basicAuthSettings(options: Record<string, unknown>): BasicAuthSettings {
  const users = new Map<string, string>();
  const usersFile = option(options, 'usersFile');
  if (usersFile !== undefined && String(usersFile).trim() !== '') {
    const path = String(usersFile).trim();
    for (const [line, number] of fileLines(path)) addUser(users, line, { where: `basicauth usersFile line ${number}`, showName: false });
  }
  // Entries of `users` come after the file's, so they win for a name in both, as in Traefik's code.
  stringList(options, 'users').forEach((entry, index) => addUser(users, entry, { where: `basicauth users entry ${index + 1}`, showName: true }));
  if (users.size === 0) {
    throw new Error('basicauth has no users: set users to htpasswd lines such as users=alice:$apr1$..., or usersFile to a file of them');
  }

  const realmOption = option(options, 'realm');
  const realm = realmOption === undefined || String(realmOption) === '' ? DEFAULT_REALM : String(realmOption);
  if (/[\r\n\0]/.test(realm)) throw new Error(`basicauth realm ${JSON.stringify(realm)} is invalid: remove the line break or NUL character`);

  const fieldOption = option(options, 'headerField');
  const headerField = fieldOption === undefined || String(fieldOption).trim() === '' ? undefined : String(fieldOption).trim();
  if (headerField !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(headerField)) {
    throw new Error(`basicauth headerField ${JSON.stringify(headerField)} is not a valid header name: use letters, digits and dashes, for example headerField=X-WebAuth-User`);
  }

  return { users, realm, headerField: headerField?.toLowerCase(), removeHeader: booleanOption(options, 'basicauth', 'removeHeader') };
}

/** Returns the non-blank lines of `path` that are not comments, with their line numbers. */
function fileLines(path: string): Array<[string, number]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`basicauth usersFile could not be read (${code}): check the path that usersFile names, and mount the file into Berth's container if Berth runs in one`, { cause: error });
  }
  const lines: Array<[string, number]> = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) lines.push([line, index + 1]);
  });
  return lines;
}

/** Source of an htpasswd entry, as messages name it, and whether they may show its user name. */
interface EntrySource {
  where: string;
  showName: boolean;
}

function addUser(users: Map<string, string>, entry: string, source: EntrySource): void {
  const parts = entry.trim().split(':');
  const [name = '', hash = ''] = parts;
  const named = source.showName && name !== '' ? ` (user ${JSON.stringify(name)})` : '';
  const command = source.showName && name !== '' ? name : 'name';
  const where = source.where + named;
  // The text may be a password pasted by mistake, so a message shows no part of an entry without a name.
  if (parts.length !== 2 || name === '') {
    const label = parts.length > 2 ? where : source.where;
    throw new Error(`${label} is invalid: write name:hash with exactly one colon, as htpasswd -nB name prints`);
  }
  const cost = /^\$2[abxy]\$(\d{2})\$/.exec(hash)?.[1];
  if (hashScheme(hash) === undefined && cost !== undefined) {
    throw new Error(`${where} has an invalid bcrypt cost ${cost} (valid costs are 4 to 31): hash the password again, for example with htpasswd -nB -C 10 ${command}`);
  }
  if (hashScheme(hash) === undefined) {
    throw new Error(
      `${where} has no supported password hash: use bcrypt ($2y$), SHA-1 ({SHA}) or MD5 ($apr1$) as htpasswd -nB ${command} prints. Plain-text passwords are not accepted`,
    );
  }
  users.set(name, hash);
}

/**
 * Decodes `Authorization: Basic <base64 of user:password>`, as Go's Request.BasicAuth does: the
 * scheme in any case, standard Base64 with padding, and the first colon ending the user name.
 */
export function basicCredentials(context: RequestContext): { user: string; password: string } | undefined {
  const value = context.request.headers.authorization;
  if (value === undefined || value.length < 6 || value.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const encoded = value.slice(6);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) return undefined;

  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Checks credentials against the users' hashes, with a bounded memory of successful checks. */
export class CredentialChecker {
  readonly #users: ReadonlyMap<string, string>;
  /** Hash of the first user, checked against an unknown user's password so that its rejection takes about as long as a known user's. */
  readonly #decoy: string;
  readonly #verified = new Set<string>();
  readonly #pending = new Map<string, Promise<boolean>>();

  constructor(users: ReadonlyMap<string, string>) {
    this.#users = users;
    this.#decoy = users.values().next().value ?? '';
  }

  /** Returns whether the credentials match. Rejects with a BcryptCheckError when a bcrypt check cannot run. */
  async check(user: string, password: string): Promise<boolean> {
    const hash = this.#users.get(user);
    if (hash === undefined) {
      await verifyPassword(password, this.#decoy);
      return false;
    }

    const key = createHash('sha256').update(hash).update('\0').update(password).digest('base64');
    if (this.#verified.has(key)) return true;

    // Concurrent requests with the same credentials share one check.
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = verifyPassword(password, hash).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    const matched = await pending;
    if (matched) this.#remember(key);
    return matched;
  }

  #remember(key: string): void {
    this.#verified.add(key);
    if (this.#verified.size > VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.values().next();
      if (oldest.done !== true) this.#verified.delete(oldest.value);
    }
  }
}
