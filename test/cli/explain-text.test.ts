// The text that `berth explain` prints: server URLs without their password.
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
