import { describe, expect, it } from 'vitest';
import { ConfigurationStore } from '../../src/dynamic/store.js';
import { buildProviderConfig } from '../../src/providers/docker/build.js';
import type { ContainerInfo } from '../../src/providers/docker/container-info.js';
import { captureLogs, LEVEL, type CapturedLogs } from '../middlewares/log-capture.js';
import { container, defaultOptions } from '../providers/docker/fixtures.js';

const SKIPPED_INVALID = 'container not routed because of an invalid label';
const SKIPPED_UNSUPPORTED = 'container not routed because its labels are not supported yet';

function storeWithLogs(certResolvers?: string[]): { store: ConfigurationStore; logs: CapturedLogs; apply: (containers: ContainerInfo[]) => void } {
  const logs = captureLogs('info');
  const store = new ConfigurationStore({ entryPoints: ['web'], logger: logs.logger, onRuntime: () => {}, ...(certResolvers ? { certResolvers } : {}) });
  return { store, logs, apply: (containers) => store.update('docker', buildProviderConfig(containers, defaultOptions)) };
}

describe('skipped container logging', () => {
  it('invalid enable: one warning with fields', () => {
    const { logs, apply } = storeWithLogs();
    const typo = container('typo1', { 'traefik.enable': 'yes' });
    apply([typo]);
    apply([typo]);

    const records = logs.withMessage(SKIPPED_INVALID);
    expect(records).toHaveLength(1);
    expect(records[0]?.level).toBe(LEVEL.warn);
    expect(records[0]).toMatchObject({
      providerName: 'docker',
      containerName: 'typo1',
      containerId: typo.id.slice(0, 12),
      reason: 'invalid value "yes" for label "traefik.enable": expected true or false',
      labelKey: 'traefik.enable',
      labelValue: 'yes',
    });
  });

  it('tcp-only container: one info line', () => {
    const { logs, apply } = storeWithLogs();
    const db = container('db', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' });
    apply([db]);
    apply([db]);

    const records = logs.withMessage(SKIPPED_UNSUPPORTED);
    expect(records).toHaveLength(1);
    expect(records[0]?.level).toBe(LEVEL.info);
    expect(records[0]).toMatchObject({ containerName: 'db', labelKey: 'traefik.tcp.routers.db.rule' });
    expect(records[0]?.labelValue).toBeUndefined();
  });

  it('normal skips are not logged', () => {
    const logs = captureLogs('info');
    const store = new ConfigurationStore({ entryPoints: ['web'], logger: logs.logger, onRuntime: () => {} });
    const disabled = container('off', { 'traefik.enable': 'false' });
    const hidden = container('hidden', { 'traefik.http.routers.h.rule': 'Host(`h.example.com`)' });
    const stopped = container('stopped', {}, { state: 'exited' });
    store.update('docker', buildProviderConfig([disabled, hidden, stopped], { ...defaultOptions, exposedByDefault: false }));

    expect(logs.withMessage(SKIPPED_INVALID)).toEqual([]);
    expect(logs.withMessage(SKIPPED_UNSUPPORTED)).toEqual([]);
  });

  it('logged again when the reason changes', () => {
    const { logs, apply } = storeWithLogs();
    apply([container('typo1', { 'traefik.enable': 'yes' })]);
    apply([container('typo1', { 'traefik.enable': 'on' })]);
    apply([container('typo1', { 'traefik.enable': 'on' })]);

    expect(logs.withMessage(SKIPPED_INVALID).map((record) => record.labelValue)).toEqual(['yes', 'on']);
  });

  it('logged again after the container was fixed and broken', () => {
    const { logs, apply } = storeWithLogs();
    apply([container('typo1', { 'traefik.enable': 'yes' })]);
    apply([container('typo1', { 'traefik.enable': 'true' })]);
    apply([container('typo1', { 'traefik.enable': 'yes' })]);

    expect(logs.withMessage(SKIPPED_INVALID)).toHaveLength(2);
  });
});

describe('item problem logging', () => {
  it('containerName holds the bare name', () => {
    const { logs, apply } = storeWithLogs();
    apply([container('typo1', { 'traefik.http.routers.r.rule': 'Host(`a.example.com`)', 'traefik.http.routers.r.priority': 'high' })]);

    const records = logs.withMessage('router disabled');
    expect(records).toHaveLength(1);
    expect(records[0]?.containerName).toBe('typo1');
    expect(records[0]?.source).toBeUndefined();
  });

  it('undefined resolver: router warning logged once', () => {
    const { store, logs, apply } = storeWithLogs(['le']);
    const labels = { 'traefik.http.routers.g2.rule': 'Host(`g2.example.com`)', 'traefik.http.routers.g2.tls.certresolver': 'nope' };
    apply([container('g2', labels)]);
    const runtime = store.update('docker', buildProviderConfig([container('g2', labels)], defaultOptions));

    const records = logs.withMessage('router has a warning');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      routerName: 'g2@docker',
      containerName: 'g2',
      problem: 'container g2: certificate resolver "nope" is not configured; configured resolvers: le (set --certificatesresolvers.<name>.acme.* or fix the name)',
    });
    expect(runtime.config.routers.get('g2@docker')?.errors).toEqual([]);
  });

  // Before, these showed only in the resolver's status and in one error line that bundled every
  // router, while the routers looked enabled without a warning.
  it('certificate domain problems: one warning per router', () => {
    const { store, logs } = storeWithLogs(['le']);
    const wildcard = {
      'traefik.http.routers.deep.rule': 'Host(`app.example.test`)',
      'traefik.http.routers.deep.tls.certresolver': 'le',
      'traefik.http.routers.deep.tls.domains[0].main': '*.*.example.test',
    };
    const regexp = { 'traefik.http.routers.any.rule': 'HostRegexp(`^.+\\.example\\.test$`)', 'traefik.http.routers.any.tls.certresolver': 'le' };
    const containers = [container('deep', wildcard), container('any', regexp, {}, '172.30.0.3')];
    store.update('docker', buildProviderConfig(containers, defaultOptions));
    const runtime = store.update('docker', buildProviderConfig(containers, defaultOptions));

    const records = logs.withMessage('router has a warning');
    expect(records.map((record) => record.routerName).sort()).toEqual(['any@docker', 'deep@docker']);
    expect(records.every((record) => record.level === LEVEL.warn)).toBe(true);
    expect(runtime.config.routers.get('deep@docker')?.warnings).toEqual([
      'container deep: no certificate can be ordered for "*.*.example.test", so the router still serves, but without a certificate from resolver "le": "*.*.example.test" has a wildcard that is not exactly the leftmost label; a CA issues wildcards only in the form *.example.com, one level deep',
    ]);
    expect(runtime.config.routers.get('any@docker')?.warnings).toEqual([
      'container any: the rule has no Host matcher outside a negation, and a certificate order needs a name from one (HostRegexp gives no name), so the router still serves, but without a certificate from resolver "le"; set tls.domains[0].main, for example to *.example.com',
    ]);
    expect(runtime.config.routers.get('deep@docker')?.errors).toEqual([]);
  });

  it('disabled router: no certificate domain warning', () => {
    const { store } = storeWithLogs(['le']);
    const labels = { 'traefik.http.routers.off.rule': 'HostRegexp(`^a$`)', 'traefik.http.routers.off.tls.certresolver': 'le', 'traefik.http.routers.off.middlewares': 'missing' };
    const runtime = store.update('docker', buildProviderConfig([container('off', labels)], defaultOptions));

    expect(runtime.config.routers.get('off@docker')?.errors).toHaveLength(1);
    expect(runtime.config.routers.get('off@docker')?.warnings).toEqual([]);
  });

  it('configured resolver in any case: no warning', () => {
    const { store } = storeWithLogs(['le']);
    const labels = { 'traefik.http.routers.g2.rule': 'Host(`g2.example.com`)', 'traefik.http.routers.g2.tls.certresolver': 'LE' };
    const runtime = store.update('docker', buildProviderConfig([container('g2', labels)], defaultOptions));

    expect(runtime.config.routers.get('g2@docker')?.warnings).toEqual([]);
  });
});
