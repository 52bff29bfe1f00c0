// The rule language end to end: labels on real containers, routed through a running Berth, with
// the router status in the API, `/api/explain`, and the `check` and `explain` commands.

import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import type { ExplainReport } from '../../src/routing/explain.js';
import { findRouter } from './harness/api.js';
import { apiGet, type BerthProcess, fetchVia, printBerthLogsOnFailure, startBerth, waitUntilRouted } from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { hostRouterLabels } from './harness/labels.js';
import { REPO_ROOT } from './harness/paths.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  berth = await startBerth({ dockerSocket: inject('dockerSocket') });
});

afterAll(async () => {
  await berth?.stop();
  await docker.removeAll();
});

afterEach(async () => {
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

/** Runs a container whose routers all use one service on its own port; the body is its name. */
async function runRouted(name: string, service: string, routers: Record<string, string>, extra: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  const labels: Record<string, string> = { [`traefik.http.services.${service}.loadbalancer.server.port`]: String(port), ...extra };
  for (const [router, rule] of Object.entries(routers)) {
    labels[`traefik.http.routers.${router}.rule`] = rule;
    labels[`traefik.http.routers.${router}.service`] = service;
  }
  await docker.runHttpContainer({ name, port, labels });
  return port;
}

/** Waits until `host` and `path` through Berth return 200 with `body`. */
async function waitForBody(host: string, path: string, body: string): Promise<void> {
  await waitFor(async () => {
    const response = await fetchVia(running(), host, path, { timeoutMs: 2_000 });
    return response.status === 200 && response.body === body;
  }, { timeoutMs: 5_000, description: `${host}${path} through Berth returning ${JSON.stringify(body)}` });
}

/** Waits until the API lists router `name`, and returns it. */
function waitForRouter(name: string) {
  return waitFor(async () => (await findRouter(running(), name)) ?? false, { timeoutMs: 5_000, description: `router ${name} in /api/http/routers` });
}

describe('v2 forms under v3', () => {
  it('disables the two-value Host and routes the || form', async () => {
    await runRouted('l1-v2', 'v2', { v2: 'Host(`example.com`,`www.example.com`)' });
    await runRouted('l1-or', 'or', { or: 'Host(`example.com`) || Host(`www.example.com`)' });

    await waitUntilRouted(running(), 'example.com', 'l1-or');
    const v2 = await waitForRouter('v2@docker');
    const www = await fetchVia(running(), 'www.example.com');

    expect(v2.status).toBe('disabled');
    expect((v2.error ?? []).join('\n')).toContain('write Host(`example.com`) || Host(`www.example.com`)');
    expect(www.status).toBe(200);
    expect(www.body).toBe('l1-or');
  });

  it('routes subdomains through an anchored HostRegexp', async () => {
    await runRouted('l1-sub', 'sub', { sub: 'HostRegexp(`^.+\\.example\\.com$`)' });

    await waitUntilRouted(running(), 'x.example.com', 'l1-sub');
    const apex = await fetchVia(running(), 'example.com');

    expect(apex.status).toBe(404);
  });

  it('warns about a v2 placeholder in HostRegexp', async () => {
    await runRouted('l1-placeholder', 'placeholder', { placeholder: 'HostRegexp(`{sub:[a-z]+}.example.com`)' });
    await runRouted('l1-marker', 'marker', { marker: 'Host(`marker.example.com`)' });

    await waitUntilRouted(running(), 'marker.example.com', 'l1-marker');
    const router = await waitForRouter('placeholder@docker');
    const response = await fetchVia(running(), 'abc.example.com');

    expect(router.status).toBe('warning');
    expect(JSON.stringify(router)).toContain('v2 syntax');
    expect(response.status).toBe(404);
  });
});

describe('quoting', () => {
  const badRouters = {
    single: "Host('quoted.example.com')",
    outer: "'PathPrefix(`/`)'",
    unbalanced: 'Host(`quoted.example.com`) && (PathPrefix(`/a`)',
    empty: 'Host() && PathPrefix()',
  };

  it('disables only the routers with a parse error', async () => {
    await runRouted('l2-quoting', 'quoting', { good: 'Host("quoted.example.com")', ...badRouters });

    await waitUntilRouted(running(), 'quoted.example.com', 'l2-quoting');
    const good = await waitForRouter('good@docker');
    expect(good.status).toBe('enabled');
    for (const name of Object.keys(badRouters)) {
      const router = await waitForRouter(`${name}@docker`);
      expect(router.status, name).toBe('disabled');
      expect((router.error ?? []).join('\n'), name).toContain('invalid rule at column');
    }
  });
});

describe('priorities', () => {
  const host = 'app.example.test';
  const webRule = `Host(\`${host}\`) && (PathPrefix(\`/\`) || PathPrefix(\`/v2/webhook\`) || PathPrefix(\`/v2/token\`))`;
  const apiRule = `Host(\`${host}\`) && PathPrefix(\`/v2\`)`;
  // Both routers strip the test path, so the server returns its index page with the container's name.
  const toRoot = { 'traefik.http.middlewares.toroot.stripprefix.prefixes': '/v2/asdf' };

  it('follows rule length, then an explicit priority', async () => {
    await runRouted('l3-web', 'web', { web: webRule }, { ...toRoot, 'traefik.http.routers.web.middlewares': 'toroot' });
    await runRouted('l3-api', 'api', { api: apiRule }, { ...toRoot, 'traefik.http.routers.api.middlewares': 'toroot' });
    await waitForBody(host, '/v2/asdf', 'l3-web');

    const explained = await apiGet<ExplainReport>(running(), `/api/explain?url=${encodeURIComponent(`http://${host}/v2/asdf`)}`);
    expect(explained.winner?.router).toBe('web@docker');
    expect(explained.winner?.middlewares.map((middleware) => middleware.name)).toEqual(['toroot@docker']);
    expect(explained.candidates.map((candidate) => [candidate.router, candidate.tried, candidate.matched])).toEqual([
      ['web@docker', true, true],
      ['api@docker', false, true],
    ]);
    expect(explained.winner?.service.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    await docker.remove('l3-api');
    await runRouted('l3-api-priority', 'api', { api: apiRule }, { ...toRoot, 'traefik.http.routers.api.middlewares': 'toroot', 'traefik.http.routers.api.priority': '1000' });
    await waitForBody(host, '/v2/asdf', 'l3-api-priority');

    const api = await findRouter(running(), 'api@docker');
    expect(api?.priority).toBe(1000);
    const root = await fetchVia(running(), host, '/');
    expect(root.body).toBe('l3-web');
  });

  it('lets a longer HostRegexp beat a shorter Host', async () => {
    await runRouted('l3-exact', 'exact', { exact: 'Host(`long.example.test`)' });
    await runRouted('l3-regexp', 'regexp', { regexp: 'HostRegexp(`^long\\.example\\.test$`)' });
    await waitForRouter('exact@docker');
    await waitForRouter('regexp@docker');

    await waitUntilRouted(running(), 'long.example.test', 'l3-regexp');
  });

  it('keeps one winner for identical rules across reloads', async () => {
    await runRouted('twin-b', 'twinb', { twinb: 'Host(`twin.example.test`)' });
    await runRouted('twin-a', 'twina', { twina: 'Host(`twin.example.test`)' });
    await waitForRouter('twina@docker');
    await waitForRouter('twinb@docker');
    await waitUntilRouted(running(), 'twin.example.test', 'twin-a');

    const bodies = new Set<string>();
    for (let i = 0; i < 10; i++) bodies.add((await fetchVia(running(), 'twin.example.test')).body);

    // Any configuration change rebuilds the runtime; the winner must stay the same.
    const port = await freePort();
    await docker.runHttpContainer({ name: 'twin-reload', port, labels: hostRouterLabels('reload', 'reload.example.test', port) });
    await waitUntilRouted(running(), 'reload.example.test', 'twin-reload');
    for (let i = 0; i < 10; i++) bodies.add((await fetchVia(running(), 'twin.example.test')).body);

    expect([...bodies]).toEqual(['twin-a']);
    const explained = await apiGet<ExplainReport>(running(), '/api/explain?url=http://twin.example.test/');
    expect(explained.candidates.map((candidate) => candidate.router)).toEqual(['twina@docker', 'twinb@docker']);
  });
});

describe('explain API', () => {
  it('lists near misses for a 404', async () => {
    await runRouted('near-docs', 'docs', { docs: 'Host(`near.example.test`) && PathPrefix(`/docs`)', broken: 'Host(`near.example.test`) && (' });
    await waitForRouter('docs@docker');
    await waitForRouter('broken@docker');

    const query = new URLSearchParams({ url: 'http://near.example.test/admin', method: 'POST', header: 'X-Test: 1' });
    const report = await apiGet<ExplainReport>(running(), `/api/explain?${query.toString()}`);

    expect(report.outcome).toBe('not-found');
    expect(report.request.method).toBe('POST');
    expect(report.nearMisses.map((miss) => [miss.kind, miss.router])).toEqual([
      ['host-matched', 'docs@docker'],
      ['disabled', 'broken@docker'],
    ]);
  });

  it('answers 400 for an unknown entry point', async () => {
    await expect(apiGet(running(), '/api/explain?url=http://a.example.test/&entrypoint=nope')).rejects.toThrow(/returned 400: .*entry point/);
  });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `bin/berth` with `args` against the private daemon. */
function runCli(args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/berth'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DOCKER_HOST: `unix://${inject('dockerSocket')}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('commands', () => {
  it('check reports the labels of running containers', async () => {
    await runRouted('cli-check', 'clicheck', { fine: 'Host(`fine.example.test`)', broken: "Host('broken.example.test')" });
    await waitUntilRouted(running(), 'fine.example.test', 'cli-check');

    const run = await runCli(['check', `--providers.docker.endpoint=unix://${inject('dockerSocket')}`]);

    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('router broken@docker: disabled');
    expect(run.stdout).toContain('container cli-check');
    expect(run.stdout).not.toContain('router fine@docker');
  });

  it('explain asks the running Berth', async () => {
    await runRouted('cli-explain', 'cliexplain', { explained: 'Host(`explain.example.test`)' });
    await waitUntilRouted(running(), 'explain.example.test', 'cli-explain');

    const routed = await runCli(['explain', 'http://explain.example.test/', '--api', running().apiUrl]);
    const missing = await runCli(['explain', 'http://missing.example.test/', '--api', running().apiUrl]);

    expect(routed.code, routed.stderr).toBe(0);
    expect(routed.stdout).toContain('=> router explained@docker, service cliexplain@docker, server http://127.0.0.1:');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('Berth responds 404');
  });
});
