import { describe, expect, it } from 'vitest';
import { itemStatus } from '../../../src/dynamic/model.js';
import { buildProviderConfig, skipReason } from '../../../src/providers/docker/build.js';
import { container, defaultOptions, fixture } from './fixtures.js';

type ItemKind = 'routers' | 'services' | 'middlewares';

describe('bad labels disable only their item', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; kind: ItemKind; name: string; error: string }> = [
    {
      desc: 'priority that is not a number',
      labels: { 'traefik.http.routers.api.rule': 'Path(`/`)', 'traefik.http.routers.api.priority': 'abc' },
      kind: 'routers',
      name: 'api',
      error: 'container bad: invalid value "abc" for label "traefik.http.routers.api.priority": expected a non-negative integer',
    },
    {
      desc: 'port out of range',
      labels: { 'traefik.http.services.api.loadbalancer.server.port': '99999' },
      kind: 'services',
      name: 'api',
      error: 'container bad: invalid value "99999" for label "traefik.http.services.api.loadbalancer.server.port": expected a port number from 1 to 65535',
    },
    {
      desc: 'passhostheader that is not a boolean',
      labels: { 'traefik.http.services.api.loadbalancer.passhostheader': 'maybe' },
      kind: 'services',
      name: 'api',
      error: 'container bad: invalid value "maybe" for label "traefik.http.services.api.loadbalancer.passhostheader": expected true or false',
    },
    {
      desc: 'misspelled router option',
      labels: { 'traefik.http.routers.api.rule': 'Path(`/`)', 'traefik.http.routers.api.entrypoint': 'web' },
      kind: 'routers',
      name: 'api',
      error: 'container bad: unknown label "traefik.http.routers.api.entrypoint"; did you mean "traefik.http.routers.api.entrypoints"?',
    },
    {
      desc: 'server port without the server level',
      labels: { 'traefik.http.services.api.loadbalancer.port': '8080' },
      kind: 'services',
      name: 'api',
      error: 'container bad: unknown label "traefik.http.services.api.loadbalancer.port"; did you mean "traefik.http.services.api.loadbalancer.server.port"?',
    },
    {
      desc: 'unknown middleware type',
      labels: { 'traefik.http.middlewares.strip.stripprefixx.prefixes': '/a' },
      kind: 'middlewares',
      name: 'strip',
      error: 'container bad: unknown label "traefik.http.middlewares.strip.stripprefixx.prefixes"; did you mean "traefik.http.middlewares.strip.stripprefix.prefixes"?',
    },
    // Before, an unsupported Traefik type got a suggestion of an unrelated one (digestauth.users → basicauth.users).
    {
      desc: 'unsupported Traefik middleware digestAuth',
      labels: { 'traefik.http.middlewares.auth.digestauth.users': 'a:b', 'traefik.http.middlewares.auth.digestauth.realm': 'r' },
      kind: 'middlewares',
      name: 'auth',
      error:
        'container bad: unsupported label "traefik.http.middlewares.auth.digestauth.realm": digestAuth is a Traefik middleware that Berth does not support yet; routers that use it stay disabled until you remove it from their middlewares (basicAuth over HTTPS is the nearest replacement)',
    },
    {
      desc: 'unsupported Traefik middleware contentType',
      labels: { 'traefik.http.middlewares.ct.contenttype': 'true' },
      kind: 'middlewares',
      name: 'ct',
      error:
        'container bad: unsupported label "traefik.http.middlewares.ct.contenttype": contentType is a Traefik middleware that Berth does not support yet; routers that use it stay disabled until you remove it from their middlewares',
    },
    {
      desc: 'unsupported Traefik middleware grpcWeb',
      labels: { 'traefik.http.middlewares.g.grpcWeb.allowOrigins': '*' },
      kind: 'middlewares',
      name: 'g',
      error:
        'container bad: unsupported label "traefik.http.middlewares.g.grpcWeb.allowOrigins": grpcWeb is a Traefik middleware that Berth does not support yet; routers that use it stay disabled until you remove it from their middlewares',
    },
    {
      desc: 'unsupported Traefik plugin',
      labels: { 'traefik.http.middlewares.p.plugin.sablier.group': 'demo' },
      kind: 'middlewares',
      name: 'p',
      error:
        'container bad: unsupported label "traefik.http.middlewares.p.plugin.sablier.group": plugin is a Traefik middleware that Berth does not support yet, because Berth cannot load Traefik plugins; routers that use it stay disabled until you remove it from their middlewares',
    },
    {
      desc: 'middleware option of another type',
      labels: { 'traefik.http.middlewares.strip.stripprefix.prefix': '/a' },
      kind: 'middlewares',
      name: 'strip',
      error: 'container bad: unknown label "traefik.http.middlewares.strip.stripprefix.prefix"; did you mean "traefik.http.middlewares.strip.stripprefix.prefixes"?',
    },
    {
      desc: 'middleware with two types',
      labels: { 'traefik.http.middlewares.m.addprefix.prefix': '/a', 'traefik.http.middlewares.m.stripprefix.prefixes': '/a' },
      kind: 'middlewares',
      name: 'm',
      error: 'container bad: middleware "m" sets several types (addprefix, stripprefix); a middleware has exactly one type',
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const good = container('good', { 'traefik.http.routers.good.rule': 'Host(`good.example.test`)' }, {}, '172.30.0.3');
      const config = buildProviderConfig([container('bad', testCase.labels), good], defaultOptions);
      const item = config[testCase.kind][testCase.name];
      expect(item?.errors).toEqual([testCase.error]);
      expect(item === undefined ? undefined : itemStatus(item)).toBe('disabled');
      expect(config.routers['good']?.errors).toEqual([]);
      expect(config.services['good']?.errors).toEqual([]);
    });
  }

  it('router name with @ rejected', () => {
    const config = buildProviderConfig([container('web', { 'traefik.http.routers.api@docker.rule': 'Path(`/`)' })], defaultOptions);
    expect(config.routers['api@docker']?.errors).toEqual([
      'container web: router name "api@docker" contains "@", which is reserved for name@provider references; rename the router',
    ]);
  });

  it('bad router label leaves the service enabled', () => {
    const config = buildProviderConfig([container('web', { 'traefik.http.routers.web.priority': '-3' })], defaultOptions);
    expect(config.routers['web']?.errors).toHaveLength(1);
    expect(config.services['web']?.errors).toEqual([]);
  });

  it('unknown top-level key disables container items', () => {
    const config = buildProviderConfig([container('web', { 'traefik.http.router.api.rule': 'Path(`/`)' })], defaultOptions);
    const error = 'container web: unknown label "traefik.http.router.api.rule"; did you mean "traefik.http.routers.api.rule"?';
    expect(config.routers['web']?.errors).toEqual([error]);
    expect(config.services['web']?.errors).toEqual([error]);
  });

  it('invalid allownonrunning value reported', () => {
    const config = buildProviderConfig([container('web', { 'traefik.docker.allownonrunning': 'sometimes' })], defaultOptions);
    expect(config.routers['web']?.errors).toEqual([
      'container web: invalid value "sometimes" for label "traefik.docker.allownonrunning": expected true or false',
    ]);
  });
});

describe('Traefik v1 labels', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; kind: ItemKind; warning: string }> = [
    {
      desc: 'traefik.port on the service',
      labels: { 'traefik.port': '8080' },
      kind: 'services',
      warning: 'container web: unknown label "traefik.port": Traefik v1 syntax, which is ignored; the v3 equivalent is "traefik.http.services.web.loadbalancer.server.port"',
    },
    {
      desc: 'traefik.frontend.rule on the router',
      labels: { 'traefik.frontend.rule': 'Host:example.test' },
      kind: 'routers',
      warning: 'container web: unknown label "traefik.frontend.rule": Traefik v1 syntax, which is ignored; the v3 equivalent is "traefik.http.routers.web.rule"',
    },
    {
      desc: 'segment label',
      labels: { 'traefik.admin.frontend.entryPoints': 'https' },
      kind: 'routers',
      warning: 'container web: unknown label "traefik.admin.frontend.entryPoints": Traefik v1 syntax, which is ignored; the v3 equivalent is "traefik.http.routers.web.entrypoints"',
    },
    {
      desc: 'basic auth users',
      labels: { 'traefik.frontend.auth.basic.users': 'alice:x' },
      kind: 'routers',
      warning: 'container web: unknown label "traefik.frontend.auth.basic.users": Traefik v1 syntax, which is ignored; the v3 equivalent is "traefik.http.middlewares.web.basicauth.users"',
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const config = buildProviderConfig([container('web', testCase.labels)], defaultOptions);
      const item = config[testCase.kind]['web'];
      expect(item?.warnings).toEqual([testCase.warning]);
      expect(item?.errors).toEqual([]);
      expect(item === undefined ? undefined : itemStatus(item)).toBe('warning');
    });
  }
});

describe('container state', () => {
  const cases = [
    { desc: 'failing HEALTHCHECK', file: 'unhealthy', reason: 'unhealthy (HEALTHCHECK failing)' },
    { desc: 'paused', file: 'paused', reason: 'paused' },
    { desc: 'health check starting', file: 'starting', reason: 'health check starting' },
    { desc: 'exited', file: 'exited', reason: 'not running (exited)' },
  ];

  for (const testCase of cases) {
    it(`${testCase.desc}: skipped with reason`, () => {
      const info = fixture(testCase.file);
      const config = buildProviderConfig([info], defaultOptions);
      expect(config.routers).toEqual({});
      expect(config.services).toEqual({});
      expect(config.skipped).toEqual([{ id: info.id, name: info.name, reason: testCase.reason, routers: expect.any(Array) }]);
    });
  }

  it('skipped container keeps its router rules', () => {
    const info = { ...container('api', { 'traefik.http.routers.api.rule': 'Host(`api.localhost`) && PathPrefix(`/v1`)' }), health: 'unhealthy' as const };
    const [skipped] = buildProviderConfig([info], defaultOptions).skipped;
    expect(skipped?.reason).toBe('unhealthy (HEALTHCHECK failing)');
    expect(skipped?.routers).toEqual([{ name: 'api', rule: 'Host(`api.localhost`) && PathPrefix(`/v1`)' }]);
  });

  it('healthy container routed', () => {
    const config = buildProviderConfig([fixture('healthy')], defaultOptions);
    expect(config.services['healthy']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://127.0.0.1:80']);
    expect(config.skipped).toEqual([]);
  });

  it('paused then unpaused: routed again', () => {
    const paused = fixture('paused');
    expect(buildProviderConfig([paused], defaultOptions).routers).toEqual({});
    const unpaused = { ...paused, state: 'running', paused: false };
    expect(Object.keys(buildProviderConfig([unpaused], defaultOptions).routers)).toEqual(['paused']);
  });

  it('stopping container skipped', () => {
    const info = { ...fixture('host'), stopping: true };
    expect(skipReason(info)).toBe('stopping');
    expect(buildProviderConfig([info], defaultOptions).skipped).toEqual([{ id: info.id, name: 'ha', reason: 'stopping', routers: expect.any(Array) }]);
  });

  it('allowEmptyServices keeps items with no servers', () => {
    const config = buildProviderConfig([fixture('unhealthy')], { ...defaultOptions, allowEmptyServices: true });
    expect(config.skipped).toEqual([]);
    expect(config.routers['failing']?.errors).toEqual([]);
    expect(config.services['failing']?.loadBalancer.servers).toEqual([]);
    expect(config.services['failing']?.warnings).toEqual(['container failing: no server added (unhealthy (HEALTHCHECK failing))']);
  });

  it('allownonrunning label keeps items of an exited container', () => {
    const info = fixture('exited', { 'traefik.docker.allownonrunning': 'true' });
    const config = buildProviderConfig([info], defaultOptions);
    expect(config.skipped).toEqual([]);
    expect(Object.keys(config.routers)).toEqual(['exited']);
    expect(config.services['exited']?.loadBalancer.servers).toEqual([]);
  });

  it('one unhealthy replica leaves the others routed', () => {
    const sick = { ...fixture('replica-2'), health: 'unhealthy' as const };
    const config = buildProviderConfig([fixture('replica-1'), sick, fixture('replica-3')], defaultOptions);
    expect(config.services['web-myproj']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.22.0.2:80', 'http://172.22.0.4:80']);
    expect(config.skipped.map((entry) => entry.name)).toEqual(['myproj-web-2']);
  });
});

describe('enable label', () => {
  it('enable=false skipped and recorded', () => {
    const info = container('web', { 'traefik.enable': 'false' });
    expect(buildProviderConfig([info], defaultOptions).skipped).toEqual([
      { id: info.id, name: 'web', reason: 'disabled by label traefik.enable=false', routers: [{ name: 'web', rule: 'Host(`web`)' }] },
    ]);
  });

  it('exposedByDefault false: only enabled containers', () => {
    const options = { ...defaultOptions, exposedByDefault: false };
    const config = buildProviderConfig([container('plain'), container('on', { 'traefik.enable': 'true' })], options);
    expect(Object.keys(config.routers)).toEqual(['on']);
    expect(config.skipped).toEqual([]);
  });

  it('exposedByDefault false: prefixed labels without enable recorded', () => {
    const options = { ...defaultOptions, exposedByDefault: false };
    const info = container('web', { 'traefik.enabel': 'true' });
    expect(buildProviderConfig([info], options).skipped).toEqual([
      {
        id: info.id,
        name: 'web',
        reason:
          'not enabled: exposedByDefault is false and label traefik.enable=true is missing; unknown label "traefik.enabel"; did you mean "traefik.enable"?',
        severity: 'warning',
        label: 'traefik.enabel',
        routers: [{ name: 'web', rule: 'Host(`web`)' }],
      },
    ]);
  });

  it('invalid enable value skipped with the error', () => {
    const info = container('web', { 'traefik.enable': 'yes' });
    expect(buildProviderConfig([info], defaultOptions).skipped).toEqual([
      { id: info.id, name: 'web', reason: 'invalid value "yes" for label "traefik.enable": expected true or false', severity: 'warning', label: 'traefik.enable', value: 'yes', routers: [{ name: 'web', rule: 'Host(`web`)' }] },
    ]);
  });

  it('invalid enable keeps the label as written', () => {
    const [skipped] = buildProviderConfig([container('web', { 'Traefik.Enable': 'Yes' })], defaultOptions).skipped;
    expect(skipped?.label).toBe('Traefik.Enable');
    expect(skipped?.value).toBe('Yes');
  });

  it('enable label in any case', () => {
    const config = buildProviderConfig([container('web', { 'Traefik.Enable': 'TRUE' })], { ...defaultOptions, exposedByDefault: false });
    expect(Object.keys(config.routers)).toEqual(['web']);
  });
});

describe('tcp and udp labels', () => {
  it('tcp only: skipped as not supported', () => {
    const info = container('db', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' });
    expect(buildProviderConfig([info], defaultOptions).skipped).toEqual([
      {
        id: info.id,
        name: 'db',
        reason: 'tcp/udp routers are not supported yet; labels under traefik.tcp and traefik.udp are ignored',
        severity: 'info',
        label: 'traefik.tcp.routers.db.rule',
      },
    ]);
  });

  it('tcp next to http: warning on the routers', () => {
    const info = container('web', { 'traefik.udp.services.dns.loadbalancer.server.port': '53', 'traefik.http.routers.web.rule': 'Path(`/`)' });
    const config = buildProviderConfig([info], defaultOptions);
    expect(config.routers['web']?.warnings).toEqual([
      'container web: tcp/udp routers are not supported yet; labels under traefik.tcp and traefik.udp are ignored',
    ]);
    expect(config.routers['web']?.errors).toEqual([]);
  });
});
