// Findings of a review of label decoding. Each test shows a fault that is not fixed yet.
import { describe, expect, it } from 'vitest';

import { readContainerLabels } from '../../src/providers/docker/container-labels.js';

describe('closest key suggestion', () => {
  // An unknown label gets the closest valid key, found with a Levenshtein distance against every
  // known key. Placeholders such as `routers.<name>` are first filled with the user's own segment,
  // so a long unknown key is compared with candidates about as long as itself. The time therefore
  // grows with the square of the key's length. Measured with node: 3,000 characters 0.3 s, 12,000
  // characters 2.1-2.5 s.
  //
  // Decoding runs on the event loop, and the Docker provider decodes every container's labels again
  // at each Docker event. Against a private dockerd, `docker run --label "traefik.$(30,000 x)=1"`
  // stopped all of Berth's routes for about 7 s, and starting an unrelated container afterwards
  // stopped them for 5 s more, at every event while that container exists. Traefik reports an
  // unknown field without searching. A suggestion for a key this long helps nobody; it should be
  // skipped or its cost bounded.
  it.each([
    ['an unknown top-level key', `traefik.${'x'.repeat(24_000)}`],
    ['an unknown key under http', `traefik.http.${'d'.repeat(24_000)}`],
  ])('%s of 24,000 characters is decoded at once', (_name, key) => {
    const started = performance.now();
    const labels = readContainerLabels({ [key]: '1', 'traefik.http.routers.web.rule': 'Host(`web.example.test`)' }, 'traefik');
    const elapsedMs = performance.now() - started;

    expect(labels.containerIssues.length).toBeGreaterThan(0);
    expect(elapsedMs).toBeLessThan(300);
  });
});

describe('labels that differ only in case', () => {
  // Label keys are case-insensitive, so two labels that differ only in case and carry different
  // values conflict. The README states that a bad label disables only the router, service or
  // middleware it belongs to. Berth reports this conflict with an empty path, as an issue of the
  // whole container: against a private dockerd, a container with
  // `...middlewares.mw.headers.customresponseheaders.X-A=1` and `...customResponseHeaders.x-a=2`
  // had its router and its service disabled, while the middleware mw stayed enabled in the API
  // with `x-a: 2`, so another container's router that uses mw@docker gets one of the two values
  // without any error.
  it('a conflict in a middleware option is an issue of that middleware', () => {
    const labels = readContainerLabels(
      {
        'traefik.http.middlewares.mw.headers.customresponseheaders.X-A': '1',
        'traefik.http.middlewares.mw.headers.customResponseHeaders.x-a': '2',
        'traefik.http.routers.web.rule': 'Host(`web.example.test`)',
      },
      'traefik',
    );

    expect(labels.containerIssues).toEqual([]);
    expect(labels.itemIssues.middlewares.mw).toEqual([expect.stringContaining('set the same option to different values')]);
  });

  it('a conflict in a router option is an issue of that router', () => {
    const labels = readContainerLabels({ 'traefik.http.routers.web.rule': 'Host(`a.example.test`)', 'traefik.http.routers.WEB.rule': 'Host(`b.example.test`)' }, 'traefik');

    expect(labels.containerIssues).toEqual([]);
    expect(Object.values(labels.itemIssues.routers).flat()).toEqual([expect.stringContaining('set the same option to different values')]);
  });
});
