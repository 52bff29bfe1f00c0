// Password hashes in the htpasswd formats that Traefik's basicAuth accepts (through the
// github.com/abbot/go-http-auth package): bcrypt (`$2y$`, `$2b$`, `$2a$`, `$2x$`), SHA-1
// (`{SHA}` and the Base64 digest) and MD5-crypt (`$apr1$` from htpasswd, `$1$` from
// `openssl passwd -1`). A plain-text password matches nothing in Traefik, so Berth rejects it at load.
import { createHash, timingSafeEqual } from 'node:crypto';
import { compareOnWorker } from './bcrypt-worker.js';


export type HashScheme = 'bcrypt' | 'sha1' | 'md5-crypt';

/** bcrypt with a cost from 4 to 31, the range bcrypt defines; bcryptjs throws on any other cost. */
const BCRYPT = /^\$2[abxy]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;
const MD5_CRYPT = /^\$(apr1|1)\$([^$]{0,8})\$[./A-Za-z0-9]{22}$/;

/** Returns the scheme of an htpasswd hash, or undefined when the text is no hash Berth can check. */
export function hashScheme(hash: string): HashScheme | undefined {
  if (BCRYPT.test(hash)) return 'bcrypt';
  if (SHA1.test(hash)) return 'sha1';
  if (MD5_CRYPT.test(hash)) return 'md5-crypt';
  return undefined;
}

/**
 * Checks `password` against an htpasswd `hash` whose scheme `hashScheme` accepted. Digests are
 * compared in constant time. bcrypt runs on a worker thread, so a check does not block the event
 * loop. Rejects with a BcryptCheckError when a bcrypt check cannot run.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  switch (hashScheme(hash)) {
    case 'bcrypt':
      // bcryptjs rejects the `$2x$` prefix, so it is checked as `$2a$`. go-http-auth also handles `$2x$` like `$2a$`.
      return compareOnWorker(password, hash.startsWith('$2x$') ? `$2a$${hash.slice(4)}` : hash);
    case 'sha1': {
      const digest = createHash('sha1').update(password, 'utf8').digest();
      return timingSafeEqual(digest, Buffer.from(hash.slice('{SHA}'.length), 'base64'));
    }
    case 'md5-crypt': {
      const [, magic = '', salt = ''] = MD5_CRYPT.exec(hash) ?? [];
      const computed = Buffer.from(md5Crypt(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), `$${magic}$`), 'utf8');
      const stored = Buffer.from(hash, 'utf8');
      return computed.length === stored.length && timingSafeEqual(computed, stored);
    }
    case undefined:
      return false;
  }
}

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Computes an MD5-crypt hash, the algorithm of FreeBSD's crypt(3) that Apache's htpasswd reuses with
 * the magic `$apr1$`: 1,000 rounds of MD5 over the password, the salt (8 bytes at most) and earlier
 * digests, then the digest in crypt's Base64 alphabet. Returns `magic + salt + '$' + digest`.
 */
export function md5Crypt(password: Buffer, salt: Buffer, magic: string): string {
  const shortSalt = salt.subarray(0, 8);
  const alternate = createHash('md5').update(password).update(shortSalt).update(password).digest();

  const first = createHash('md5').update(password).update(magic).update(shortSalt);
  for (let left = password.length; left > 0; left -= 16) first.update(alternate.subarray(0, Math.min(16, left)));
  // Each bit of the password length adds a zero byte (bit set) or the first password byte (bit clear).
  for (let bits = password.length; bits > 0; bits >>= 1) first.update((bits & 1) === 1 ? Buffer.from([0]) : password.subarray(0, 1));
  let digest = first.digest();

  for (let round = 0; round < 1_000; round += 1) {
    const step = createHash('md5');
    step.update(round % 2 === 1 ? password : digest);
    if (round % 3 !== 0) step.update(shortSalt);
    if (round % 7 !== 0) step.update(password);
    step.update(round % 2 === 1 ? digest : password);
    digest = step.digest();
  }

  // crypt(3) writes the 16 bytes as five triples in this order, then byte 11 alone.
  const triples: Array<[number, number, number]> = [
    [0, 6, 12],
    [1, 7, 13],
    [2, 8, 14],
    [3, 9, 15],
    [4, 10, 5],
  ];
  let encoded = '';
  for (const [a, b, c] of triples) {
    encoded += encode24(((digest[a] ?? 0) << 16) | ((digest[b] ?? 0) << 8) | (digest[c] ?? 0), 4);
  }
  encoded += encode24(digest[11] ?? 0, 2);
  return `${magic}${shortSalt.toString('utf8')}$${encoded}`;
}

/** Writes the low `count * 6` bits of `value` in crypt's alphabet, least significant first. */
function encode24(value: number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i += 1) text += CRYPT_ALPHABET[(value >> (6 * i)) & 0x3f];
  return text;
}
