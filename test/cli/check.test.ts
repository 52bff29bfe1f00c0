import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { checkCommand, type CheckResult } from '../../src/cli/check.js';
import { ComposeFolder, labelList, runCommand } from './helpers.js';

let folder: ComposeFolder;

beforeAll(async () => {
  folder = await ComposeFolder.create();
});

afterAll(async () => {
  await folder.cleanup();
});

/** Writes one compose service per router, each with its own port, as separate containers of one project. */
function routersYaml(rules: Record<string, string>): string {
  const services = Object.entries(rules).map(
    ([name, rule], index) => `  ${name}:\n    image: traefik/whoami\n    expose: [${8000 + index}]\n    labels:\n${labelList({ [`traefik.http.routers.${name}.rule`]: rule })}`,
  );
  return `services:\n${services.join('\n')}\n`;
}

describe('check --compose', () => {
  it('disables only the routers with quoting mistakes', async () => {
    const file = await folder.write(
      'quoting',
      routersYaml({
        good: 'Host("example.com")',
        single: "Host('example.com')",
        outer: "'PathPrefix(`/`)'",
        unbalanced: 'Host(`example.com`) && (PathPrefix(`/a`)',
        empty: 'Host() && PathPrefix()',
      }),
    );
    const run = await runCommand(checkCommand, ['--compose', file, '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;
    const status = Object.fromEntries(result.routers.map((router) => [router.name, router.status]));

    expect(run.code).toBe(1);
    expect(status).toEqual({
      'empty@docker': 'disabled',
      'good@docker': 'enabled',
      'outer@docker': 'disabled',
      'single@docker': 'disabled',
      'unbalanced@docker': 'disabled',
    });
    expect(result.errors).toBe(4);
  });

  it('prints each error with its container and caret', async () => {
    const file = await folder.write('caret', routersYaml({ good: 'Host(`example.com`)', bad: 'Host(`bad.example.com`) && (' }));
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('router bad@docker: disabled');
    expect(run.stdout).toContain('container caret-bad-1');
    expect(run.stdout).toMatch(/\n {4}Host\(`bad\.example\.com`\) && \(\n {4} +\^/);
    expect(run.stdout).not.toContain('router good@docker');
    expect(run.stdout).toContain('1 error, 0 warnings.');
  });

  it('shows the v3 form for a v2 Host', async () => {
    const file = await folder.write('v2host', routersYaml({ both: 'Host(`example.com`,`www.example.com`)' }));
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);
    expect(run.stdout).toContain('Host(`example.com`) || Host(`www.example.com`)');
  });

  it('warns about a v2 HostRegexp placeholder', async () => {
    const file = await folder.write('v2regexp', routersYaml({ sub: 'HostRegexp(`{sub:[a-z]+}.example.com`)' }));
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('router sub@docker: warning');
    expect(run.stdout).toContain('0 errors, 1 warning.');
  });

  it('exits 0 for clean labels', async () => {
    const file = await folder.write('clean', routersYaml({ a: 'Host(`a.example.com`)', b: 'Host(`b.example.com`) && PathPrefix(`/b`)' }));
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 routers, 2 services, 0 middlewares');
    expect(run.stdout).toContain('0 errors, 0 warnings.');
  });

  it('takes entry points from the Traefik service', async () => {
    const yaml = `services:
  proxy:
    image: traefik:v3.1
    command: ["--entrypoints.web.address=:80", "--entrypoints.websecure.address=:443", "--providers.docker.exposedbydefault=false"]
  app:
    image: traefik/whoami
    expose: [80]
    labels:
${labelList({ 'traefik.enable': 'true', 'traefik.http.routers.app.rule': 'Host(`app.example.com`)', 'traefik.http.routers.app.entrypoints': 'websecure' })}
  hidden:
    image: traefik/whoami
    expose: [80]
    labels:
${labelList({ 'traefik.http.routers.hidden.rule': 'Host(`hidden.example.com`)' })}
`;
    const file = await folder.write('proxied', yaml);
    const withProxy = await runCommand(checkCommand, ['--compose', file, '--json'], folder.root);
    const result = JSON.parse(withProxy.stdout) as CheckResult;

    expect(withProxy.code).toBe(0);
    expect(result.routers.map((router) => [router.name, router.status, router.entryPoints])).toEqual([['app@docker', 'enabled', ['websecure']]]);
    expect(result.skippedContainers.map((container) => container.name)).toContain('proxied-hidden-1');
  });

  it('reports an entry point that does not exist', async () => {
    const yaml = `services:\n  app:\n    expose: [80]\n    labels:\n${labelList({ 'traefik.http.routers.app.rule': 'Host(`app.example.com`)', 'traefik.http.routers.app.entrypoints': 'websecure' })}\n`;
    const file = await folder.write('noproxy', yaml);
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('entry point "websecure" does not exist');
  });

  it('lets command-line options override the file', async () => {
    const file = await folder.write('override', routersYaml({ a: 'Host(`a.example.com`)' }));
    const run = await runCommand(checkCommand, ['--compose', file, '--providers.docker.exposedbydefault=false', '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;

    expect(result.routers).toEqual([]);
    expect(result.skippedContainers[0]?.reason).toContain('exposedByDefault is false');
  });

  it('reports header values that cannot be sent', async () => {
    const yaml = `services:
  cafe:
    image: traefik/whoami
    expose: [80]
    labels:
${labelList({
  'traefik.http.routers.cafe.rule': 'Host(`cafe.example.com`)',
  'traefik.http.routers.cafe.middlewares': 'coffee',
  'traefik.http.middlewares.coffee.headers.customresponseheaders.X-Greeting': 'coffee ☕',
  'traefik.http.middlewares.spaced.headers.customrequestheaders.Bad Name': 'x',
})}
  plain:
    image: traefik/whoami
    expose: [80]
    labels:
${labelList({ 'traefik.http.routers.plain.rule': 'Host(`plain.example.com`)' })}
`;
    const file = await folder.write('headers', yaml);
    const run = await runCommand(checkCommand, ['--compose', file, '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;
    const status = Object.fromEntries([...result.routers, ...result.middlewares].map((item) => [item.name, item.status]));
    const errors = Object.fromEntries(result.middlewares.map((item) => [item.name, (item.error ?? []).join('\n')]));

    expect(run.code).toBe(1);
    expect(status).toEqual({ 'cafe@docker': 'disabled', 'coffee@docker': 'disabled', 'plain@docker': 'enabled', 'spaced@docker': 'disabled' });
    expect(errors['coffee@docker']).toContain('headers customResponseHeaders value "coffee ☕" of header "X-Greeting" is invalid (U+2615 at index 7)');
    expect(errors['spaced@docker']).toContain('headers customRequestHeaders header name "Bad Name" is invalid');
  });

  it('prints the notes of the reader', async () => {
    const yaml = `services:\n  w:\n    image: traefik/whoami\n    labels:\n${labelList({ 'traefik.http.routers.w.rule': 'Host(`${DOMAIN}`)' })}\n`;
    const file = await folder.write('notes', yaml);
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.stdout).toContain('variable DOMAIN is not set');
    expect(run.stdout).toContain('port 80 is assumed');
  });
});

describe('check --compose notes', () => {
  it('unlabelled service is a note, not an error', async () => {
    const yaml = `services:\n  web:\n    image: traefik/whoami\n    expose: [80]\n  db:\n    image: postgres\n`;
    const file = await folder.write('exposed', yaml);
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('port is missing');
    expect(run.stdout).toContain('service db: has no labels but is routed because exposedByDefault is true');
    expect(run.stdout).toContain('0 errors, 0 warnings.');
  });

  it('service of an inactive profile not counted', async () => {
    const yaml = `services:\n  w:\n    image: traefik/whoami\n    expose: [80]\n  dbg:\n    image: traefik/whoami\n    expose: [80]\n    profiles: [debug]\n`;
    const file = await folder.write('profiles', yaml);
    const inactive = await runCommand(checkCommand, ['--compose', file], folder.root);
    const active = await runCommand(checkCommand, ['--compose', file, '--profile', 'debug'], folder.root);

    expect(inactive.stdout).toContain('(project profiles, 1 container)');
    expect(inactive.stdout).toContain('service dbg: inactive, because none of its profiles (debug) is enabled');
    expect(inactive.stdout).not.toContain('router dbg@docker');
    expect(active.stdout).toContain('(project profiles, 2 containers)');
    expect(active.stdout).not.toContain('inactive');
  });

  it('no assumed port with a server.port label', async () => {
    const labels = { 'traefik.http.routers.w.rule': 'Host(`w.example.com`)', 'traefik.http.services.w.loadbalancer.server.port': '8080' };
    const file = await folder.write('portlabel', `services:\n  w:\n    image: traefik/whoami\n    labels:\n${labelList(labels)}\n`);
    const run = await runCommand(checkCommand, ['--compose', file, '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;

    expect(run.code).toBe(0);
    expect(result.notes).toEqual([]);
    expect(result.services[0]?.loadBalancer?.servers?.map((server) => server.url)).toEqual(['http://127.0.0.1:8080']);
  });

  it('exposedbydefault from the proxy command applies to notes', async () => {
    const yaml = `services:\n  proxy:\n    image: traefik:v3.1\n    command: ["--providers.docker.exposedbydefault=false"]\n  db:\n    image: postgres\n`;
    const file = await folder.write('hiddendb', yaml);
    const run = await runCommand(checkCommand, ['--compose', file, '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;

    expect(run.code).toBe(0);
    expect(result.notes).toEqual([]);
  });
});

describe('check certificate resolvers', () => {
  const rule = { 'traefik.http.routers.g2.rule': 'Host(`g2.example.com`)', 'traefik.http.routers.g2.tls.certresolver': 'nope' };

  it('warns about an undefined resolver', async () => {
    const file = await folder.write('resolver', `services:\n  g2:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList(rule)}\n`);
    const flags = ['--certificatesresolvers.le.acme.storage=/tmp/berth-check-acme.json', '--certificatesresolvers.le.acme.tlschallenge=true'];
    const run = await runCommand(checkCommand, ['--compose', file, ...flags, '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;
    const router = result.routers.find((item) => item.name === 'g2@docker');

    expect(run.code).toBe(0);
    expect(router?.status).toBe('warning');
    expect(router?.warning).toEqual([
      'container resolver-g2-1: certificate resolver "nope" is not configured; configured resolvers: le (set --certificatesresolvers.<name>.acme.* or fix the name)',
    ]);
    expect(result.warnings).toBe(1);
  });

  it('says when no resolver is configured', async () => {
    const file = await folder.write('noresolver', `services:\n  g2:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList(rule)}\n`);
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('router g2@docker: warning');
    expect(run.stdout).toContain('certificate resolver "nope" is not configured; no resolver is configured');
  });
});

describe('check certificate warnings with HTTP-01', () => {
  const flags = ['--certificatesresolvers.le.acme.storage=/tmp/berth-check-acme.json', '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web'];

  async function routerWarnings(project: string, labels: Record<string, string>): Promise<string[] | undefined> {
    const file = await folder.write(project, `services:\n  app:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList(labels)}\n`);
    const run = await runCommand(checkCommand, ['--compose', file, ...flags, '--json'], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;
    return result.routers.find((item) => item.name === 'app@docker')?.warning;
  }

  // Before, both rules got "the rule names no literal Host".
  it.each([
    ['hostpath', 'Host(`ok.a.test`) || PathPrefix(`/x`)'],
    ['hostip', 'Host(`ok.a.test`) || Host(`[::1]`)'],
  ])('orders the Host of %s', async (project, rule) => {
    const warnings = await routerWarnings(project, { 'traefik.http.routers.app.rule': rule, 'traefik.http.routers.app.tls.certresolver': 'le' });
    expect(warnings?.join('\n') ?? '').not.toContain('no Host matcher');
  });

  // Before, the wildcard passed the check and failed at order time.
  it('warns about a wildcard domain', async () => {
    const warnings = await routerWarnings('wildcard', {
      'traefik.http.routers.app.rule': 'Host(`a.b.test`)',
      'traefik.http.routers.app.tls.certresolver': 'le',
      'traefik.http.routers.app.tls.domains[0].main': '*.b.test',
    });
    expect(warnings).toHaveLength(1);
    expect(warnings?.[0]).toContain('is a wildcard, which the CA validates only with DNS-01, but the resolver uses HTTP-01');
  });
});

describe('check output of long values', () => {
  // Before, these values were repeated in full, and the regex twice, in lines of up to 6113 characters.
  it('shortens every quoted value', async () => {
    const long = 'a'.repeat(3000);
    const labels = {
      [`traefik.http.routers.r${long}.rule`]: 'Host(`x.test`)',
      [`traefik.http.routers.r${long}.entrypoints`]: `e${long}`,
      [`traefik.http.routers.r${long}.middlewares`]: `m${long}`,
      'traefik.http.routers.q.rule': 'Host(`q.test`)',
      'traefik.http.routers.q.middlewares': 'allow,regex',
      'traefik.http.middlewares.allow.ipallowlist.sourcerange': `z${long}`,
      'traefik.http.middlewares.regex.redirectregex.regex': `(${long}`,
      'traefik.http.middlewares.regex.redirectregex.replacement': 'x',
    };
    const file = await folder.write('longvalues', `services:\n  app:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList(labels)}\n`);
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);
    const longest = Math.max(...run.stdout.split('\n').map((line) => line.length));

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('entry point "eaaa');
    expect(run.stdout).toContain('redirectRegex regex "(aaa');
    expect(longest).toBeLessThan(700);
  });

  // Before, the CR and LF were printed raw, so the message broke across lines.
  it('escapes control characters', async () => {
    const labels = { 'traefik.http.services.s.loadbalancer.sticky.cookie.name': 'a b;\r\nx', 'traefik.http.routers.s.rule': 'Host(`s.test`)' };
    const file = await folder.write('cookiename', `services:\n  app:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList(labels)}\n`);
    const run = await runCommand(checkCommand, ['--compose', file], folder.root);

    expect(run.stdout).toContain('sticky.cookie.name "a b;\\r\\nx" is invalid');
  });
});

describe('check with a file provider', () => {
  // Before, this said "(--providers.docker=false)", which the user never set.
  it('names the file provider as the reason', async () => {
    const file = await folder.write('fileprovider', routersYaml({ app: 'Host(`app.test`)' }));
    await expect(runCommand(checkCommand, ['--compose', file, '--providers.file.directory=/x'], folder.root)).rejects.toThrow(
      'the Docker provider is off, because a file provider is configured and the Docker provider is on by default only without one',
    );
  });

  it('reads labels with both providers', async () => {
    const file = await folder.write('bothproviders', routersYaml({ app: 'Host(`app.test`)' }));
    const run = await runCommand(checkCommand, ['--compose', file, '--providers.file.directory=/x', '--providers.docker'], folder.root);
    expect(run.code).toBe(0);
  });
});

describe('check arguments', () => {
  it('rejects a positional argument', async () => {
    await expect(runCommand(checkCommand, ['compose.yaml'], folder.root)).rejects.toThrow(UsageError);
  });

  it('needs --compose for --project-name', async () => {
    await expect(runCommand(checkCommand, ['--project-name', 'x'], folder.root)).rejects.toThrow('--project-name needs --compose');
  });

  it('prints its usage', async () => {
    const run = await runCommand(checkCommand, ['--help'], folder.root);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: berth check');
  });
});
