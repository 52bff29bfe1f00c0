import { describe, expect, test } from 'vitest';

import { LETS_ENCRYPT_DIRECTORY } from '../../src/config/index.js';
import { load, loadError } from './helpers.js';

const DNS = '--certificatesresolvers.le.acme.dnschallenge.provider=cloudflare';

describe('certificate resolvers', () => {
  test('none by default', async () => {
    const config = await load();
    expect(config.certificatesResolvers).toEqual({});
  });

  test('defaults of a DNS-01 resolver', async () => {
    const config = await load({ argv: [DNS] });
    const resolver = config.certificatesResolvers.le;
    expect(resolver?.caServer).toBe(LETS_ENCRYPT_DIRECTORY);
    expect(resolver?.keyType).toBe('EC256');
    expect(resolver?.certificatesDurationHours).toBe(2160);
    expect(resolver?.storage.endsWith('/acme.json')).toBe(true);
    expect(resolver?.tlsChallenge).toBe(false);
    expect(resolver?.dnsChallenge).toEqual({ provider: 'cloudflare', resolvers: [], delayBeforeChecksMs: 0, disableChecks: false });
  });

  test('every option from flags', async () => {
    const config = await load({
      argv: [
        DNS,
        '--certificatesresolvers.le.acme.email=ops@example.test',
        '--certificatesresolvers.le.acme.storage=/data/acme.json',
        '--certificatesresolvers.le.acme.caserver=https://127.0.0.1:14000/dir',
        '--certificatesresolvers.le.acme.keytype=rsa4096',
        '--certificatesresolvers.le.acme.certificatesduration=160',
        '--certificatesresolvers.le.acme.preferredchain=ISRG Root X1',
        '--certificatesresolvers.le.acme.eab.kid=kid-1',
        '--certificatesresolvers.le.acme.eab.hmacencoded=aG1hYw',
        '--certificatesresolvers.le.acme.dnschallenge.resolvers=127.0.0.1:5353, 1.1.1.1',
        '--certificatesresolvers.le.acme.dnschallenge.propagation.delaybeforechecks=1m30s',
        '--certificatesresolvers.le.acme.dnschallenge.propagation.disablechecks=true',
        '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web',
        '--certificatesresolvers.le.acme.tlschallenge',
      ],
    });
    expect(config.certificatesResolvers.le).toEqual({
      name: 'le',
      email: 'ops@example.test',
      storage: '/data/acme.json',
      caServer: 'https://127.0.0.1:14000/dir',
      keyType: 'RSA4096',
      certificatesDurationHours: 160,
      preferredChain: 'ISRG Root X1',
      eab: { kid: 'kid-1', hmacEncoded: 'aG1hYw' },
      dnsChallenge: { provider: 'cloudflare', resolvers: ['127.0.0.1:5353', '1.1.1.1:53'], delayBeforeChecksMs: 90_000, disableChecks: true },
      httpChallenge: { entryPoint: 'web' },
      tlsChallenge: true,
    });
  });

  test('resolver name with underscore from env', async () => {
    const config = await load({ env: { BERTH_CERTIFICATESRESOLVERS_MY_LE_ACME_HTTPCHALLENGE_ENTRYPOINT: 'web' } });
    expect(config.certificatesResolvers.my_le?.httpChallenge).toEqual({ entryPoint: 'web' });
  });

  test('older propagation names', async () => {
    const config = await load({
      argv: [DNS, '--certificatesresolvers.le.acme.dnschallenge.delaybeforecheck=10', '--certificatesresolvers.le.acme.dnschallenge.disablepropagationcheck=true'],
    });
    expect(config.certificatesResolvers.le?.dnsChallenge?.delayBeforeChecksMs).toBe(10_000);
    expect(config.certificatesResolvers.le?.dnsChallenge?.disableChecks).toBe(true);
  });

  test('YAML file', async () => {
    const config = await load({
      files: {
        'berth.yaml': 'certificatesResolvers:\n  le:\n    acme:\n      storage: certs/acme.json\n      dnsChallenge:\n        provider: cloudflare\n        resolvers: "127.0.0.1:53"\n',
      },
    });
    expect(config.certificatesResolvers.le?.storage.endsWith('/certs/acme.json')).toBe(true);
    expect(config.certificatesResolvers.le?.dnsChallenge?.resolvers).toEqual(['127.0.0.1:53']);
  });

  test('YAML list of resolvers', async () => {
    const config = await load({
      files: { 'berth.yaml': 'certificatesResolvers:\n  le:\n    acme:\n      dnsChallenge:\n        provider: cloudflare\n        resolvers:\n          - 1.1.1.1:53\n          - "[2606:4700:4700::1111]"\n' },
    });
    expect(config.certificatesResolvers.le?.dnsChallenge?.resolvers).toEqual(['1.1.1.1:53', '[2606:4700:4700::1111]:53']);
  });

  test('resolver without challenge rejected', async () => {
    const error = await loadError({ argv: ['--certificatesresolvers.le.acme.email=ops@example.test'] });
    expect(error.message).toContain('Certificate resolver le has no challenge');
  });

  test('unknown DNS provider rejected', async () => {
    const error = await loadError({ argv: ['--certificatesresolvers.le.acme.dnschallenge.provider=route53'] });
    expect(error.message).toContain('"route53"');
    expect(error.message).toContain('cloudflare');
  });

  test('unknown HTTP-01 entry point rejected', async () => {
    const error = await loadError({ argv: ['--certificatesresolvers.le.acme.httpchallenge.entrypoint=http'] });
    expect(error.message).toContain('no entry point is named http');
  });

  test('invalid values rejected', async () => {
    const cases = [
      ['--certificatesresolvers.le.acme.keytype=RSA8192', 'RSA8192 is not supported'],
      ['--certificatesresolvers.le.acme.caserver=ftp://ca', 'https://'],
      ['--certificatesresolvers.le.acme.certificatesduration=0', 'whole number'],
      ['--certificatesresolvers.le.acme.dnschallenge.resolvers=dns server', 'not a DNS server address'],
      ['--certificatesresolvers.le.acme.dnschallenge.propagation.delaybeforechecks=soon', 'duration'],
    ];
    for (const [flag, reason] of cases) {
      const error = await loadError({ argv: [DNS, flag ?? ''] });
      expect(error.message, flag).toContain(reason);
    }
  });
});
