// The basicAuth middleware and the htpasswd hash formats, with hashes made by other tools:
// `openssl passwd -apr1` / `-1`, the SHA-1 digest from `openssl dgst -sha1`, and bcrypt vectors
// from the crypt_blowfish test suite.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { basicAuthSettings, createBasicAuth } from '../../src/middlewares/basicauth.js';
import { hashScheme, md5Crypt, verifyPassword } from '../../src/middlewares/htpasswd.js';
import { contextFor, runMiddleware } from './header-context.js';

/** `openssl passwd -apr1 -salt H6uskkkW test`, also the example in Traefik's documentation. */
const APR1_TEST = '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/';
/** `openssl passwd -apr1 -salt Zx9yW8vu 'pässwörd'`: a password with bytes above 0x7f. */
const APR1_UTF8 = '$apr1$Zx9yW8vu$zMe/qS1AENERCoKaDGwv1/';
/** `openssl passwd -1 -salt saltsalt secret`. */
const MD5_SECRET = '$1$saltsalt$9xy1btjgzLYfb7hivXtC//';
/** `{SHA}` + Base64 of SHA-1("secret"). */
const SHA_SECRET = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=';
/** crypt_blowfish test vector for the password `U*U`. */
const BCRYPT_UU = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';

const scratch = mkdtempSync(join(tmpdir(), 'berth-basicauth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

describe('htpasswd hashes', () => {
  it.each([
    ['apr1', 'test', APR1_TEST],
    ['apr1 with UTF-8 password', 'pässwörd', APR1_UTF8],
    ['md5-crypt $1$', 'secret', MD5_SECRET],
    ['SHA-1', 'secret', SHA_SECRET],
    ['bcrypt $2a$', 'U*U', BCRYPT_UU],
    ['bcrypt $2y$', 'U*U', `$2y$${BCRYPT_UU.slice(4)}`],
    ['bcrypt $2b$', 'U*U', `$2b$${BCRYPT_UU.slice(4)}`],
    ['bcrypt $2x$', 'U*U', `$2x$${BCRYPT_UU.slice(4)}`],
  ])('%s matches its password only', async (_name, password, hash) => {
    expect(await verifyPassword(password, hash)).toBe(true);
    expect(await verifyPassword(`${password}x`, hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('md5Crypt reproduces openssl output', () => {
    expect(md5Crypt(Buffer.from('test'), Buffer.from('H6uskkkW'), '$apr1$')).toBe(APR1_TEST);
    expect(md5Crypt(Buffer.from('secret'), Buffer.from('saltsalt'), '$1$')).toBe(MD5_SECRET);
  });

  it.each(['secret', '$5$rounds=5000$salt$abc', '$6$salt$abc', '{SHA}short', '$apr1$salt$tooShort', ''])('rejects %j as no hash', (text) => {
    expect(hashScheme(text)).toBeUndefined();
  });
});

describe('basicAuth requests', () => {
  const middleware = createBasicAuth({ users: [`test:${APR1_TEST}`, `sha:${SHA_SECRET}`, `blow:${BCRYPT_UU}`], realm: 'Staff "only"' });

  it('missing credentials get 401 with realm', async () => {
    const outcome = await runMiddleware(middleware, contextFor());
    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(401);
    expect(outcome.header('www-authenticate')).toBe('Basic realm="Staff \\"only\\""');
    expect(outcome.header('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('wrong password gets 401', async () => {
    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Authorization', basic('test', 'nope')]] }));
    expect(outcome.status).toBe(401);
    expect(outcome.reachedServer).toBe(false);
  });

  it('unknown user gets 401', async () => {
    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Authorization', basic('mallory', 'test')]] }));
    expect(outcome.status).toBe(401);
  });

  it.each([
    ['apr1', 'test', 'test'],
    ['SHA-1', 'sha', 'secret'],
    ['bcrypt', 'blow', 'U*U'],
  ])('right %s password passes', async (_name, user, password) => {
    const context = contextFor({ headers: [['Authorization', basic(user, password)]] });
    const outcome = await runMiddleware(middleware, context);
    expect(outcome.reachedServer).toBe(true);
    expect(outcome.status).toBe(200);
    expect(context.request.headers.authorization).toBe(basic(user, password));
  });

  it('second check served from memory', async () => {
    for (let i = 0; i < 2; i += 1) {
      const outcome = await runMiddleware(middleware, contextFor({ headers: [['Authorization', basic('blow', 'U*U')]] }));
      expect(outcome.reachedServer).toBe(true);
    }
  });

  it.each(['Basic', 'Bearer abc', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`])('malformed header %j gets 401', async (value) => {
    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Authorization', value]] }));
    expect(outcome.status).toBe(401);
  });

  it('scheme name in any case', async () => {
    const value = basic('test', 'test').replace('Basic', 'bAsIc');
    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Authorization', value]] }));
    expect(outcome.reachedServer).toBe(true);
  });

  it('headerField and removeHeader', async () => {
    const withField = createBasicAuth({ users: `test:${APR1_TEST}`, headerField: 'X-WebAuth-User', removeHeader: 'true' });
    const context = contextFor({ headers: [['Authorization', basic('test', 'test')], ['X-WebAuth-User', 'forged']] });
    const outcome = await runMiddleware(withField, context);
    expect(outcome.reachedServer).toBe(true);
    expect(context.request.headers['x-webauth-user']).toBe('test');
    expect(context.request.headers.authorization).toBeUndefined();
  });

  it('default realm is traefik', async () => {
    const outcome = await runMiddleware(createBasicAuth({ users: `test:${APR1_TEST}` }), contextFor());
    expect(outcome.header('www-authenticate')).toBe('Basic realm="traefik"');
  });
});

describe('basicAuth usersFile', () => {
  it('reads htpasswd lines, skipping comments', async () => {
    const path = join(scratch, 'users');
    writeFileSync(path, `# staff\n\n  test:${APR1_TEST}  \r\nsha:${SHA_SECRET}\n`);
    const settings = basicAuthSettings({ usersFile: path });
    expect([...settings.users.keys()]).toEqual(['test', 'sha']);

    const outcome = await runMiddleware(createBasicAuth({ usersFile: path }), contextFor({ headers: [['Authorization', basic('sha', 'secret')]] }));
    expect(outcome.reachedServer).toBe(true);
  });

  it('users entry wins over file line', () => {
    const path = join(scratch, 'both');
    writeFileSync(path, `test:${SHA_SECRET}\n`);
    const settings = basicAuthSettings({ usersFile: path, users: [`test:${APR1_TEST}`] });
    expect(settings.users.get('test')).toBe(APR1_TEST);
  });

  it('missing file gives the error code', () => {
    const path = join(scratch, 'absent');
    expect(() => basicAuthSettings({ usersFile: path })).toThrow('basicauth usersFile could not be read (ENOENT): check the path that usersFile names');
  });

  it('bad file line names only the line', () => {
    const path = join(scratch, 'bad');
    writeFileSync(path, `test:${APR1_TEST}\nbob:plaintext\n`);
    expect(() => basicAuthSettings({ usersFile: path })).toThrow(
      'basicauth usersFile line 2 has no supported password hash: use bcrypt ($2y$), SHA-1 ({SHA}) or MD5 ($apr1$) as htpasswd -nB name prints',
    );
  });

  // Before, usersFile=/etc/passwd gave an error with the file's path and its first user name ("root").
  it('passwd-style file echoes no content', () => {
    const path = join(scratch, 'passwd');
    writeFileSync(path, 'root:x:0:0:root:/root:/bin/bash\n');
    let message = '';
    try {
      basicAuthSettings({ usersFile: path });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('basicauth usersFile line 1 is invalid: write name:hash with exactly one colon, as htpasswd -nB name prints');
    expect(message).not.toContain('root');
    expect(message).not.toContain(path);
  });
});

describe('basicAuth bad options', () => {
  it('plain-text password rejected without echoing it', () => {
    let message = '';
    try {
      basicAuthSettings({ users: ['alice:hunter2'] });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/users entry 1 \(user "alice"\) has no supported password hash/);
    expect(message).not.toContain('hunter2');
  });

  it('entry without colon hides its text', () => {
    expect(() => basicAuthSettings({ users: ['hunter2'] })).toThrow('basicauth users entry 1 is invalid: write name:hash');
    expect(() => basicAuthSettings({ users: ['hunter2'] })).not.toThrow(/hunter2/);
  });

  it('no users rejected', () => {
    expect(() => basicAuthSettings({})).toThrow('basicauth has no users');
  });

  it('bad headerField rejected', () => {
    expect(() => basicAuthSettings({ users: [`test:${APR1_TEST}`], headerField: 'X User' })).toThrow('basicauth headerField "X User" is not a valid header name');
  });

  it('realm with line break rejected', () => {
    expect(() => basicAuthSettings({ users: [`test:${APR1_TEST}`], realm: 'a\r\nb' })).toThrow('basicauth realm');
  });

  it('bad removeHeader rejected', () => {
    expect(() => basicAuthSettings({ users: [`test:${APR1_TEST}`], removeHeader: 'maybe' })).toThrow('basicauth removeHeader "maybe" is invalid');
  });
});
