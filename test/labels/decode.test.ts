import { describe, expect, it } from 'vitest';
import { decodeLabels } from '../../src/labels/decode.js';
import { httpSchema, routerSchema, serviceSchema } from '../../src/labels/http-schemas.js';
import { middlewareSchema } from '../../src/labels/middleware-schemas.js';
import { field } from '../../src/labels/schema.js';

interface Case {
  desc: string;
  labels: Record<string, string>;
  expected: unknown;
}

describe('decodeLabels values', () => {
  const cases: Case[] = [
    {
      desc: 'router scalars and comma lists',
      labels: {
        rule: 'Host(`a.example.test`)',
        entrypoints: 'web, websecure',
        priority: '42',
        middlewares: 'strip,auth@file',
        rulesyntax: 'v2',
      },
      expected: {
        rule: 'Host(`a.example.test`)',
        entryPoints: ['web', 'websecure'],
        priority: 42,
        middlewares: ['strip', 'auth@file'],
        ruleSyntax: 'v2',
      },
    },
    {
      desc: 'keys match in any case',
      labels: { RULE: 'Path(`/`)', EntryPoints: 'web' },
      expected: { rule: 'Path(`/`)', entryPoints: ['web'] },
    },
    {
      desc: 'list given with [n] indices',
      labels: { 'entrypoints[1]': 'websecure', 'entrypoints[0]': 'web' },
      expected: { entryPoints: ['web', 'websecure'] },
    },
    {
      desc: 'flag object set to true',
      labels: { tls: 'true' },
      expected: { tls: {} },
    },
    {
      desc: 'flag object set to false is left out',
      labels: { tls: 'false' },
      expected: {},
    },
    {
      desc: 'array of objects with [n] indices',
      labels: {
        'tls.certresolver': 'le',
        'tls.domains[0].main': 'example.test',
        'tls.domains[0].sans': '*.example.test,www.example.test',
        'tls.domains[1].main': 'other.test',
      },
      expected: {
        tls: {
          certResolver: 'le',
          domains: [{ main: 'example.test', sans: ['*.example.test', 'www.example.test'] }, { main: 'other.test' }],
        },
      },
    },
    {
      desc: 'empty comma list',
      labels: { entrypoints: '' },
      expected: { entryPoints: [] },
    },
    {
      desc: 'boolean spellings of Go strconv',
      labels: { 'tls': 'T', 'observability.accesslogs': '0' },
      expected: { tls: {}, observability: { accessLogs: false } },
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const result = decodeLabels(routerSchema, testCase.labels, 'traefik.http.routers.web.');
      expect(result.issues).toEqual([]);
      expect(result.value).toEqual(testCase.expected);
    });
  }

  it('service load balancer options', () => {
    const result = decodeLabels(
      serviceSchema,
      {
        'loadbalancer.server.port': '8080',
        'loadbalancer.server.scheme': 'H2C',
        'loadbalancer.passhostheader': 'false',
        'loadbalancer.healthcheck.headers.X-Probe': 'berth',
        'loadbalancer.healthcheck.interval': '10s',
        'loadbalancer.sticky.cookie': 'true',
      },
      'traefik.http.services.api.',
    );
    expect(result.issues).toEqual([]);
    expect(result.value).toEqual({
      loadBalancer: {
        server: { port: 8080, scheme: 'h2c' },
        passHostHeader: false,
        healthCheck: { headers: { 'X-Probe': 'berth' }, interval: '10s' },
        sticky: { cookie: {} },
      },
    });
  });

  it('item names merge case-insensitively', () => {
    const result = decodeLabels(httpSchema, {
      'routers.Web.rule': 'Path(`/`)',
      'routers.web.entrypoints': 'web',
    });
    expect(result.issues).toEqual([]);
    expect(result.value).toEqual({ routers: { Web: { rule: 'Path(`/`)', entryPoints: ['web'] } } });
  });
});

describe('decodeLabels middleware schemas', () => {
  const cases: Case[] = [
    {
      desc: 'stripprefix prefixes list',
      labels: { 'stripprefix.prefixes': '/a,/b' },
      expected: { stripprefix: { prefixes: ['/a', '/b'] } },
    },
    {
      desc: 'addprefix prefix',
      labels: { 'addPrefix.prefix': '/api' },
      expected: { addprefix: { prefix: '/api' } },
    },
    {
      desc: 'headers request header map keeps header names',
      labels: { 'headers.customrequestheaders.X-Script-Name': 'test', 'headers.customRequestHeaders.X-Empty': '' },
      expected: { headers: { customRequestHeaders: { 'X-Empty': '', 'X-Script-Name': 'test' } } },
    },
    {
      desc: 'redirectscheme scheme, permanent and port',
      labels: { 'redirectscheme.scheme': 'https', 'redirectscheme.permanent': 'true', 'redirectscheme.port': '8443' },
      expected: { redirectscheme: { scheme: 'https', permanent: true, port: 8443 } },
    },
    {
      desc: 'basicauth users with [n] indices',
      labels: { 'basicauth.users[0]': 'alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'basicauth.users[1]': 'bob:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0' },
      expected: {
        basicauth: { users: ['alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'bob:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0'] },
      },
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const result = decodeLabels(middlewareSchema, testCase.labels, 'traefik.http.middlewares.m.');
      expect(result.issues).toEqual([]);
      expect(result.value).toEqual(testCase.expected);
    });
  }
});

describe('decodeLabels issues', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; messages: string[]; paths?: string[][] }> = [
    {
      desc: 'misspelled option suggests the closest key',
      labels: { 'routers.web.entrypoint': 'web' },
      messages: ['unknown label "traefik.http.routers.web.entrypoint"; did you mean "traefik.http.routers.web.entrypoints"?'],
      paths: [['routers', 'web']],
    },
    {
      desc: 'missing level suggests same ending',
      labels: { 'services.api.loadbalancer.port': '80' },
      messages: ['unknown label "traefik.http.services.api.loadbalancer.port"; did you mean "traefik.http.services.api.loadbalancer.server.port"?'],
      paths: [['services', 'api', 'loadBalancer']],
    },
    {
      desc: 'misspelled section keeps user name',
      labels: { 'router.Web.rule': 'Path(`/`)' },
      messages: ['unknown label "traefik.http.router.Web.rule"; did you mean "traefik.http.routers.Web.rule"?'],
      paths: [[]],
    },
    {
      desc: 'unknown middleware type suggests a type',
      labels: { 'middlewares.strip.stripprefixes.prefixes': '/a' },
      messages: ['unknown label "traefik.http.middlewares.strip.stripprefixes.prefixes"; did you mean "traefik.http.middlewares.strip.stripprefix.prefixes"?'],
      paths: [['middlewares', 'strip']],
    },
    {
      desc: 'key below a value option',
      labels: { 'routers.web.rule.host': 'a' },
      messages: ['unknown label "traefik.http.routers.web.rule.host"; did you mean "traefik.http.routers.web.rule"?'],
    },
    {
      desc: 'integer that is not a number',
      labels: { 'routers.web.priority': 'abc' },
      messages: ['invalid value "abc" for label "traefik.http.routers.web.priority": expected a non-negative integer'],
      paths: [['routers', 'web', 'priority']],
    },
    {
      desc: 'port out of range',
      labels: { 'services.api.loadbalancer.server.port': '99999' },
      messages: ['invalid value "99999" for label "traefik.http.services.api.loadbalancer.server.port": expected a port number from 1 to 65535'],
    },
    {
      desc: 'boolean that is not one',
      labels: { 'services.api.loadbalancer.passhostheader': 'maybe' },
      messages: ['invalid value "maybe" for label "traefik.http.services.api.loadbalancer.passhostheader": expected true or false'],
    },
    {
      desc: 'enum value outside the set',
      labels: { 'services.api.loadbalancer.server.scheme': 'ftp' },
      messages: ['invalid value "ftp" for label "traefik.http.services.api.loadbalancer.server.scheme": expected one of http, https, h2c'],
    },
    {
      desc: 'value on a group of options',
      labels: { 'services.api.loadbalancer': '80' },
      messages: ['label "traefik.http.services.api.loadbalancer" cannot take a value; set one of its options, such as "traefik.http.services.api.loadbalancer.server.port"'],
    },
    {
      desc: 'list set in both forms',
      labels: { 'routers.web.entrypoints': 'web', 'routers.web.entrypoints[0]': 'websecure' },
      messages: ['label "traefik.http.routers.web.entrypoints" is set both as a comma-separated list and with [n] items; use one form'],
    },
    {
      desc: 'same option in two spellings with different values',
      labels: { 'routers.web.rule': 'Path(`/a`)', 'routers.WEB.RULE': 'Path(`/b`)' },
      messages: ['labels "traefik.http.routers.WEB.RULE" and "traefik.http.routers.web.rule" set the same option to different values'],
    },
    {
      desc: 'malformed key',
      labels: { 'routers.web..rule': 'Path(`/`)' },
      messages: ['invalid label key "traefik.http.routers.web..rule": expected dot-separated names with optional [n] indices'],
    },
    {
      desc: 'array item without an index',
      labels: { 'routers.web.tls.domains.main': 'example.test' },
      messages: ['unknown label "traefik.http.routers.web.tls.domains.main"; did you mean "traefik.http.routers.web.tls.domains[0].main"?'],
    },
    {
      desc: 'header map entry with an extra level',
      labels: { 'middlewares.h.headers.customrequestheader.X-Trace': '1' },
      messages: ['unknown label "traefik.http.middlewares.h.headers.customrequestheader.X-Trace"; did you mean "traefik.http.middlewares.h.headers.customrequestheaders.X-Trace"?'],
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const result = decodeLabels(httpSchema, testCase.labels, 'traefik.http.');
      expect(result.issues.map((issue) => issue.message)).toEqual(testCase.messages);
      if (testCase.paths) expect(result.issues.map((issue) => issue.path)).toEqual(testCase.paths);
    });
  }

  it('keeps valid options next to an invalid one', () => {
    const result = decodeLabels(routerSchema, { rule: 'Path(`/`)', priority: '-1' }, 'x.');
    expect(result.value).toEqual({ rule: 'Path(`/`)' });
    expect(result.issues).toHaveLength(1);
  });

  it('accepts anything under an ignored subtree', () => {
    const schema = field.object({ tcp: field.ignored(), enable: field.bool() });
    const result = decodeLabels(schema, { 'tcp.routers.db.rule': 'HostSNI(`*`)', 'tcp.whatever[3]': 'x' });
    expect(result.issues).toEqual([]);
    expect(result.value).toEqual({ tcp: true });
  });

  it('accepts Go durations and seconds', () => {
    const schema = field.object({ interval: field.duration() });
    for (const text of ['10s', '1m30s', '250ms', '1.5h', '30']) {
      expect(decodeLabels(schema, { interval: text }).issues).toEqual([]);
    }
    expect(decodeLabels(schema, { interval: '10 seconds' }).issues).toHaveLength(1);
  });

  it('rejects a negative duration unless signed', () => {
    const schema = field.object({ interval: field.duration() });
    for (const text of ['-1', '-1ms', '+1s']) {
      expect(decodeLabels(schema, { interval: text }).issues, text).toHaveLength(1);
    }
  });

  it('accepts a signed duration', () => {
    const schema = field.object({ interval: field.duration({ signed: true }) });
    for (const text of ['-1', '-1ms', '-1.5s', '+100ms', '100ms', '0']) {
      const result = decodeLabels(schema, { interval: text });
      expect(result.issues, text).toEqual([]);
      expect(result.value.interval, text).toBe(text);
    }
    for (const text of ['--1', '-', '-1 ms', '1-']) {
      expect(decodeLabels(schema, { interval: text }).issues, text).toHaveLength(1);
    }
  });

  it('accepts a negative flushInterval', () => {
    for (const text of ['-1', '-1ms']) {
      const result = decodeLabels(serviceSchema, { 'loadbalancer.responseforwarding.flushinterval': text });
      expect(result.issues, text).toEqual([]);
      expect(result.value.loadBalancer?.responseForwarding?.flushInterval, text).toBe(text);
    }
  });

  it('rejects a negative health check interval', () => {
    const result = decodeLabels(serviceSchema, { 'loadbalancer.healthcheck.interval': '-1s' });
    expect(result.issues).toHaveLength(1);
  });
});

describe('compress flag label', () => {
  it('accepts compress=true with no options', () => {
    const result = decodeLabels(httpSchema, { 'middlewares.gzip.compress': 'true' });
    expect(result.issues).toEqual([]);
    expect(result.value.middlewares?.gzip?.compress).toEqual({});
  });
});
