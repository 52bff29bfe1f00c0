// Middleware options at their edges. Each comment records, as "Observed", the fault a review found
// before the fix, and as "Expected", what the test now holds.
import { describe, expect, it } from 'vitest';

import { basicAuthSettings, CredentialChecker } from '../../src/middlewares/basicauth.js';
import { ipAllowListSettings } from '../../src/middlewares/ipallowlist.js';

/** crypt_blowfish test vector for the password `U*U`, cost 05. */
const BCRYPT_UU = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';

describe('basicAuth bcrypt cost', () => {
  // Observed: the hash passes the load check, because `\d{2}` accepts any two digits. Then every
  // request for that user gets 500 with the log line "request failed in a middleware", because
  // bcryptjs rejects with "Illegal number of rounds (4-31)". When it is the first user, its hash
  // is the decoy, so every request with an unknown user name gets 500 too.
  // Expected: a load error naming the user and the cost, with the fix, such as
  // `basicauth users entry 1 (user "alice") has bcrypt cost 99, outside 4 to 31: ...`.
  it.each(['03', '99', '32'])('rejects a bcrypt hash of cost %s at load', (cost) => {
    const hash = `$2y$${cost}$${BCRYPT_UU.slice(7)}`;
    expect(() => basicAuthSettings({ users: [`alice:${hash}`] })).toThrow(/alice.*cost|cost.*alice/);
  });

  // Observed: check() rejects with "Illegal number of rounds (4-31): 99" (the dispatcher turns it
  // into 500). Expected: false (401), a mismatch, as for any other hash that cannot match.
  it('invalid cost is a mismatch', async () => {
    const checker = new CredentialChecker(new Map([['alice', `$2y$99$${BCRYPT_UU.slice(7)}`]]));
    await expect(checker.check('bob', 'guess')).resolves.toBe(false);
  });
});

describe('ipAllowList rejectStatusCode', () => {
  // Observed: accepted. A rejected client then gets `HTTP/1.1 100 Continue` with the header
  // fields of the reject response, which a client reads as an interim response, and then
  // nothing: it waits until its own timeout. The reject is silent and looks like a hang.
  // Expected: a load error naming the value, such as `ipallowlist rejectStatusCode 100 is
  // invalid: write a final status code from 200 to 599, for example rejectStatusCode=404`.
  it.each([100, 101, 103])('rejects the informational status %i at load', (code) => {
    expect(() => ipAllowListSettings({ sourceRange: ['10.0.0.1'], rejectStatusCode: code })).toThrow(/rejectStatusCode/);
  });
});
