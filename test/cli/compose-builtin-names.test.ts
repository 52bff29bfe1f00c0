// Compose service names, label keys and variables that are also properties of every JavaScript
// object. Before the fix, `berth check --compose` on a service named `constructor` printed
// "berth: TypeError: issuesOf is not iterable", and a variable such as `${constructor}` read
// Object's constructor function instead of an unset variable.
import { describe, expect, it } from 'vitest';

import { composeProject, type ComposeOptions } from '../../src/cli/compose.js';
import { mergeProviders } from '../../src/dynamic/merged.js';
import { buildProviderConfig } from '../../src/providers/docker/build.js';
import { buildRuntime } from '../../src/routing/runtime.js';

const FILE = '/srv/shop/compose.yaml';
const OPTIONS: ComposeOptions = { env: {}, labelPrefix: 'traefik', exposedByDefault: true };
const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'prototype'] as const;

describe('compose services with built-in object names', () => {
  it('routes every built-in service name', () => {
    const services = NAMES.map((name) => `  ${name}:\n    image: nginx\n    expose: ["80"]\n`).join('');
    const project = composeProject(`services:\n${services}`, FILE, OPTIONS);

    expect(project.containers.map((container) => container.labels['com.docker.compose.service'])).toEqual([...NAMES]);
    const config = buildProviderConfig(project.containers, { labelPrefix: 'traefik', exposedByDefault: true, defaultRule: 'Host(`{{ normalize .Name }}.localhost`)' });
    const runtime = buildRuntime(mergeProviders(new Map([['docker', config]])), { entryPoints: ['web'], generation: 1 });

    expect(runtime.config.routers.size).toBe(NAMES.length);
    for (const router of runtime.config.routers.values()) expect(router.errors).toEqual([]);
  });

  it('keeps built-in names in label keys', () => {
    const project = composeProject(
      `services:
  list:
    image: nginx
    labels:
      - traefik.http.routers.__proto__.rule=Host(\`list.localhost\`)
  map:
    image: nginx
    labels:
      traefik.http.routers.constructor.rule: Host(\`map.localhost\`)
`,
      FILE,
      OPTIONS,
    );

    expect(project.containers[0]?.labels['traefik.http.routers.__proto__.rule']).toBe('Host(`list.localhost`)');
    expect(project.containers[1]?.labels['traefik.http.routers.constructor.rule']).toBe('Host(`map.localhost`)');
  });

  it('reads ${constructor} as an unset variable', () => {
    const project = composeProject(
      `services:
  web:
    image: nginx
    labels:
      traefik.http.routers.web.rule: Host(\`a\${constructor}.localhost\`)
`,
      FILE,
      OPTIONS,
    );

    expect(project.containers[0]?.labels['traefik.http.routers.web.rule']).toBe('Host(`a.localhost`)');
  });
});
