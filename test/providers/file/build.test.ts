import { describe, expect, it } from 'vitest';

import { mergeFileItems, toProviderConfig, type FileItems } from '../../../src/providers/file/build.js';
import { parseDynamicText } from '../../../src/providers/file/read.js';

function itemsOf(text: string, path = '/etc/berth/dynamic.yml'): FileItems {
  const result = parseDynamicText(text, path);
  if (result.items === undefined) throw new Error(result.error);
  return result.items;
}

const ORIGIN = 'file /etc/berth/dynamic.yml';

describe('file items', () => {
  it('builds routers, services and middlewares', () => {
    const items = itemsOf(`
http:
  routers:
    app:
      rule: Host(\`app.example.test\`)
      service: app
      entryPoints: [websecure]
      middlewares: [strip]
      priority: 0
      tls:
        certResolver: le
  services:
    app:
      loadBalancer:
        servers:
          - url: http://10.0.0.5:8080
            weight: 2
  middlewares:
    strip:
      stripPrefix:
        prefixes: [/app]
`);
    expect(items.routers.app).toEqual({
      rule: 'Host(`app.example.test`)',
      entryPoints: ['websecure'],
      service: 'app',
      middlewares: ['strip'],
      tls: { certResolver: 'le' },
      sources: [{ provider: 'file', origin: ORIGIN }],
      errors: [],
      warnings: [],
    });
    expect(items.services.app?.loadBalancer).toEqual({ servers: [{ url: 'http://10.0.0.5:8080', weight: 2 }], passHostHeader: true });
    expect(items.middlewares.strip).toMatchObject({ type: 'stripprefix', options: { prefixes: ['/app'] }, errors: [] });
    expect(items.errors).toEqual([]);
  });

  it('attaches a typo to its router only', () => {
    const items = itemsOf('http:\n  routers:\n    bad:\n      rule: Path(`/`)\n      servce: app\n    good:\n      rule: Path(`/g`)\n      service: app\n');
    expect(items.routers.bad?.errors).toEqual([
      `${ORIGIN}: unknown key "http.routers.bad.servce" (line 5); did you mean "service"?`,
      `${ORIGIN}: router "bad" has no service; set http.routers.bad.service to a service name`,
    ]);
    expect(items.routers.good?.errors).toEqual([]);
  });

  it('disables a router of the wrong type', () => {
    const items = itemsOf('http:\n  routers:\n    bad: 5\n    good:\n      rule: Path(`/g`)\n      service: app\n');
    expect(items.routers.bad?.errors).toEqual([
      `${ORIGIN}: "http.routers.bad" (line 3) must be a mapping of options, not a single value`,
      `${ORIGIN}: router "bad" has no rule; set http.routers.bad.rule, such as Host(\`example.com\`)`,
      `${ORIGIN}: router "bad" has no service; set http.routers.bad.service to a service name`,
    ]);
    expect(items.routers.good?.errors).toEqual([]);
    expect(items.errors).toEqual([]);
  });

  it('disables a middleware of the wrong type', () => {
    const items = itemsOf('http:\n  middlewares:\n    m: [stripPrefix]\n');
    expect(items.middlewares.m?.errors[0]).toBe(`${ORIGIN}: "http.middlewares.m" (line 3) must be a mapping of options, not a list`);
  });

  it('requires a rule', () => {
    const items = itemsOf('http:\n  routers:\n    a:\n      service: s\n');
    expect(items.routers.a?.errors[0]).toContain('router "a" has no rule');
  });

  it('rejects service types other than loadBalancer', () => {
    const items = itemsOf('http:\n  services:\n    w:\n      weighted:\n        services: []\n');
    expect(items.services.w?.errors).toEqual([`${ORIGIN}: service type "weighted" is not supported yet; define the service with loadBalancer.servers`]);
  });

  it('requires server URLs', () => {
    const items = itemsOf('http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - weight: 1\n');
    expect(items.services.s?.errors[0]).toContain('http.services.s.loadBalancer.servers[0].url is missing');
  });

  it('middleware without a type', () => {
    const items = itemsOf('http:\n  middlewares:\n    m: {}\n');
    expect(items.middlewares.m?.errors[0]).toContain('middleware "m" has no type');
  });

  it('middleware with two types', () => {
    const items = itemsOf('http:\n  middlewares:\n    m:\n      addPrefix:\n        prefix: /a\n      stripPrefix:\n        prefixes: [/b]\n');
    expect(items.middlewares.m?.errors[0]).toContain('sets several types (addprefix, stripprefix)');
  });

  it('names with @ are rejected', () => {
    const items = itemsOf('http:\n  routers:\n    a@x:\n      rule: Path(`/`)\n      service: s\n');
    expect(items.routers['a@x']?.errors[0]).toContain('contains "@"');
  });

  it('TLS options, certificates and the default certificate', () => {
    const items = itemsOf(`
tls:
  options:
    modern:
      minVersion: VersionTLS13
      clientAuth:
        clientAuthType: NoClientCert
  certificates:
    - certFile: /c/a.crt
      keyFile: /c/a.key
      stores: [default, other]
  stores:
    default:
      defaultCertificate:
        certFile: /c/d.crt
        keyFile: /c/d.key
    other: {}
`);
    expect(items.tlsOptions.modern).toMatchObject({ minVersion: 'VersionTLS13', clientAuth: { clientAuthType: 'NoClientCert' }, errors: [] });
    expect(items.certificates).toEqual([{ certFile: '/c/a.crt', keyFile: '/c/a.key', origin: ORIGIN }]);
    expect(items.defaultCertificate).toEqual({ certFile: '/c/d.crt', keyFile: '/c/d.key', origin: ORIGIN });
    expect(items.warnings).toEqual([
      `${ORIGIN}: tls.certificates[0] names stores other; only the default store exists, which serves it`,
      `${ORIGIN}: tls.stores.other is ignored; only the default store exists`,
    ]);
  });

  it('a certificate entry with an unknown key is skipped', () => {
    const items = itemsOf('tls:\n  certificates:\n    - certfile: /c/a.crt\n      keyfile: /c/a.key\n    - cert: /c/b.crt\n');
    expect(items.certificates).toHaveLength(1);
    expect(items.errors[0]).toContain('tls.certificates[1] is skipped: unknown key "tls.certificates[1].cert" (line 5); the keys under tls.certificates[1] are certFile, keyFile, stores');
  });

  it('skips only a certificate of the wrong type', () => {
    const items = itemsOf('tls:\n  certificates:\n    - /c/a.crt\n    - certFile: /c/b.crt\n      keyFile: /c/b.key\n');
    expect(items.certificates).toEqual([{ certFile: '/c/b.crt', keyFile: '/c/b.key', origin: ORIGIN }]);
    expect(items.errors).toEqual([`${ORIGIN}: tls.certificates[0] is skipped: "tls.certificates[0]" (line 3) must be a mapping of options, not a single value`]);
  });

  it('unknown top-level key invalidates the file', () => {
    const result = parseDynamicText('htp:\n  routers: {}\n', '/etc/berth/dynamic.yml');
    expect(result.items).toBeUndefined();
    expect(result.error).toBe(`${ORIGIN} has an invalid structure: unknown key "htp" (line 1); did you mean "http"?`);
  });

  it('unsupported sections are warnings', () => {
    const items = itemsOf('tcp:\n  routers: {}\nhttp:\n  serversTransports: {}\n');
    expect(items.warnings).toEqual([
      `${ORIGIN}: tcp and udp sections are not supported yet and are ignored`,
      `${ORIGIN}: http.serversTransports is not supported yet and is ignored`,
    ]);
  });

  it('provider config carries TLS options', () => {
    const config = toProviderConfig(itemsOf('tls:\n  options:\n    default:\n      sniStrict: true\n'));
    expect(config.tlsOptions?.default?.sniStrict).toBe(true);
    expect(config.skipped).toEqual([]);
  });
});

describe('parseDynamicText', () => {
  it('reports invalid YAML with its position', () => {
    const result = parseDynamicText('http:\n  routers: [\n', '/d.yml');
    expect(result.items).toBeUndefined();
    expect(result.error).toMatch(/^file \/d\.yml is not valid YAML at line \d+, column \d+: /);
  });

  it('reports duplicate keys as invalid YAML', () => {
    const result = parseDynamicText('http: {}\nhttp: {}\n', '/d.yml');
    expect(result.error).toContain('is not valid YAML');
  });

  it('rejects a top level that is not a mapping', () => {
    expect(parseDynamicText('just text\n', '/d.yml').error).toContain('must contain a mapping');
  });

  it('accepts an empty file', () => {
    expect(parseDynamicText('# nothing yet\n', '/d.yml').items?.routers).toEqual({});
  });

  it('rejects a section of the wrong type', () => {
    const cases: Array<{ yaml: string; error: string }> = [
      { yaml: 'http:\n  routers: 5\n', error: '"http.routers" (line 2) must be a mapping of router names to routers, not a single value' },
      { yaml: 'http: [1, 2]\n', error: '"http" (line 1) must be a mapping with routers, services and middlewares, not a list' },
      { yaml: 'tls: "x"\n', error: '"tls" (line 1) must be a mapping with certificates, options and stores, not a single value' },
      { yaml: 'HTTP:\n  Services: [a]\n', error: '"HTTP.Services" (line 2) must be a mapping of service names to services, not a list' },
      { yaml: 'http:\n  middlewares: true\n', error: '"http.middlewares" (line 2) must be a mapping of middleware names to middlewares, not a single value' },
      { yaml: 'tls:\n  certificates:\n    certFile: /a.crt\n', error: '"tls.certificates" (line 2) must be a list of certificates, not a mapping' },
      { yaml: 'tls:\n  options: [modern]\n', error: '"tls.options" (line 2) must be a mapping of names to TLS options, not a list' },
      { yaml: 'tls:\n  stores: default\n', error: '"tls.stores" (line 2) must be a mapping of store names to stores, not a single value' },
    ];
    for (const { yaml, error } of cases) {
      const result = parseDynamicText(yaml, '/d.yml');
      expect(result.items, yaml).toBeUndefined();
      expect(result.error, yaml).toBe(`file /d.yml has an invalid structure: ${error}`);
    }
  });

  it('names the first section of the wrong type', () => {
    const result = parseDynamicText('http:\n  routers: 5\n  services: 6\n', '/d.yml');
    expect(result.error).toBe('file /d.yml has an invalid structure: "http.routers" (line 2) must be a mapping of router names to routers, not a single value');
  });

  it('accepts empty sections', () => {
    const result = parseDynamicText('http:\n  routers:\n  services: ~\ntls:\n', '/d.yml');
    expect(result.error).toBeUndefined();
    expect(result.items?.errors).toEqual([]);
  });

  it('keeps other routers when one has a bad value', () => {
    const result = parseDynamicText('http:\n  routers:\n    bad:\n      rule: Path(`/b`)\n      service: s\n      priority: high\n    good:\n      rule: Path(`/g`)\n      service: s\n', '/d.yml');
    expect(result.error).toBeUndefined();
    expect(result.items?.routers.bad?.errors).toEqual(['file /d.yml: invalid value "high" for "http.routers.bad.priority" (line 6): expected a non-negative integer']);
    expect(result.items?.routers.good?.errors).toEqual([]);
  });
});

describe('mergeFileItems', () => {
  it('keeps the first definition of a name', () => {
    const first = itemsOf('http:\n  routers:\n    a:\n      rule: Path(`/1`)\n      service: s\n', '/d/1.yml');
    const second = itemsOf('http:\n  routers:\n    a:\n      rule: Path(`/2`)\n      service: s\n    b:\n      rule: Path(`/b`)\n      service: s\n', '/d/2.yml');
    const merged = mergeFileItems([first, second]);
    expect(merged.routers.a?.rule).toBe('Path(`/1`)');
    expect(merged.routers.a?.warnings).toEqual(['router "a" is defined again in file /d/2.yml, which is ignored; give each router a unique name']);
    expect(merged.routers.b?.rule).toBe('Path(`/b`)');
  });

  it('collects certificates from every file', () => {
    const first = itemsOf('tls:\n  certificates:\n    - certFile: /a.crt\n      keyFile: /a.key\n', '/d/1.yml');
    const second = itemsOf('tls:\n  certificates:\n    - certFile: /b.crt\n      keyFile: /b.key\n', '/d/2.yml');
    expect(mergeFileItems([first, second]).certificates.map((certificate) => certificate.certFile)).toEqual(['/a.crt', '/b.crt']);
  });
});
