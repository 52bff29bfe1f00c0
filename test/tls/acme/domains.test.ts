import { describe, expect, test } from 'vitest';

import { wantedCertificates } from '../../../src/tls/acme/domains.js';
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
});
