// The text that `berth explain` prints when Berth does not forward the request: a 400 from the
// entry point, a redirect or 401 from a middleware, and skipped containers in a 404. Before, a
// redirect was printed as `=> router redir@docker, service mw@docker, server ...` with exit status 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { explainCommand } from '../../src/cli/explain.js';
import { formatExplainReport } from '../../src/cli/explain-format.js';
import { explain } from '../../src/routing/explain.js';
import { runtimeOf } from '../routing/helpers.js';
import { ComposeFolder, labelList, runCommand } from './helpers.js';

const SERVER = 'http://127.0.0.1:9141';

let folder: ComposeFolder;
let file = '';

beforeAll(async () => {
  folder = await ComposeFolder.create();
  file = await folder.write(
    'redirect',
    `services:\n  app:\n    image: traefik/whoami\n    labels:\n${labelList({
      'traefik.http.routers.redir.rule': 'Host(`r.test`)',
      'traefik.http.routers.redir.middlewares': 'tohttps',
      'traefik.http.middlewares.tohttps.redirectscheme.scheme': 'https',
      'traefik.http.middlewares.tohttps.redirectscheme.permanent': 'true',
      'traefik.http.services.mw.loadbalancer.server.url': SERVER,
    })}\n`,
  );
});

afterAll(async () => {
  await folder.cleanup();
});

describe('explain text outcomes', () => {
  it('prints the redirect and exits 1', async () => {
    const run = await runCommand(explainCommand, ['http://r.test/page', '--compose', file], folder.root);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('=> router redir@docker, but middleware tohttps@docker responds 301 Moved Permanently with Location https://r.test/page');
    expect(run.stdout).toContain('tohttps@docker (redirectscheme): responds 301 Moved Permanently, Location https://r.test/page');
  });

  it('prints a 400 rejection', () => {
    const runtime = runtimeOf({ routers: { r7: { rule: 'Host(`r.localhost`)' } }, services: { r7: [SERVER] } });
    const text = formatExplainReport(explain(runtime, { url: 'http://r.localhost/public/..%2Fexact' }));

    expect(text).toContain('=> Berth rejects the request before routing it: 400 Bad Request (encoded slash or backslash next to a dot segment in the path)');
    expect(text).not.toContain('Routers tried');
  });

  it('prints the path as written', () => {
    const runtime = runtimeOf({ routers: { r9: { rule: 'Path(`/exact`)' } }, services: { r9: [SERVER] } });
    const text = formatExplainReport(explain(runtime, { url: 'http://r.localhost/a/../exact' }));

    expect(text).toContain('GET http://r.localhost/exact on entry point web');
    expect(text).toContain('(path as written: /a/../exact; routers match the normalized path /exact)');
  });

  it('prints a middleware that may respond', () => {
    const runtime = runtimeOf({
      routers: { app: { rule: 'Host(`a.localhost`)', middlewares: ['limit'] } },
      services: { app: [SERVER] },
      middlewares: { limit: { type: 'inflightreq', options: { amount: 3 } } },
    });
    const text = formatExplainReport(explain(runtime, { url: 'http://a.localhost/' }));

    expect(text).toContain(`=> router app@docker, service app@docker, server ${SERVER}`);
    expect(text).toContain('limit@docker (inflightreq): may respond 429: responds 429 when 3 requests of the same source are already in progress');
  });

  it('prints a skipped container in a 404', () => {
    const runtime = runtimeOf({
      routers: {},
      skipped: [{ id: 'c1', name: 'api-1', reason: 'unhealthy (HEALTHCHECK failing)', routers: [{ name: 'api', rule: 'Host(`api.localhost`)' }] }],
    });
    const text = formatExplainReport(explain(runtime, { url: 'http://api.localhost/' }));

    expect(text).toContain('=> no router matches: Berth responds 404');
    expect(text).toContain('api@docker: its rule matches this request, but container api-1 is skipped: unhealthy (HEALTHCHECK failing)');
  });
});
