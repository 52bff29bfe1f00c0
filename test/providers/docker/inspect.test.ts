import { describe, expect, it } from 'vitest';
import { toContainerInfo } from '../../../src/providers/docker/inspect.js';
import { fixture, readInspect } from './fixtures.js';

describe('toContainerInfo', () => {
  const cases = [
    { desc: 'host network port from ExposedPorts only', file: 'host', name: 'ha', networkMode: 'host', ports: [8123], state: 'running', paused: false, health: 'none' },
    { desc: 'none network without ExposedPorts', file: 'none', name: 'isolated', networkMode: 'none', ports: [], state: 'running', paused: false, health: 'none' },
    { desc: 'paused container', file: 'paused', name: 'paused', networkMode: 'host', ports: [80], state: 'paused', paused: true, health: 'none' },
    { desc: 'failing HEALTHCHECK', file: 'unhealthy', name: 'failing', networkMode: 'host', ports: [80], state: 'running', paused: false, health: 'unhealthy' },
    { desc: 'HEALTHCHECK not yet run', file: 'starting', name: 'warming', networkMode: 'host', ports: [80], state: 'running', paused: false, health: 'starting' },
    { desc: 'passing HEALTHCHECK', file: 'healthy', name: 'healthy', networkMode: 'host', ports: [80], state: 'running', paused: false, health: 'healthy' },
    { desc: 'exited container', file: 'exited', name: 'exited', networkMode: 'host', ports: [80], state: 'exited', paused: false, health: 'none' },
    { desc: 'several exposed ports ascending', file: 'ports-25-80-8080', name: 'mail', networkMode: 'host', ports: [25, 80, 8080], state: 'running', paused: false, health: 'none' },
    { desc: 'bridge ports from both sources, tcp only', file: 'bridge', name: 'whoami', networkMode: 'default', ports: [80, 8080], state: 'running', paused: false, health: 'none' },
  ] as const;

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const info = fixture(testCase.file);
      expect(info.name).toBe(testCase.name);
      expect(info.networkMode).toBe(testCase.networkMode);
      expect(info.exposedPorts).toEqual(testCase.ports);
      expect(info.state).toBe(testCase.state);
      expect(info.paused).toBe(testCase.paused);
      expect(info.health).toBe(testCase.health);
      expect(info.stopping).toBeUndefined();
    });
  }

  it('networks keyed by name, sorted', () => {
    const info = fixture('compose-multinet');
    expect(info.networks).toEqual([
      { name: 'myproj_db', ipAddress: '172.20.0.3' },
      { name: 'myproj_proxy', ipAddress: '172.21.0.4' },
    ]);
    expect(info.networkMode).toBe('myproj_db');
  });

  it('labels copied from Config.Labels', () => {
    const info = fixture('compose-multinet');
    expect(info.labels['com.docker.compose.service']).toBe('app');
    expect(info.labels['traefik.docker.network']).toBe('proxy');
  });

  it('container network mode keeps the target id', () => {
    const target = fixture('none');
    const info = fixture('container-mode-none');
    expect(info.networkMode).toBe(`container:${target.id}`);
    expect(info.networks).toEqual([]);
  });

  it('host network entry has an empty address', () => {
    expect(fixture('host').networks).toEqual([{ name: 'host', ipAddress: '' }]);
  });

  it('IPv6 address kept when set', () => {
    const inspect = readInspect('bridge');
    const endpoint = inspect.NetworkSettings.Networks['bridge'];
    if (endpoint === undefined) throw new Error('fixture has no bridge endpoint');
    endpoint.GlobalIPv6Address = '2001:db8::2';
    expect(toContainerInfo(inspect).networks).toEqual([{ name: 'bridge', ipAddress: '172.17.0.2', ipv6Address: '2001:db8::2' }]);
  });

  it('null sections treated as empty', () => {
    const inspect = readInspect('bridge') as unknown as Record<string, Record<string, unknown>>;
    (inspect['Config'] as Record<string, unknown>)['Labels'] = null;
    (inspect['Config'] as Record<string, unknown>)['ExposedPorts'] = null;
    (inspect['NetworkSettings'] as Record<string, unknown>)['Ports'] = null;
    (inspect['NetworkSettings'] as Record<string, unknown>)['Networks'] = null;
    const info = toContainerInfo(inspect as unknown as Parameters<typeof toContainerInfo>[0]);
    expect(info.labels).toEqual({});
    expect(info.exposedPorts).toEqual([]);
    expect(info.networks).toEqual([]);
  });

  it('port keys without protocol count as tcp', () => {
    const inspect = readInspect('bridge');
    inspect.Config.ExposedPorts = { '9090': {}, '7000/sctp': {}, 'junk/tcp': {} };
    inspect.NetworkSettings.Ports = {};
    expect(toContainerInfo(inspect).exposedPorts).toEqual([9090]);
  });
});
