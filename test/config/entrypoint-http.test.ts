import { describe, expect, test } from 'vitest';

import { DEFAULT_REDIRECT_PRIORITY } from '../../src/config/schema.js';
import { load, loadError } from './helpers.js';

const TWO_ENTRY_POINTS = ['--entrypoints.web.address=:8080', '--entrypoints.websecure.address=:8443'];

describe('entry point redirections', () => {
  test('flags name the target entry point', async () => {
    const config = await load({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.web.http.redirections.entrypoint.to=websecure'] });
    expect(config.entryPoints.web?.http.redirections).toEqual({
      entryPoint: { to: 'websecure', port: 8443, scheme: 'https', permanent: true, priority: DEFAULT_REDIRECT_PRIORITY },
    });
    expect(config.entryPoints.websecure?.http.redirections).toBeUndefined();
  });

  test('a port target and a temporary redirect', async () => {
    const config = await load({
      argv: [
        ...TWO_ENTRY_POINTS,
        '--entrypoints.web.http.redirections.entrypoint.to=:443',
        '--entrypoints.web.http.redirections.entrypoint.permanent=false',
        '--entrypoints.web.http.redirections.entrypoint.scheme=HTTPS',
        '--entrypoints.web.http.redirections.entrypoint.priority=10',
      ],
    });
    expect(config.entryPoints.web?.http.redirections?.entryPoint).toEqual({ to: ':443', port: 443, scheme: 'https', permanent: false, priority: 10 });
  });

  test('YAML file in Traefik layout', async () => {
    const yaml = [
      'entryPoints:',
      '  web:',
      '    address: ":8080"',
      '    http:',
      '      redirections:',
      '        entryPoint:',
      '          to: websecure',
      '          scheme: https',
      '  websecure:',
      '    address: ":8443"',
    ].join('\n');
    const config = await load({ files: { 'berth.yaml': yaml } });
    expect(config.entryPoints.web?.http.redirections?.entryPoint.port).toBe(8443);
  });

  test('unknown target entry point', async () => {
    const error = await loadError({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.web.http.redirections.entrypoint.to=secure'] });
    expect(error.message).toContain('--entrypoints.web.http.redirections.entrypoint.to');
    expect(error.message).toContain('no entry point is named secure');
    expect(error.message).toContain('websecure');
  });

  test('redirect to itself', async () => {
    const error = await loadError({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.web.http.redirections.entrypoint.to=web'] });
    expect(error.message).toContain('cannot redirect to itself');
  });

  test('missing target', async () => {
    const error = await loadError({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.web.http.redirections.entrypoint.permanent=false'] });
    expect(error.message).toContain('--entrypoints.web.http.redirections.entrypoint.to');
  });

  test('unsupported scheme', async () => {
    const error = await loadError({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.web.http.redirections.entrypoint.to=websecure', '--entrypoints.web.http.redirections.entrypoint.scheme=ftp'] });
    expect(error.message).toContain('allowed values are https and http');
  });
});

describe('entry point http.tls', () => {
  test('flags with indexed domains', async () => {
    const config = await load({
      argv: [
        ...TWO_ENTRY_POINTS,
        '--entrypoints.websecure.http.tls.certresolver=le',
        '--entrypoints.websecure.http.tls.options=modern@file',
        '--entrypoints.websecure.http.tls.domains[1].main=other.test',
        '--entrypoints.websecure.http.tls.domains[0].main=example.test',
        '--entrypoints.websecure.http.tls.domains[0].sans=*.example.test, www.example.test',
      ],
    });
    expect(config.entryPoints.websecure?.http.tls).toEqual({
      certResolver: 'le',
      options: 'modern@file',
      domains: [
        { main: 'example.test', sans: ['*.example.test', 'www.example.test'] },
        { main: 'other.test', sans: [] },
      ],
    });
  });

  test('bare flag turns TLS on with no settings', async () => {
    const config = await load({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.websecure.http.tls'] });
    expect(config.entryPoints.websecure?.http.tls).toEqual({});
  });

  test('environment variables with an index', async () => {
    const config = await load({
      argv: TWO_ENTRY_POINTS,
      env: { TRAEFIK_ENTRYPOINTS_WEBSECURE_HTTP_TLS_DOMAINS_0_MAIN: 'example.test', TRAEFIK_ENTRYPOINTS_WEBSECURE_HTTP_TLS_DOMAINS_0_SANS: '*.example.test' },
    });
    expect(config.entryPoints.websecure?.http.tls?.domains).toEqual([{ main: 'example.test', sans: ['*.example.test'] }]);
  });

  test('YAML lists of domains and names', async () => {
    const yaml = [
      'entryPoints:',
      '  websecure:',
      '    address: ":8443"',
      '    http:',
      '      tls:',
      '        certResolver: le',
      '        domains:',
      '          - main: example.test',
      '            sans:',
      '              - "*.example.test"',
      '          - main: other.test',
    ].join('\n');
    const config = await load({ files: { 'berth.yaml': yaml } });
    expect(config.entryPoints.websecure?.http.tls).toEqual({
      certResolver: 'le',
      domains: [
        { main: 'example.test', sans: ['*.example.test'] },
        { main: 'other.test', sans: [] },
      ],
    });
  });

  test('domain index that is not a number', async () => {
    const error = await loadError({ argv: [...TWO_ENTRY_POINTS, '--entrypoints.websecure.http.tls.domains.first.main=example.test'] });
    expect(error.message).toContain('domains are numbered');
  });
});

describe('file provider options', () => {
  test('filename is made absolute and watch is on', async () => {
    const config = await load({ argv: ['--providers.file.filename=dynamic.yml'] });
    expect(config.providers.file?.filename).toMatch(/^\/.*\/dynamic\.yml$/);
    expect(config.providers.file?.watch).toBe(true);
    expect(config.providers.file?.directory).toBeUndefined();
  });

  test('directory with watch off', async () => {
    const config = await load({ argv: ['--providers.file.directory=/etc/berth/dynamic', '--providers.file.watch=false'] });
    expect(config.providers.file).toEqual({ directory: '/etc/berth/dynamic', watch: false });
  });

  test('neither filename nor directory', async () => {
    const error = await loadError({ argv: ['--providers.file'] });
    expect(error.message).toContain('--providers.file.filename');
  });

  test('both filename and directory', async () => {
    const error = await loadError({ argv: ['--providers.file.filename=a.yml', '--providers.file.directory=b'] });
    expect(error.message).toContain('remove one of them');
  });

  test('file provider alone leaves Docker off', async () => {
    const config = await load({ argv: ['--providers.file.filename=dynamic.yml'] });
    expect(config.providers.docker).toBeUndefined();
  });
});
