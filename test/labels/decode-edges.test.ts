// Label decoding at its edges: keys too long to suggest a spelling for, and labels that set one
// option twice in different cases.
import { describe, expect, it } from 'vitest';

import { closestKey, MAX_SUGGESTED_KEY_LENGTH } from '../../src/labels/decode.js';
import { readContainerLabels } from '../../src/providers/docker/container-labels.js';

describe('closest key suggestion', () => {
  // The distance behind a suggestion takes time in proportion to the product of the two lengths, so
  // a label key of 30,000 characters stopped every route for about 7 s at each Docker event. Keys
  // longer than any real one get no suggestion.
  it.each([
    ['an unknown top-level key', `traefik.${'x'.repeat(24_000)}`],
    ['an unknown key under http', `traefik.http.${'d'.repeat(24_000)}`],
  ])('%s of 24,000 characters gets no suggestion', (_name, key) => {
    const labels = readContainerLabels({ [key]: '1', 'traefik.http.routers.web.rule': 'Host(`web.example.test`)' }, 'traefik');

    expect(labels.containerIssues.length).toBeGreaterThan(0);
    expect(labels.containerIssues.map((issue) => issue.message).join('\n')).not.toContain('did you mean');
  });

  it('suggests for a long but real key', () => {
    expect(closestKey(['routers', 'web', 'rul'], [['routers', '<name>', 'rule']])).toEqual(['routers', 'web', 'rule']);
    expect(closestKey(['x'.repeat(MAX_SUGGESTED_KEY_LENGTH)], [['http']])).toBeUndefined();
  });
});

describe('labels that differ only in case', () => {
  // Label keys compare case-insensitively, so two labels that differ only in case and carry
  // different values conflict. The conflict disables the item the option belongs to, not the whole
  // container, and not silently one of the two values.
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
    expect(labels.itemIssues.middlewares.get('mw')).toEqual([expect.stringContaining('set the same option to different values')]);
  });

  it('a conflict in a router option is an issue of that router', () => {
    const labels = readContainerLabels({ 'traefik.http.routers.web.rule': 'Host(`a.example.test`)', 'traefik.http.routers.WEB.rule': 'Host(`b.example.test`)' }, 'traefik');

    expect(labels.containerIssues).toEqual([]);
    expect([...labels.itemIssues.routers.values()].flat()).toEqual([expect.stringContaining('set the same option to different values')]);
  });
});
