import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';

import { YamlDecoder, type FileIssue } from '../../../src/providers/file/decode.js';
import { dynamicFileSchema, type DynamicFile } from '../../../src/providers/file/schema.js';

function decode(text: string): { value: DynamicFile; issues: FileIssue[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  const decoder = new YamlDecoder(document, lineCounter);
  const value = decoder.decode(dynamicFileSchema);
  return { value, issues: decoder.issues };
}

interface Case {
  desc: string;
  yaml: string;
  expected: unknown;
}

describe('YamlDecoder values', () => {
  const cases: Case[] = [
    {
      desc: 'router in Traefik camelCase',
      yaml: `
http:
  routers:
    web:
      rule: Host(\`a.example.test\`)
      entryPoints: [web, websecure]
      service: app
      priority: 10
      middlewares:
        - strip
      tls:
        certResolver: le
        options: modern
        domains:
          - main: example.test
            sans: ["*.example.test"]
`,
      expected: {
        http: {
          routers: {
            web: {
              rule: 'Host(`a.example.test`)',
              entryPoints: ['web', 'websecure'],
              service: 'app',
              priority: 10,
              middlewares: ['strip'],
              tls: { certResolver: 'le', options: 'modern', domains: [{ main: 'example.test', sans: ['*.example.test'] }] },
            },
          },
        },
      },
    },
    {
      desc: 'keys in any case',
      yaml: 'HTTP:\n  Routers:\n    Web:\n      RULE: Path(`/`)\n      EntryPoints: web\n',
      expected: { http: { routers: { Web: { rule: 'Path(`/`)', entryPoints: ['web'] } } } },
    },
    {
      desc: 'tls as an empty mapping turns TLS on',
      yaml: 'http:\n  routers:\n    a:\n      tls: {}\n',
      expected: { http: { routers: { a: { tls: {} } } } },
    },
    {
      desc: 'tls written as true',
      yaml: 'http:\n  routers:\n    a:\n      tls: true\n',
      expected: { http: { routers: { a: { tls: {} } } } },
    },
    {
      desc: 'service with servers',
      yaml: `
http:
  services:
    app:
      loadBalancer:
        passHostHeader: false
        servers:
          - url: http://10.0.0.1:80
          - url: http://10.0.0.2:80
            weight: 3
`,
      expected: {
        http: {
          services: {
            app: { loadBalancer: { passHostHeader: false, servers: [{ url: 'http://10.0.0.1:80' }, { url: 'http://10.0.0.2:80', weight: 3 }] } },
          },
        },
      },
    },
    {
      desc: 'middleware type in camelCase',
      yaml: 'http:\n  middlewares:\n    strip:\n      stripPrefix:\n        prefixes: [/api]\n',
      expected: { http: { middlewares: { strip: { stripprefix: { prefixes: ['/api'] } } } } },
    },
    {
      desc: 'header map keeps names and empty values',
      yaml: 'http:\n  middlewares:\n    h:\n      headers:\n        customRequestHeaders:\n          X-Script-Name: test\n          X-Remove:\n',
      expected: { http: { middlewares: { h: { headers: { customRequestHeaders: { 'X-Script-Name': 'test', 'X-Remove': '' } } } } } },
    },
    {
      desc: 'merge keys apply anchors',
      yaml: `
x-defaults: &defaults
  entryPoints: [websecure]
  tls: {}
http:
  routers:
    a:
      <<: *defaults
      rule: Host(\`a.test\`)
    b:
      <<: *defaults
      entryPoints: [web]
`,
      expected: {
        http: {
          routers: {
            a: { rule: 'Host(`a.test`)', entryPoints: ['websecure'], tls: {} },
            b: { entryPoints: ['web'], tls: {} },
          },
        },
      },
    },
    {
      desc: 'tls section',
      yaml: `
tls:
  certificates:
    - certFile: /certs/a.crt
      keyFile: /certs/a.key
  options:
    default:
      minVersion: VersionTLS12
      sniStrict: true
      cipherSuites:
        - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  stores:
    default:
      defaultCertificate:
        certFile: /certs/d.crt
        keyFile: /certs/d.key
`,
      expected: {
        tls: {
          certificates: [{ certFile: '/certs/a.crt', keyFile: '/certs/a.key' }],
          options: { default: { minVersion: 'VersionTLS12', sniStrict: true, cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] } },
          stores: { default: { defaultCertificate: { certFile: '/certs/d.crt', keyFile: '/certs/d.key' } } },
        },
      },
    },
    {
      desc: 'plain number keeps its spelling in a string option',
      yaml: 'tls:\n  options:\n    a:\n      minVersion: 1.10\n',
      expected: { tls: { options: { a: { minVersion: '1.10' } } } },
    },
    { desc: 'empty document', yaml: '', expected: {} },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const { value, issues } = decode(testCase.yaml);
      expect(issues).toEqual([]);
      expect(value).toEqual(testCase.expected);
    });
  }
});

describe('YamlDecoder issues', () => {
  it('suggests the closest key with its line', () => {
    const { issues } = decode('http:\n  routers:\n    web:\n      rul: Host(`a`)\n');
    expect(issues).toEqual([{ path: ['http', 'routers', 'web'], message: 'unknown key "http.routers.web.rul" (line 4); did you mean "rule"?', unknownKey: true }]);
  });

  it('lists the keys when nothing is close', () => {
    const { issues } = decode('htttp: {}\nfrobnicate: 1\n');
    expect(issues[0]?.message).toBe('unknown key "htttp" (line 1); did you mean "http"?');
    expect(issues[1]?.message).toBe('unknown key "frobnicate" (line 2); the keys at the top level are http, tcp, udp, tls');
    expect(issues[1]?.path).toEqual([]);
  });

  it('reports an invalid value and leaves it out', () => {
    const { value, issues } = decode('http:\n  routers:\n    web:\n      priority: high\n      rule: Path(`/`)\n');
    expect(issues).toEqual([{ path: ['http', 'routers', 'web', 'priority'], message: 'invalid value "high" for "http.routers.web.priority" (line 4): expected a non-negative integer' }]);
    expect(value.http?.routers?.web).toEqual({ rule: 'Path(`/`)' });
  });

  it('reports a list where a mapping belongs', () => {
    const { issues } = decode('http:\n  routers:\n    - web\n');
    expect(issues[0]?.message).toBe('"http.routers" (line 2) must be a mapping of names, not a list');
  });

  it('reports a mapping where a single value belongs', () => {
    const { issues } = decode('http:\n  routers:\n    web:\n      rule:\n        host: a\n');
    expect(issues[0]?.message).toBe('"http.routers.web.rule" (line 4) must be a single value, not a mapping');
  });

  it('reports a key set twice in different case', () => {
    const { issues } = decode('http:\n  routers:\n    web:\n      rule: a\n      Rule: b\n');
    expect(issues[0]?.message).toBe('"http.routers.web.Rule" (line 5) is set twice, as "rule" and "Rule"; keep one');
  });

  it('reports issues inside list items with their index', () => {
    const { issues } = decode('http:\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - uri: http://a\n');
    expect(issues[0]).toEqual({ path: ['http', 'services', 'app', 'loadBalancer', 'servers', '0'], message: 'unknown key "http.services.app.loadBalancer.servers[0].uri" (line 6); did you mean "url"?', unknownKey: true });
  });

  it('marks a value of the wrong type', () => {
    const { issues } = decode('http:\n  routers: 5\n');
    expect(issues).toEqual([
      { path: ['http', 'routers'], message: '"http.routers" (line 2) must be a mapping of names, not a single value', typeMismatch: { key: '"http.routers" (line 2)', found: 'a single value' } },
    ]);
  });

  it('does not mark an unknown key as a wrong type', () => {
    const { issues } = decode('http:\n  routerz: {}\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.typeMismatch).toBeUndefined();
  });

  // Before, digestAuth was an unknown key with a list of the supported types, as if it were a typo.
  it('reports an unsupported Traefik middleware', () => {
    const { issues } = decode('http:\n  middlewares:\n    auth:\n      digestAuth:\n        users: [a]\n');
    expect(issues).toEqual([
      {
        path: ['http', 'middlewares', 'auth'],
        message:
          'unsupported key "http.middlewares.auth.digestAuth" (line 4): digestAuth is a Traefik middleware that Berth does not support yet; routers that use it stay disabled until you remove it from their middlewares (basicAuth over HTTPS is the nearest replacement)',
      },
    ]);
  });

  it('reports a top level that is not a mapping', () => {
    const { issues } = decode('- a\n- b\n');
    expect(issues[0]?.message).toBe('the file (line 1) must be a mapping of options, not a list');
  });
});
