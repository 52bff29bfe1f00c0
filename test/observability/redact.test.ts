import { describe, expect, it } from 'vitest';

import { redactServerUrl, redactUrl } from '../../src/observability/redact.js';

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

describe('redactServerUrl', () => {
  it.each([
    ['http://user:S3cret@127.0.0.1:19101/', 'http://<redacted>@127.0.0.1:19101/'],
    ['http://user:S3cret PW9@127.0.0.1:19101', 'http://<redacted>@127.0.0.1:19101'],
    ['http:/user:S3cretPW18@127.0.0.1:19101', 'http:/<redacted>@127.0.0.1:19101'],
    ['http:\\\\user:S3cretPW19@127.0.0.1:19101', 'http:\\\\<redacted>@127.0.0.1:19101'],
    ['http://user:pa/ss@127.0.0.1:19101', 'http://<redacted>@127.0.0.1:19101'],
    ['user:S3cretPW8@127.0.0.1:19101', 'user:<redacted>@127.0.0.1:19101'],
    ['//user:S3cretPW12@127.0.0.1:19101', '<redacted>@127.0.0.1:19101'],
  ])('hides the userinfo of %s', (value, expected) => {
    expect(redactServerUrl(value)).toBe(expected);
    expect(redactServerUrl(value)).not.toMatch(/S3cret|pa\/ss/);
  });

  it('keeps a URL without userinfo, even with @ in its path', () => {
    expect(redactServerUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(redactServerUrl('http://127.0.0.1:8080/a@b')).toBe('http://127.0.0.1:8080/a@b');
  });
});
