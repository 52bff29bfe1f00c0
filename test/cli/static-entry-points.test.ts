// `berth check` and `berth explain --compose` with static entry point settings. Before, both built
// their runtime without `http.tls` and `http.redirections.entryPoint`, so a router on websecure was
// reported as a plain HTTP router there, its resolver warning was missing, and a request to an
// entry point that redirects was reported as routed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkCommand, type CheckResult } from '../../src/cli/check.js';
import { explainCommand } from '../../src/cli/explain.js';
import type { ExplainReport } from '../../src/routing/explain.js';
import { ComposeFolder, labelList, runCommand } from './helpers.js';

const ENTRY_POINTS = ['--entrypoints.web.address=:80', '--entrypoints.websecure.address=:443'];
const RESOLVER = ['--certificatesresolvers.le.acme.email=admin@example.com', '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web'];
const TLS_ON_WEBSECURE = [...ENTRY_POINTS, '--entrypoints.websecure.http.tls.certresolver=le', ...RESOLVER];
const REDIRECT_WEB = ['--entrypoints.web.http.redirections.entrypoint.to=websecure'];

let folder: ComposeFolder;
let wildcard = '';
let plain = '';

beforeAll(async () => {
  folder = await ComposeFolder.create();
  // `$$` is a literal `$` in a compose file.
  wildcard = await folder.write(
    'wildcard',
    `services:\n  app:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList({
      'traefik.http.routers.app.rule': 'HostRegexp(`^.+\\.example\\.com$$`)',
      'traefik.http.routers.app.entrypoints': 'websecure',
    })}\n`,
  );
  plain = await folder.write(
    'plain',
    `services:\n  app:\n    image: traefik/whoami\n    expose: [80]\n    labels:\n${labelList({
      'traefik.http.routers.app.rule': 'Host(`app.example.com`)',
      'traefik.http.routers.health.rule': 'Host(`app.example.com`) && Path(`/health`)',
      'traefik.http.routers.health.priority': '9007199254740991',
    })}\n`,
  );
});

afterAll(async () => {
  await folder.cleanup();
});

describe('check with entry point TLS', () => {
  it('reports the router as TLS on websecure', async () => {
    const run = await runCommand(checkCommand, ['--compose', wildcard, '--json', ...TLS_ON_WEBSECURE], folder.root);
    const result = JSON.parse(run.stdout) as CheckResult;
    const router = result.routers.find((item) => item.name === 'app@docker');

    expect(run.code).toBe(0);
    expect(router?.tls).toEqual({ certResolver: 'le' });
    expect(router?.status).toBe('warning');
  });

  it('warns that HostRegexp gets no certificate', async () => {
    const run = await runCommand(checkCommand, ['--compose', wildcard, ...TLS_ON_WEBSECURE], folder.root);

    expect(run.stdout).toContain('router app@docker: warning');
    expect(run.stdout).toContain('the rule has no Host matcher outside a negation, and a certificate order needs a name from one');
    expect(run.stdout).toContain('without a certificate from resolver "le"');
    expect(run.stdout).toContain('0 errors, 1 warning.');
  });

  it('warns about an unconfigured inherited resolver', async () => {
    const run = await runCommand(checkCommand, ['--compose', wildcard, ...ENTRY_POINTS, '--entrypoints.websecure.http.tls.certresolver=le'], folder.root);

    expect(run.stdout).toContain('certificate resolver "le" is not configured; no resolver is configured');
  });
});

describe('explain with entry point TLS', () => {
  it('routes https on websecure', async () => {
    const run = await runCommand(explainCommand, ['https://a.example.com/', '--entrypoint', 'websecure', '--compose', wildcard, '--json', ...TLS_ON_WEBSECURE], folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(run.code).toBe(0);
    expect(report.outcome).toBe('routed');
    expect(report.winner?.router).toBe('app@docker');
    expect(report.candidates[0]?.warnings?.join('\n')).toContain('without a certificate from resolver "le"');
  });

  it('finds no plain HTTP router on websecure', async () => {
    const run = await runCommand(explainCommand, ['http://a.example.com/', '--entrypoint', 'websecure', '--compose', wildcard, ...TLS_ON_WEBSECURE], folder.root);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('=> no router matches: Berth responds 404');
    expect(run.stdout).toContain('app@docker: would take this request over https on entry point websecure');
  });
});

describe('explain with entry point redirection', () => {
  it('reports the redirect of web', async () => {
    const argv = ['http://app.example.com/a/../b?q=1', '--compose', plain, '--json', ...TLS_ON_WEBSECURE, ...REDIRECT_WEB];
    const run = await runCommand(explainCommand, argv, folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(run.code).toBe(1);
    expect(report.outcome).toBe('entry-point-redirect');
    expect(report.response?.status).toBe(308);
    // The Location keeps the target as written, as the entry point's redirect does.
    expect(report.response?.location).toBe('https://app.example.com/a/../b?q=1');
    expect(report.winner).toBeUndefined();
  });

  it('prints the redirect as text', async () => {
    const argv = ['http://app.example.com/', '--compose', plain, ...TLS_ON_WEBSECURE, ...REDIRECT_WEB, '--entrypoints.web.http.redirections.entrypoint.permanent=false'];
    const run = await runCommand(explainCommand, argv, folder.root);

    expect(run.stdout).toContain('=> Berth redirects the request before routing it: 307 Temporary Redirect with Location https://app.example.com/');
    expect(run.stdout).toContain('entry point web redirects plain HTTP requests to websecure');
    expect(run.stdout).not.toContain('Routers tried');
  });

  it('keeps a router above the priority', async () => {
    const run = await runCommand(explainCommand, ['http://app.example.com/health', '--compose', plain, '--json', ...TLS_ON_WEBSECURE, ...REDIRECT_WEB], folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(report.outcome).toBe('routed');
    expect(report.winner?.router).toBe('health@docker');
  });

  it('names the priority bound when a router is above it', async () => {
    const run = await runCommand(explainCommand, ['http://app.example.com/other', '--compose', plain, '--json', ...TLS_ON_WEBSECURE, ...REDIRECT_WEB], folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(report.outcome).toBe('entry-point-redirect');
    expect(report.response?.reason).toBe('entry point web redirects plain HTTP requests to websecure, and no router with a priority above 9007199254740990 matches');
  });

  it('does not redirect https', async () => {
    const argv = ['https://app.example.com/', '--entrypoint', 'web', '--compose', plain, '--json', ...ENTRY_POINTS, '--entrypoints.web.http.tls=true', ...REDIRECT_WEB];
    const run = await runCommand(explainCommand, argv, folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(report.outcome).toBe('routed');
    expect(report.winner?.router).toBe('app@docker');
  });

  it('does not redirect on websecure', async () => {
    const run = await runCommand(explainCommand, ['https://app.example.com/', '--entrypoint', 'websecure', '--compose', plain, '--json', ...TLS_ON_WEBSECURE, ...REDIRECT_WEB], folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(report.outcome).toBe('routed');
  });
});

// Before, explain reported the router that matched /ping, while `ping.entrypoint` makes /ping respond
// before every router and before the entry point's redirection, as Traefik's ping@internal does.
describe('explain with ping on a user entry point', () => {
  it('reports /ping before the routers', async () => {
    const argv = ['http://app.example.com/ping', '--compose', plain, '--json', ...ENTRY_POINTS, '--ping.entrypoint=web', ...REDIRECT_WEB];
    const run = await runCommand(explainCommand, argv, folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(report.outcome).toBe('ping');
    expect(report.response?.status).toBe(200);
    expect(report.winner).toBeUndefined();
  });

  it('prints ping as text', async () => {
    const run = await runCommand(explainCommand, ['http://app.example.com/ping/x', '--compose', plain, ...ENTRY_POINTS, '--ping.entrypoint=web'], folder.root);

    expect(run.stdout).toContain("=> Berth's ping endpoint responds 200 OK before routing the request");
    expect(run.stdout).not.toContain('Routers tried');
  });

  it('routes /ping on other entry points', async () => {
    const argv = ['http://app.example.com/ping', '--entrypoint', 'web', '--compose', plain, '--json', ...ENTRY_POINTS, '--ping.entrypoint=websecure'];
    const run = await runCommand(explainCommand, argv, folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(report.outcome).toBe('routed');
    expect(report.winner?.router).toBe('app@docker');
  });
});
