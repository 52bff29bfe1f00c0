import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composePorts, proxyFlags, splitCommand } from '../../src/cli/compose-fields.js';
import { interpolate, InterpolationError, parseDotEnv } from '../../src/cli/compose-interpolation.js';
import { ASSUMED_PORT, ComposeFileError, composeProject, readComposeFile, type ComposeOptions } from '../../src/cli/compose.js';

const FILE = '/srv/My_Shop!/compose.yaml';
const OPTIONS: ComposeOptions = { env: {}, labelPrefix: 'traefik' };

function project(yaml: string, options: Partial<ComposeOptions> = {}) {
  return composeProject(yaml, FILE, { ...OPTIONS, ...options });
}

describe('compose labels', () => {
  it('reads the list form', () => {
    const { containers } = project(`
services:
  web:
    expose: ["8080"]
    labels:
      - traefik.http.routers.web.rule=Host(\`web.example.com\`)
      - traefik.enable
`);
    expect(containers[0]?.labels['traefik.http.routers.web.rule']).toBe('Host(`web.example.com`)');
    expect(containers[0]?.labels['traefik.enable']).toBe('');
  });

  it('reads the map form with scalars', () => {
    const { containers } = project(`
services:
  web:
    expose: [8080]
    labels:
      traefik.enable: true
      traefik.http.services.web.loadbalancer.server.port: 8080
`);
    expect(containers[0]?.labels['traefik.enable']).toBe('true');
    expect(containers[0]?.labels['traefik.http.services.web.loadbalancer.server.port']).toBe('8080');
  });

  it('reads deploy.labels with a note', () => {
    const { containers, notes } = project(`
services:
  web:
    expose: [80]
    deploy:
      labels: ["traefik.http.routers.w.rule=Host(\`w.example.com\`)", "shared=deploy"]
    labels: { shared: service }
`);
    expect(containers[0]?.labels['traefik.http.routers.w.rule']).toBe('Host(`w.example.com`)');
    expect(containers[0]?.labels.shared).toBe('service');
    expect(notes.join('\n')).toContain('deploy.labels');
  });

  it('adds the compose labels', () => {
    const { containers } = project('services:\n  web:\n    image: nginx\n');
    expect(containers[0]?.labels).toMatchObject({
      'com.docker.compose.project': 'my_shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
    });
  });

  it('follows merge keys', () => {
    const { containers } = project(`
x-labels: &common
  traefik.enable: "true"
services:
  web:
    expose: [80]
    labels:
      <<: *common
      traefik.http.routers.web.rule: Host(\`web.example.com\`)
`);
    expect(containers[0]?.labels['traefik.enable']).toBe('true');
  });

  it('rejects labels of another type', () => {
    expect(() => project('services:\n  web:\n    labels: oops\n')).toThrow(ComposeFileError);
  });
});

describe('compose containers', () => {
  it('makes one container per replica', () => {
    const { containers } = project('services:\n  web:\n    expose: [80]\n    deploy: { replicas: 3 }\n');
    expect(containers.map((container) => container.name)).toEqual(['my_shop-web-1', 'my_shop-web-2', 'my_shop-web-3']);
    expect(new Set(containers.map((container) => container.id)).size).toBe(3);
  });

  it('uses container_name for one replica', () => {
    const { containers } = project('services:\n  web:\n    container_name: shop-web\n');
    expect(containers[0]?.name).toBe('shop-web');
  });

  it('makes host-network running containers', () => {
    const [container] = project('services:\n  web:\n    ports: ["8080:80"]\n').containers;
    expect(container).toMatchObject({ state: 'running', networkMode: 'host', exposedPorts: [80], health: 'none' });
  });

  it('assumes port 80 for a routed service without ports', () => {
    const result = project('services:\n  whoami:\n    image: traefik/whoami\n    labels: ["traefik.http.routers.w.rule=Host(`w.example.com`)"]\n');
    expect(result.containers[0]?.exposedPorts).toEqual([ASSUMED_PORT]);
    expect(result.notes.join('\n')).toContain(`port ${ASSUMED_PORT} is assumed`);
  });

  it('leaves unrouted services without ports', () => {
    const result = project('services:\n  db:\n    image: postgres\n', { exposedByDefault: false });
    expect(result.containers[0]?.exposedPorts).toEqual([]);
    expect(result.notes).toEqual([]);
  });

  it('notes the image EXPOSE for an unlabelled service', () => {
    const result = project('services:\n  db:\n    image: postgres\n');
    expect(result.containers[0]?.exposedPorts).toEqual([ASSUMED_PORT]);
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toContain('service db: has no labels but is routed because exposedByDefault is true');
    expect(result.notes[0]).toContain('the port its image EXPOSEs');
    expect(result.notes[0]).toContain('traefik.enable=false');
  });

  it('no port note with a server.port label', () => {
    const labels = '["traefik.http.routers.w.rule=Host(`w.example.com`)", "traefik.http.services.w.loadbalancer.server.port=8080"]';
    const result = project(`services:\n  whoami:\n    image: traefik/whoami\n    labels: ${labels}\n`);
    expect(result.notes).toEqual([]);
    expect(result.containers[0]?.exposedPorts).toEqual([]);
  });

  it('no port note with a server.url label', () => {
    const labels = '["traefik.http.routers.w.rule=Host(`w.example.com`)", "traefik.http.services.w.loadbalancer.server.url=http://127.0.0.1:9000"]';
    const result = project(`services:\n  whoami:\n    image: traefik/whoami\n    labels: ${labels}\n`);
    expect(result.notes).toEqual([]);
    expect(result.containers[0]?.exposedPorts).toEqual([]);
  });

  it('no port note for enable=false', () => {
    const labels = '["traefik.enable=false", "traefik.http.routers.w.rule=Host(`w.example.com`)"]';
    const result = project(`services:\n  whoami:\n    image: traefik/whoami\n    labels: ${labels}\n`);
    expect(result.notes).toEqual([]);
    expect(result.containers[0]?.exposedPorts).toEqual([]);
  });

  it('no port note for labels not enabled', () => {
    const result = project('services:\n  w:\n    labels: ["traefik.http.routers.w.rule=Host(`w.example.com`)"]\n', { exposedByDefault: false });
    expect(result.notes).toEqual([]);
  });

  it('rejects a file without services', () => {
    expect(() => project('version: "3"\n')).toThrow('no services section');
  });

  // Before, `services: []` was reported as a missing services section.
  it('reads an empty services list as no services', () => {
    const result = project('services: []\n');
    expect(result.containers).toEqual([]);
    expect(result.notes).toEqual(['services is an empty list, so the file declares no services and there is nothing to route']);
  });

  it('reads empty services as no services', () => {
    expect(project('services: {}\n').notes).toEqual(['services is an empty mapping, so the file declares no services and there is nothing to route']);
    expect(project('services:\n').notes).toEqual(['services is empty, so the file declares no services and there is nothing to route']);
  });

  it('rejects a list of services', () => {
    expect(() => project('services: [web]\n')).toThrow(ComposeFileError);
    expect(() => project('services: [web]\n')).toThrow('services in /srv/My_Shop!/compose.yaml is a list, but it must be a mapping from service names');
  });

  // Before, a service with `deploy.replicas: 0` and no labels got the note that it "is routed".
  it('notes a service scaled to zero', () => {
    const result = project('services:\n  web:\n    image: nginx\n    deploy: { replicas: 0 }\n    labels: ["traefik.http.routers.shop.rule=Host(`shop.test`)"]\n');
    expect(result.containers).toEqual([]);
    expect(result.notes).toEqual([
      'service web: deploy.replicas is 0, so it runs no containers and its router shop is not created; requests that only it would match get 404 until the service is scaled up',
    ]);
  });

  it('notes scale 0 without labels', () => {
    const result = project('services:\n  web:\n    image: nginx\n    scale: 0\n');
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toContain('service web: scale is 0, so it runs no containers and its default router is not created');
    expect(result.notes[0]).not.toContain('is routed');
  });

  it('no zero-replica note when not routed', () => {
    const result = project('services:\n  db:\n    image: postgres\n    deploy: { replicas: 0 }\n', { exposedByDefault: false });
    expect(result.notes).toEqual([]);
  });
});

// Before, services with profiles: were counted and routed although docker compose starts them
// only when one of their profiles is enabled.
describe('compose profiles', () => {
  const yaml = `
services:
  web:
    expose: [80]
  debug:
    expose: [80]
    profiles: [debug, tools]
  admin:
    expose: [80]
    profiles: ["\${ADMIN_PROFILE:-admin}"]
`;
  const names = (options: Partial<ComposeOptions> = {}): string[] => project(yaml, options).containers.map((container) => container.name);

  it('leaves inactive services out with a note', () => {
    const result = project(yaml);
    expect(result.containers.map((container) => container.name)).toEqual(['my_shop-web-1']);
    expect(result.notes).toEqual([
      'service debug: inactive, because none of its profiles (debug, tools) is enabled, so it has no containers or routers here; enable one with --profile debug or COMPOSE_PROFILES=debug',
      'service admin: inactive, because none of its profiles (admin) is enabled, so it has no containers or routers here; enable one with --profile admin or COMPOSE_PROFILES=admin',
    ]);
  });

  it('enables profiles from the option', () => {
    expect(names({ profiles: ['tools'] })).toEqual(['my_shop-web-1', 'my_shop-debug-1']);
  });

  it('enables profiles from COMPOSE_PROFILES', () => {
    expect(names({ env: { COMPOSE_PROFILES: ' admin , debug' } })).toEqual(['my_shop-web-1', 'my_shop-debug-1', 'my_shop-admin-1']);
  });

  it('prefers the option over COMPOSE_PROFILES', () => {
    expect(names({ profiles: ['admin'], env: { COMPOSE_PROFILES: 'debug' } })).toEqual(['my_shop-web-1', 'my_shop-admin-1']);
  });

  it('enables every profile with a star', () => {
    expect(names({ profiles: ['*'] })).toHaveLength(3);
  });

  it('interpolates profile names', () => {
    expect(names({ profiles: ['ops'], env: { ADMIN_PROFILE: 'ops' } })).toEqual(['my_shop-web-1', 'my_shop-admin-1']);
  });

  it('rejects profiles that are not a list', () => {
    expect(() => project('services:\n  w:\n    profiles: debug\n')).toThrow('services.w.profiles must be a list of profile names, such as profiles: [debug]');
  });
});

describe('compose project name', () => {
  it('derives it from the folder', () => {
    expect(project('services: {}\n').projectName).toBe('my_shop');
  });

  it('prefers the option, then the environment, then name', () => {
    const yaml = 'name: from-file\nservices: {}\n';
    expect(project(yaml, { projectName: 'cli' }).projectName).toBe('cli');
    expect(project(yaml, { env: { COMPOSE_PROJECT_NAME: 'env' } }).projectName).toBe('env');
    expect(project(yaml).projectName).toBe('from-file');
  });

  it('rejects an invalid explicit name', () => {
    expect(() => project('services: {}\n', { projectName: 'Bad Name' })).toThrow('project name "Bad Name" is invalid');
  });
});

describe('compose ports', () => {
  const cases: Array<{ desc: string; expose?: unknown; ports?: unknown; expected: number[] }> = [
    { desc: 'plain and protocol', expose: ['3000', '3001/tcp', '53/udp'], expected: [3000, 3001] },
    { desc: 'published with host address', ports: ['127.0.0.1:8080:80', '[::1]:8443:443/tcp'], expected: [80, 443] },
    { desc: 'ranges', ports: ['9000-9002:9000-9002'], expected: [9000, 9001, 9002] },
    { desc: 'long syntax', ports: [{ target: 8080, published: 80 }, { target: 53, protocol: 'udp' }], expected: [8080] },
    { desc: 'numbers, sorted and deduplicated', expose: [8080, 80], ports: ['80'], expected: [80, 8080] },
    { desc: 'invalid entries', expose: ['abc', 70000, '10-5'], expected: [] },
  ];
  it.each(cases)('$desc', ({ expose, ports, expected }) => {
    expect(composePorts(expose, ports)).toEqual(expected);
  });
});

describe('compose interpolation', () => {
  const env = { DOMAIN: 'example.com', EMPTY: '' };
  const cases: Array<{ desc: string; text: string; expected: string }> = [
    { desc: 'braced', text: 'Host(`${DOMAIN}`)', expected: 'Host(`example.com`)' },
    { desc: 'bare', text: 'www.$DOMAIN', expected: 'www.example.com' },
    { desc: 'escaped dollar', text: 'user:$$apr1$$x', expected: 'user:$apr1$x' },
    { desc: 'default when unset', text: '${NOPE:-fallback}', expected: 'fallback' },
    { desc: 'default when empty', text: '${EMPTY:-fallback}', expected: 'fallback' },
    { desc: 'no default when only unset counts', text: '${EMPTY-fallback}', expected: '' },
    { desc: 'replacement when set', text: '${DOMAIN:+on}', expected: 'on' },
    { desc: 'nested default', text: '${NOPE:-${DOMAIN}}', expected: 'example.com' },
  ];
  it.each(cases)('$desc', ({ text, expected }) => {
    expect(interpolate(text, env, [])).toBe(expected);
  });

  it('warns about an unset variable', () => {
    const warnings: string[] = [];
    expect(interpolate('${NOPE}.example.com', env, warnings)).toBe('.example.com');
    expect(warnings).toEqual(['variable NOPE is not set; an empty string is used']);
  });

  it('fails on a required variable', () => {
    expect(() => interpolate('${NOPE:?set the domain}', env, [])).toThrow('required variable NOPE is not set: set the domain');
  });

  it('rejects a dollar that starts no variable', () => {
    expect(() => interpolate('PathRegexp(`^/api$`)', env, [])).toThrow(InterpolationError);
  });

  it('names the label of an interpolation error', () => {
    expect(() => project('services:\n  web:\n    labels: ["traefik.http.routers.w.rule=Path(`/a$`)"]\n')).toThrow('services.web.labels[0]');
  });

  it('parses .env lines', () => {
    expect(parseDotEnv('# comment\nA=1\nexport B="x\\ny"\nC=\'$raw\'\nD=plain # note\n')).toEqual({ A: '1', B: 'x\ny', C: '$raw', D: 'plain' });
  });
});

describe('compose proxy flags', () => {
  it('reads entry points and provider options of a Traefik command', () => {
    const command = ['--api.insecure=true', '--entrypoints.web.address=:80', '--entryPoints.websecure.address', ':443', '--providers.docker.exposedbydefault=false', '--providers.docker.endpoint=unix:///x'];
    expect(proxyFlags('traefik:v3.1', command)).toEqual(['--entrypoints.web.address=:80', '--entryPoints.websecure.address=:443', '--providers.docker.exposedbydefault=false']);
  });

  it('splits a command string', () => {
    expect(proxyFlags('ghcr.io/example/berth:1', '--entrypoints.web.address=:80 "--providers.docker.defaultrule=Host(`{{ .Name }}.test`)"')).toEqual([
      '--entrypoints.web.address=:80',
      '--providers.docker.defaultrule=Host(`{{ .Name }}.test`)',
    ]);
  });

  it('ignores other images', () => {
    expect(proxyFlags('nginx', ['--entrypoints.web.address=:80'])).toEqual([]);
    expect(proxyFlags('mytraefikfork', ['--entrypoints.web.address=:80'])).toEqual([]);
  });

  it('keeps quoted white space', () => {
    expect(splitCommand(`a 'b c'  "d"`)).toEqual(['a', 'b c', 'd']);
  });
});

describe('readComposeFile', () => {
  let folder = '';
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'berth-compose-'));
    await mkdir(join(folder, 'demo'));
    await writeFile(join(folder, 'demo', '.env'), 'DOMAIN=from-dotenv.example.com\nOTHER=dotenv\n');
    await writeFile(join(folder, 'demo', 'compose.yaml'), 'services:\n  web:\n    expose: [80]\n    labels: ["a=${DOMAIN}", "b=${OTHER}"]\n');
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('reads .env under the environment', async () => {
    const result = await readComposeFile(join(folder, 'demo', 'compose.yaml'), { ...OPTIONS, env: { OTHER: 'process' } });
    expect(result.projectName).toBe('demo');
    expect(result.containers[0]?.labels.a).toBe('from-dotenv.example.com');
    expect(result.containers[0]?.labels.b).toBe('process');
  });

  it('fails on a missing file', async () => {
    await expect(readComposeFile(join(folder, 'missing.yaml'), OPTIONS)).rejects.toThrow('cannot read compose file');
  });
});

describe('compose service edge cases', () => {
  // Before, `a: null` was skipped without a word, where docker compose rejects it.
  it.each([
    ['services:\n  a:\n', 'services.a in /srv/My_Shop!/compose.yaml is empty, but it must be a mapping of the service\'s settings, as in "a: {image: nginx}"'],
    ['services:\n  a: nginx\n', 'services.a in /srv/My_Shop!/compose.yaml is the string "nginx", but it must be a mapping'],
    ['services:\n  a: [nginx]\n', 'services.a in /srv/My_Shop!/compose.yaml is a list, but it must be a mapping'],
  ])('rejects a service that is not a mapping: %j', (yaml, message) => {
    expect(() => project(yaml)).toThrow(message);
  });

  // Before, the error said only `replica count "-1" is invalid`, without the service.
  it('names the service of a negative count', () => {
    expect(() => project('services:\n  web:\n    image: nginx\n    deploy: { replicas: -1 }\n')).toThrow(
      'services.web.deploy.replicas -1 is invalid: write a whole number of containers, 0 or more',
    );
    expect(() => project('services:\n  web:\n    image: nginx\n    scale: "x"\n')).toThrow('services.web.scale "x" is invalid');
  });

  // Before, scale won silently over a different deploy.replicas.
  it('rejects different scale and replicas', () => {
    expect(() => project('services:\n  web:\n    image: nginx\n    scale: 0\n    deploy: { replicas: 2 }\n')).toThrow(
      'service web: scale is 0 but deploy.replicas is 2; docker compose rejects two different counts, so keep one of them',
    );
  });

  it('accepts equal scale and replicas', () => {
    const { containers } = project('services:\n  web:\n    expose: [80]\n    scale: 2\n    deploy: { replicas: 2 }\n');
    expect(containers).toHaveLength(2);
  });
});
