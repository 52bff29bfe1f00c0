// The text that `berth explain` prints: the result of each matcher as printed, with its `!`, and
// server URLs without their password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { explainCommand } from '../../src/cli/explain.js';
import { formatExplainReport } from '../../src/cli/explain-format.js';
import type { ExplainReport } from '../../src/routing/explain.js';
import { ComposeFolder, labelList, runCommand } from './helpers.js';

const PASSWORD = 'SvcPass777';

let folder: ComposeFolder;
let file = '';

beforeAll(async () => {
  folder = await ComposeFolder.create();
  file = await folder.write(
    'negated',
    `services:\n  app:\n    image: traefik/whoami\n    labels:\n${labelList({
      'traefik.http.routers.r.rule': 'Host(`r.test`) && !Method(`POST`)',
      'traefik.http.services.su.loadbalancer.server.url': `http://svcuser:${PASSWORD}@127.0.0.1:19040/`,
    })}\n`,
  );
});

afterAll(async () => {
  await folder.cleanup();
});

/** Returns the printed line of matcher `text` under the router line, trimmed. */
function matcherLine(stdout: string, text: string): string | undefined {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.endsWith(`  ${text}`));
}

describe('explain text for a negated matcher', () => {
  it('prints no for a POST', async () => {
    const run = await runCommand(explainCommand, ['http://r.test/', '--compose', file, '--method', 'POST'], folder.root);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('r@docker  priority');
    expect(run.stdout).toContain('no match');
    expect(matcherLine(run.stdout, '!Method(`POST`)')).toBe('no   !Method(`POST`)');
    expect(matcherLine(run.stdout, 'Host(`r.test`)')).toBe('yes  Host(`r.test`)');
  });

  it('prints yes for a GET', async () => {
    const run = await runCommand(explainCommand, ['http://r.test/', '--compose', file], folder.root);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('MATCHES');
    expect(matcherLine(run.stdout, '!Method(`POST`)')).toBe('yes  !Method(`POST`)');
  });

  it('names the negated matcher in a near miss', async () => {
    const run = await runCommand(explainCommand, ['http://r.test/', '--compose', file, '--method', 'POST'], folder.root);
    expect(run.stdout).toContain('r@docker: the host matches, but !Method(`POST`) does not');
  });
});

describe('explain text for a server URL with a password', () => {
  it('prints the URL redacted', async () => {
    const run = await runCommand(explainCommand, ['http://r.test/', '--compose', file], folder.root);

    expect(run.stdout).toContain('server http://<redacted>@127.0.0.1:19040/');
    expect(run.stdout).toContain('  http://<redacted>@127.0.0.1:19040/  weight 1  <- next');
    expect(run.stdout).not.toContain(PASSWORD);
  });

  it('redacts a report that still has the password', () => {
    // The API of an older Berth sends reports like this one.
    const url = `http://svcuser:${PASSWORD}@127.0.0.1:19040/`;
    const report: ExplainReport = {
      request: { host: 'r.test', path: '/', rawQuery: '', method: 'GET', clientIp: '127.0.0.1', entryPoint: 'web', scheme: 'http', headers: {} },
      outcome: 'routed',
      candidates: [],
      winner: { router: 'r@docker', rule: 'Host(`r.test`)', priority: 14, middlewares: [], service: { name: 'su@docker', servers: [{ url, weight: 1, next: true }], next: url } },
      nearMisses: [],
    };

    const text = formatExplainReport(report);

    expect(text).toContain('server http://<redacted>@127.0.0.1:19040/');
    expect(text).not.toContain(PASSWORD);
  });
});
