import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../src/api/server.js';
import { explainRequestFromQuery } from '../../src/api/explain.js';
import { UsageError } from '../../src/cli/args.js';
import { explainCommand } from '../../src/cli/explain.js';
import type { ExplainReport } from '../../src/routing/explain.js';
import { runtimeOf } from '../routing/helpers.js';
import { ComposeFolder, labelList, runCommand } from './helpers.js';

let folder: ComposeFolder;
let l1File = '';

beforeAll(async () => {
  folder = await ComposeFolder.create();
  l1File = await folder.write(
    'labels',
    `services:
  both:
    image: traefik/whoami
    expose: [8081]
    labels:
${labelList({ 'traefik.http.routers.both.rule': 'Host(`example.com`) || Host(`www.example.com`)' })}
  v2:
    image: traefik/whoami
    expose: [8082]
    labels:
${labelList({ 'traefik.http.routers.v2.rule': 'Host(`example.com`,`www.example.com`)' })}
  sub:
    image: traefik/whoami
    expose: [8083]
    labels:
${labelList({ 'traefik.http.routers.sub.rule': 'HostRegexp(`^.+\\.example\\.com$$`)' })}
`,
  );
});

afterAll(async () => {
  await folder.cleanup();
});

describe('explain --compose', () => {
  it('routes both hosts of the || rule', async () => {
    for (const host of ['example.com', 'www.example.com']) {
      const run = await runCommand(explainCommand, [`http://${host}/`, '--compose', l1File], folder.root);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('=> router both@docker, service both-labels@docker, server http://127.0.0.1:8081');
    }
  });

  it('routes a subdomain through HostRegexp', async () => {
    const run = await runCommand(explainCommand, ['http://x.example.com/', '--compose', l1File, '--json'], folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;

    expect(run.code).toBe(0);
    expect(report.winner?.router).toBe('sub@docker');
    expect(report.candidates.map((candidate) => [candidate.router, candidate.index])).toEqual([['sub@docker', 'any host']]);
  });

  it('shows the disabled v2 router as a near miss', async () => {
    const run = await runCommand(explainCommand, ['http://example.com/', '--compose', l1File, '--json'], folder.root);
    const report = JSON.parse(run.stdout) as ExplainReport;
    const disabled = report.nearMisses.find((miss) => miss.router === 'v2@docker');

    expect(disabled?.kind).toBe('disabled');
    expect(JSON.stringify(disabled)).toContain('write Host(`example.com`) || Host(`www.example.com`)');
  });

  it('exits 1 with near misses for a 404', async () => {
    const file = await folder.write(
      'paths',
      `services:\n  docs:\n    expose: [80]\n    labels:\n${labelList({ 'traefik.http.routers.docs.rule': 'Host(`d.example.com`) && PathPrefix(`/docs`)' })}\n`,
    );
    const run = await runCommand(explainCommand, ['http://d.example.com/admin', '--compose', file], folder.root);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('=> no router matches: Berth responds 404');
    expect(run.stdout).toContain('docs@docker: the host matches, but PathPrefix(`/docs`) does not');
  });

  it('passes method, headers, entry point and client IP', async () => {
    const file = await folder.write(
      'request',
      `services:\n  api:\n    expose: [80]\n    labels:\n${labelList({
        'traefik.http.routers.api.rule': 'Method(`POST`) && Header(`X-Token`, `t`) && ClientIP(`10.0.0.0/8`)',
        'traefik.http.routers.api.entrypoints': 'internal',
      })}\n`,
    );
    const argv = ['http://a.example.com/', '--compose', file, '--method', 'POST', '--header', 'X-Token: t', '--entrypoint', 'internal', '--client-ip', '10.1.1.1'];
    const run = await runCommand(explainCommand, [...argv, '--entrypoints.web.address=:80', '--entrypoints.internal.address=:81'], folder.root);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('POST http://a.example.com/ on entry point internal, from 10.1.1.1');
  });
});

describe('explain arguments', () => {
  it('needs a URL', async () => {
    await expect(runCommand(explainCommand, ['--compose', l1File], folder.root)).rejects.toThrow('the URL is missing');
  });

  it('rejects a malformed header', async () => {
    await expect(runCommand(explainCommand, ['http://a/', '--compose', l1File, '--header', 'no colon'], folder.root)).rejects.toThrow('write it as "Name: value"');
  });

  it('rejects --api with --compose', async () => {
    await expect(runCommand(explainCommand, ['http://a/', '--compose', l1File, '--api', 'http://127.0.0.1:1'], folder.root)).rejects.toThrow(UsageError);
  });

  it('keeps a static flag value apart from the URL', async () => {
    const run = await runCommand(explainCommand, ['--entrypoints.web.address', ':8000', 'http://example.com/', '--compose', l1File], folder.root);
    expect(run.code).toBe(0);
  });
});

describe('explain via the API', () => {
  let server: Server;
  let apiUrl = '';
  const runtime = runtimeOf({
    routers: { app: { rule: 'Host(`app.example.com`) && ClientIP(`127.0.0.1`)' } },
    services: { app: ['http://127.0.0.1:9001'] },
  });

  beforeAll(async () => {
    const handler = createApiHandler({ api: true, ping: true, runtime: () => runtime, providers: () => ({}), startedAt: new Date() });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('prints the report of the running Berth', async () => {
    const run = await runCommand(explainCommand, ['http://app.example.com/', '--api', apiUrl], folder.root);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('=> router app@docker, service app@docker, server http://127.0.0.1:9001');
  });

  it('uses the caller address as client IP', async () => {
    const run = await runCommand(explainCommand, ['http://app.example.com/', '--api', apiUrl, '--json'], folder.root);
    expect((JSON.parse(run.stdout) as ExplainReport).request.clientIp).toBe('127.0.0.1');
  });

  it('finds the API from the berth entry point', async () => {
    const port = new URL(apiUrl).port;
    const run = await runCommand(explainCommand, ['http://app.example.com/', `--entrypoints.berth.address=127.0.0.1:${port}`], folder.root);
    expect(run.code).toBe(0);
  });

  it('shows the API error for a bad request', async () => {
    await expect(runCommand(explainCommand, ['http://app.example.com/', '--api', apiUrl, '--entrypoint', 'nope'], folder.root)).rejects.toThrow(
      'entry point "nope" does not exist',
    );
  });

  it('explains why the API is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    await expect(runCommand(explainCommand, ['http://app.example.com/', '--api', `http://127.0.0.1:${port}`], folder.root)).rejects.toThrow(
      /cannot reach Berth's API .*ECONNREFUSED/,
    );
  });
});

describe('explain query parameters', () => {
  it('reads every parameter', () => {
    const query = new URLSearchParams('url=http://a/&method=put&EntryPoint=web&header=X-A:%201&header=x-a:2&clientip=10.0.0.1');
    expect(explainRequestFromQuery(query, '127.0.0.1')).toEqual({ url: 'http://a/', method: 'put', entryPoint: 'web', clientIp: '10.0.0.1', headers: { 'x-a': ['1', '2'] } });
  });

  it('needs a url', () => {
    expect(() => explainRequestFromQuery(new URLSearchParams('method=GET'), '127.0.0.1')).toThrow('the url parameter is missing');
  });
});
