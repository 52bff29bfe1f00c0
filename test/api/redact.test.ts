import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/api/views.js';

describe('redactSecrets', () => {
  it('hides values under secret-looking names', () => {
    expect(redactSecrets({ users: ['test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'], realm: 'r' })).toEqual({ users: '<redacted>', realm: 'r' });
  });

  it('hides the password in a URL', () => {
    expect(redactSecrets({ address: 'http://user:pw_URLSECRET@auth.example.test:9000/check' })).toEqual({
      address: 'http://<redacted>@auth.example.test:9000/check',
    });
  });

  it('keeps a URL without credentials', () => {
    expect(redactSecrets({ address: 'http://auth.example.test:9000/check' })).toEqual({ address: 'http://auth.example.test:9000/check' });
  });
});
