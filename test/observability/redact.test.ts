import { describe, expect, it } from 'vitest';

import { redactUrl } from '../../src/observability/redact.js';

describe('redactUrl', () => {
  it.each([
    ['http://svcuser:SvcPass777@127.0.0.1:19040/', 'http://<redacted>@127.0.0.1:19040/'],
    ['http://svcuser:SvcPass777@127.0.0.1:19040', 'http://<redacted>@127.0.0.1:19040'],
    ['h2c://token@10.0.0.5:8080', 'h2c://<redacted>@10.0.0.5:8080'],
    // A raw `@` in the password: the userinfo ends at the last `@`, as URL parsers read it.
    ['http://user:p@ss@host:80/', 'http://<redacted>@host:80/'],
    // A password with `?`, which a URL parser rejects and an error message quotes as written.
    ['http://user:p?ss@host:80/', 'http://<redacted>@host:80/'],
    ['server URL "http://u:pw@h:1/x" is invalid', 'server URL "http://<redacted>@h:1/x" is invalid'],
    ['from http://a:1@h1/ and https://b:2@h2/', 'from http://<redacted>@h1/ and https://<redacted>@h2/'],
  ])('redacts %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each([
    'http://127.0.0.1:19040/',
    'http://host/path@with-at',
    'http://host/?mail=a@b.test',
    'user@example.com',
  ])('keeps %s', (input) => {
    expect(redactUrl(input)).toBe(input);
  });

  it('gives the same result twice', () => {
    const once = redactUrl('http://u:pw@h/');
    expect(redactUrl(once)).toBe(once);
  });
});
