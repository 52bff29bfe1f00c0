import { describe, expect, test } from 'vitest';

import { routerCertificateRequests, wantedCertificates } from '../../../src/tls/acme/domains.js';
import { runtimeWithRouters } from '../../integration/harness/acme-manager.js';

describe('wanted certificates', () => {
  test('hosts of the rule, one certificate per router', () => {
    const runtime = runtimeWithRouters({
      app: { rule: 'Host(`App.example.test`) || Host(`www.example.test`)', tls: { certResolver: 'le' } },
      other: { rule: 'Host(`other.example.test`)', tls: { certResolver: 'other' } },
      plain: { rule: 'Host(`plain.example.test`)', tls: {} },
    });
    const { wanted, problems } = wantedCertificates(runtime, 'le');
    expect(wanted.map((item) => item.request)).toEqual([{ main: 'app.example.test', sans: ['www.example.test'] }]);
    expect(wanted[0]?.routers).toEqual(['app@docker']);
    expect(problems).toEqual([]);
  });

  test('domains replace the rule hosts', () => {
    const runtime = runtimeWithRouters({
      apex: { rule: 'Host(`example.test`)', tls: { certResolver: 'LE', domains: [{ main: 'example.test', sans: ['*.example.test'] }, { main: 'b.example.test', sans: [] }] } },
    });
    const { wanted } = wantedCertificates(runtime, 'le');
    expect(wanted.map((item) => item.key)).toEqual(['*.example.test,example.test', 'b.example.test']);
  });

  test('identical requests merged', () => {
    const runtime = runtimeWithRouters({
      one: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } },
      two: { rule: 'Host(`app.example.test`) && PathPrefix(`/api`)', tls: { certResolver: 'le' } },
    });
    const { wanted } = wantedCertificates(runtime, 'le');
    expect(wanted).toHaveLength(1);
    expect(wanted[0]?.routers).toEqual(['one@docker', 'two@docker']);
  });

  test('names a CA cannot issue reported', () => {
    const runtime = runtimeWithRouters({
      regexp: { rule: 'HostRegexp(`^.+\\.example\\.test$`)', tls: { certResolver: 'le' } },
      local: { rule: 'Host(`localhost`)', tls: { certResolver: 'le' } },
      address: { rule: 'Host(`192.0.2.10`)', tls: { certResolver: 'le' } },
    });
    const { wanted, problems } = wantedCertificates(runtime, 'le');
    expect(wanted).toEqual([]);
    expect(problems.map((problem) => problem.router).sort()).toEqual(['address@docker', 'local@docker', 'regexp@docker']);
    expect(problems.find((problem) => problem.router === 'regexp@docker')?.message).toContain('tls.domains[0].main');
  });

  // Before, the message for every one of these was "a CA issues only for DNS names with two or more labels".
  test.each([
    ['*.*.example.test', 'has a wildcard that is not exactly the leftmost label; a CA issues wildcards only in the form *.example.com, one level deep'],
    ['a.*.example.test', 'has a wildcard that is not exactly the leftmost label; a CA issues wildcards only in the form *.example.com, one level deep'],
    ['*example.test', 'has a wildcard that is not exactly the leftmost label; a CA issues wildcards only in the form *.example.com, one level deep'],
    ['localhost', 'has a single label, and a CA issues only for DNS names with two or more labels'],
    ['192.0.2.10', 'is an IP address, and Berth orders certificates for DNS names only'],
    ['-a.example.test', 'is not a valid DNS name; each label needs 1 to 63 letters, digits or hyphens, and no hyphen at either end'],
  ])('reason for %s', (name, reason) => {
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`app.example.test`)', tls: { certResolver: 'le', domains: [{ main: name, sans: [] }] } });
    expect(requests).toEqual([]);
    expect(problems).toEqual([`no certificate can be ordered for "${name}", so the router still serves, but without a certificate from resolver "le": "${name}" ${reason}`]);
  });

  test('valid domain entry still ordered next to an invalid one', () => {
    const domains = [
      { main: '*.*.example.test', sans: [] },
      { main: '*.example.test', sans: ['example.test'] },
    ];
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`app.example.test`)', tls: { certResolver: 'le', domains } });
    expect(requests).toEqual([{ main: '*.example.test', sans: ['example.test'] }]);
    expect(problems).toHaveLength(1);
  });
});

describe('rule domains as Traefik collects them', () => {
  const tls = { certResolver: 'le' };

  // Before, each of these rules got "the rule names no literal Host" and no certificate.
  test.each([
    { desc: 'Host or PathPrefix', rule: 'Host(`ok.a.test`) || PathPrefix(`/x`)', expected: [{ main: 'ok.a.test', sans: [] }] },
    { desc: 'Host or IPv6 Host', rule: 'Host(`ok.a.test`) || Host(`[::1]`)', expected: [{ main: 'ok.a.test', sans: [] }] },
    { desc: 'hosts in rule order', rule: 'Host(`b.a.test`) || Host(`a.a.test`) || Host(`B.a.test.`)', expected: [{ main: 'b.a.test', sans: ['a.a.test'] }] },
    { desc: 'negated Host skipped', rule: 'Host(`ok.a.test`) && !Host(`no.a.test`)', expected: [{ main: 'ok.a.test', sans: [] }] },
    { desc: 'double negation positive', rule: '!(!Host(`ok.a.test`))', expected: [{ main: 'ok.a.test', sans: [] }] },
    { desc: 'HostRegexp gives no name', rule: 'Host(`ok.a.test`) || HostRegexp(`^.+$`)', expected: [{ main: 'ok.a.test', sans: [] }] },
  ])('$desc', ({ rule, expected }) => {
    expect(routerCertificateRequests({ rule, tls }, 'http-01').requests).toEqual(expected);
  });

  test('left-out IP address reported', () => {
    const { problems } = routerCertificateRequests({ rule: 'Host(`ok.a.test`) || Host(`[::1]`)', tls }, 'http-01');
    expect(problems).toEqual([
      'the certificate for "ok.a.test" leaves out Host values of the rule that resolver "le" cannot order: "[::1]" is an IP address, and Berth orders certificates for DNS names only',
    ]);
  });

  test('only negated Host has no name', () => {
    const { requests, problems } = routerCertificateRequests({ rule: '!Host(`no.a.test`)', tls }, 'http-01');
    expect(requests).toEqual([]);
    expect(problems[0]).toContain('the rule has no Host matcher outside a negation');
  });

  // Before, an HTTP-01 resolver was told that "a DNS-01 order covers DNS names only".
  test.each([
    { challenge: 'http-01' as const, reason: 'is an IP address, and Berth orders certificates for DNS names only' },
    { challenge: 'dns-01' as const, reason: 'is an IP address, and DNS-01 validates DNS names only' },
  ])('IP address reason with $challenge', ({ challenge, reason }) => {
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`10.0.0.1`)', tls }, challenge);
    expect(requests).toEqual([]);
    expect(problems).toEqual([`no certificate can be ordered for the Host values of the rule, so the router still serves, but without a certificate from resolver "le": "10.0.0.1" ${reason}`]);
  });
});

describe('wildcards need DNS-01', () => {
  const wildcardDomains = { certResolver: 'le', domains: [{ main: '*.b.test', sans: [] }] };

  // Before, no warning came, and the order failed later in the resolver.
  test.each(['http-01', 'tls-alpn-01'] as const)('tls.domains wildcard with %s', (challenge) => {
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`a.b.test`)', tls: wildcardDomains }, challenge);
    expect(requests).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`"*.b.test" is a wildcard, which the CA validates only with DNS-01, but the resolver uses ${challenge.toUpperCase()}`);
  });

  test('wildcard SAN with HTTP-01', () => {
    const domains = [{ main: 'b.test', sans: ['*.b.test'] }];
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`a.b.test`)', tls: { certResolver: 'le', domains } }, 'http-01');
    expect(requests).toEqual([]);
    expect(problems[0]).toContain('"*.b.test" is a wildcard');
  });

  test('tls.domains wildcard with DNS-01', () => {
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`a.b.test`)', tls: wildcardDomains }, 'dns-01');
    expect(requests).toEqual([{ main: '*.b.test', sans: [] }]);
    expect(problems).toEqual([]);
  });

  // Before, Host(`*.a.test`) got the HostRegexp message.
  test('rule wildcard with HTTP-01', () => {
    const { requests, problems } = routerCertificateRequests({ rule: 'Host(`*.a.test`)', tls: { certResolver: 'le' } }, 'http-01');
    expect(requests).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('"*.a.test" is a wildcard, which the CA validates only with DNS-01, but the resolver uses HTTP-01');
    expect(problems[0]).toContain('tls.domains[0].main=*.a.test');
  });

  test('rule wildcard with DNS-01', () => {
    const { requests } = routerCertificateRequests({ rule: 'Host(`*.a.test`)', tls: { certResolver: 'le' } }, 'dns-01');
    expect(requests).toEqual([{ main: '*.a.test', sans: [] }]);
  });
});

describe('wanted certificates with entry point TLS', () => {
  const websecureLe = { web: undefined, websecure: { certResolver: 'le' } };

  // Before, only router.tls was read, so a router without tls labels on this entry point got no certificate.
  test('entry point resolver orders rule hosts', () => {
    const runtime = runtimeWithRouters({ app: { rule: 'Host(`app.example.test`)', entryPoints: ['websecure'] } }, websecureLe);
    const { wanted, problems } = wantedCertificates(runtime, 'le');
    expect(wanted.map((item) => item.request)).toEqual([{ main: 'app.example.test', sans: [] }]);
    expect(wanted[0]?.routers).toEqual(['app@docker']);
    expect(problems).toEqual([]);
  });

  test('entry point domains replace rule hosts', () => {
    const domains = [{ main: 'example.test', sans: ['*.example.test'] }];
    const runtime = runtimeWithRouters({ app: { rule: 'Host(`app.example.test`)' } }, { websecure: { certResolver: 'le', domains } });
    const { wanted } = wantedCertificates(runtime, 'le');
    expect(wanted.map((item) => item.key)).toEqual(['*.example.test,example.test']);
  });

  test('router tls wins over entry point', () => {
    const runtime = runtimeWithRouters({ own: { rule: 'Host(`own.example.test`)', tls: { certResolver: 'other' } } }, websecureLe);
    expect(wantedCertificates(runtime, 'le').wanted).toEqual([]);
    expect(wantedCertificates(runtime, 'other').wanted.map((item) => item.key)).toEqual(['own.example.test']);
  });

  test('router only on plain entry point skipped', () => {
    const runtime = runtimeWithRouters({ plain: { rule: 'Host(`plain.example.test`)', entryPoints: ['web'] } }, websecureLe);
    expect(wantedCertificates(runtime, 'le').wanted).toEqual([]);
  });

  test('each entry point resolver orders', () => {
    const runtime = runtimeWithRouters({ app: { rule: 'Host(`app.example.test`)' } }, { websecure: { certResolver: 'le' }, internal: { certResolver: 'other' } });
    expect(wantedCertificates(runtime, 'le').wanted.map((item) => item.key)).toEqual(['app.example.test']);
    expect(wantedCertificates(runtime, 'other').wanted.map((item) => item.key)).toEqual(['app.example.test']);
  });

  test('two entry points, one request', () => {
    const runtime = runtimeWithRouters(
      { regexp: { rule: 'HostRegexp(`^.+$`)' }, app: { rule: 'Host(`app.example.test`)' } },
      { websecure: { certResolver: 'le' }, alternate: { certResolver: 'le' } },
    );
    const { wanted, problems } = wantedCertificates(runtime, 'le');
    expect(wanted).toHaveLength(1);
    expect(wanted[0]?.routers).toEqual(['app@docker']);
    expect(problems.map((problem) => problem.router)).toEqual(['regexp@docker']);
  });

  test('entry point problem warns on router', () => {
    const runtime = runtimeWithRouters({ regexp: { rule: 'HostRegexp(`^.+$`)' } }, websecureLe);
    const warnings = runtime.config.routers.get('regexp@docker')?.warnings ?? [];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('the rule has no Host matcher outside a negation');
  });
});

describe('wanted certificates of disabled routers', () => {
  // Before, a router disabled by an error still had its certificate ordered.
  test('router tls resolver skipped', () => {
    const runtime = runtimeWithRouters({
      broken: { rule: 'Host(`broken.example.test`)', tls: { certResolver: 'le' }, service: 'missing' },
      app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } },
    });
    expect(runtime.config.routers.get('broken@docker')?.errors).toHaveLength(1);
    const { wanted, problems } = wantedCertificates(runtime, 'le');
    expect(wanted.map((item) => item.key)).toEqual(['app.example.test']);
    expect(problems).toEqual([]);
  });

  test('entry point resolver skipped', () => {
    const runtime = runtimeWithRouters({ broken: { rule: 'Host(`broken.example.test`)', service: 'missing' } }, { websecure: { certResolver: 'le' } });
    expect(wantedCertificates(runtime, 'le').wanted).toEqual([]);
  });

  test('problems of disabled router not reported', () => {
    const runtime = runtimeWithRouters({ broken: { rule: 'HostRegexp(`^.+$`)', tls: { certResolver: 'le' }, service: 'missing' } });
    expect(wantedCertificates(runtime, 'le').problems).toEqual([]);
  });
});
