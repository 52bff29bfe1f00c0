// PathPrefix is a plain string prefix, so stripprefix removes `/app` from `/apple` too, as Traefik does.
// The prefix is compared with the decoded path, as Traefik compares it with Go's URL.Path.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createStripPrefix } from '../../src/middlewares/stripprefix.js';
import type { RequestContext } from '../../src/middlewares/types.js';

async function strip(prefixes: string[], url: string): Promise<{ url: string | undefined; prefix: unknown }> {
  const request = new IncomingMessage(new Socket());
  request.url = url;
  const context: RequestContext = {
    request,
    response: new ServerResponse(request),
    facts: { host: 'w.example.test', path: url, rawQuery: '', method: 'GET', headers: request.headers, clientIp: '127.0.0.1' },
    entryPoint: 'web',
    scheme: 'http',
  };
  await createStripPrefix({ prefixes })(context, async () => {});
  return { url: request.url, prefix: request.headers['x-forwarded-prefix'] };
}

describe('stripprefix', () => {
  it('turns the prefix alone into the root', async () => {
    expect(await strip(['/app'], '/app')).toEqual({ url: '/', prefix: '/app' });
  });

  it('keeps the rest of the path and the query', async () => {
    expect(await strip(['/app'], '/app/x?y=1')).toEqual({ url: '/x?y=1', prefix: '/app' });
  });

  it('strips a string prefix of a longer segment', async () => {
    expect(await strip(['/app'], '/apple')).toEqual({ url: '/le', prefix: '/app' });
  });

  it('leaves other paths alone', async () => {
    expect(await strip(['/app'], '/other')).toEqual({ url: '/other', prefix: undefined });
  });

  // Before, the prefix was compared with the escaped path, so these prefixes never matched.
  it('matches an escaped space', async () => {
    expect(await strip(['/a b'], '/a%20b/x')).toEqual({ url: '/x', prefix: '/a b' });
  });

  it('matches escaped UTF-8', async () => {
    expect(await strip(['/ü'], '/%C3%BC/x?q=1')).toEqual({ url: '/x?q=1', prefix: '/ü' });
  });

  it('matches an escaped slash', async () => {
    expect(await strip(['/api/v1'], '/api%2Fv1/x')).toEqual({ url: '/x', prefix: '/api/v1' });
  });

  it('keeps escapes after the prefix', async () => {
    expect(await strip(['/a b'], '/a%20b/c%20d%2F')).toEqual({ url: '/c%20d%2F', prefix: '/a b' });
  });

  it('ignores a partial escaped character', async () => {
    expect(await strip(['/ü'], '/%C3/x')).toEqual({ url: '/%C3/x', prefix: undefined });
  });

  it('rejects a prefix without a leading slash', () => {
    expect(() => createStripPrefix({ prefixes: ['app'] })).toThrow(/must start with "\/"/);
  });
});
