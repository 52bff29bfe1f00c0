import { describe, expect, it } from 'vitest';
import { buildProviderConfig } from '../../../src/providers/docker/build.js';
import type { DockerBuildOptions } from '../../../src/providers/docker/build.js';
import type { ContainerInfo } from '../../../src/providers/docker/container-info.js';
import { container, defaultOptions, fixture } from './fixtures.js';

/** Builds and returns the one service, failing when there is not exactly one. */
function onlyService(containers: ContainerInfo[], options: Partial<DockerBuildOptions> = {}) {
  const config = buildProviderConfig(containers, { ...defaultOptions, ...options });
  const services = Object.values(config.services);
  if (services.length !== 1 || services[0] === undefined) throw new Error(`expected one service, got ${Object.keys(config.services).join(', ')}`);
  return services[0];
}

function urls(containers: ContainerInfo[], options: Partial<DockerBuildOptions> = {}): string[] {
  return onlyService(containers, options).loadBalancer.servers.map((server) => server.url);
}

const composeLabels = (network?: string): Record<string, string> => {
  const labels: Record<string, string> = {
    'com.docker.compose.project': 'myproj',
    'com.docker.compose.service': 'app',
    'traefik.http.routers.app.rule': 'Host(`app.example.test`)',
  };
  if (network !== undefined) labels['traefik.docker.network'] = network;
  return labels;
};

describe('server port', () => {
  it('ports 25, 80, 8080: lowest', () => {
    const mail = fixture('ports-25-80-8080', { 'traefik.http.routers.mail.rule': 'Host(`mail.example.test`)' });
    expect(urls([mail])).toEqual(['http://127.0.0.1:25']);
  });

  it('leftover v1 traefik.port: warning, port unchanged', () => {
    const service = onlyService([fixture('ports-25-80-8080')]);
    expect(service.loadBalancer.servers.map((server) => server.url)).toEqual(['http://127.0.0.1:25']);
    expect(service.errors).toEqual([]);
    expect(service.warnings).toEqual([
      'container mail: unknown label "traefik.port": Traefik v1 syntax, which is ignored; the v3 equivalent is "traefik.http.services.mail.loadbalancer.server.port"',
    ]);
  });

  it('port label wins over exposed ports', () => {
    const mail = fixture('ports-25-80-8080', {
      'traefik.http.routers.mail.rule': 'Host(`mail.example.test`)',
      'traefik.http.services.m.loadbalancer.server.port': '8080',
    });
    expect(urls([mail])).toEqual(['http://127.0.0.1:8080']);
  });

  it('no port anywhere: port missing', () => {
    const service = onlyService([fixture('none', { 'traefik.http.routers.r.rule': 'Path(`/`)' })]);
    expect(service.loadBalancer.servers).toEqual([]);
    expect(service.errors).toEqual([
      'container isolated: port is missing: set traefik.http.services.isolated.loadbalancer.server.port or EXPOSE a port',
    ]);
  });

  // Before, a router with service=shared@docker on a container without a port gave the unused
  // generated service the error "port is missing".
  it('no port, router names another service: no generated service', () => {
    const labels = { 'traefik.http.routers.r.rule': 'Path(`/`)', 'traefik.http.routers.r.service': 'shared@docker' };
    const config = buildProviderConfig([container('s5', labels, { exposedPorts: [] })], defaultOptions);
    expect(Object.keys(config.services)).toEqual([]);
    expect(config.routers['r']?.errors).toEqual([]);
    expect(config.routers['r']?.service).toBe('shared@docker');
  });

  it('port found, router names another service: generated service kept', () => {
    const labels = { 'traefik.http.routers.r.rule': 'Path(`/`)', 'traefik.http.routers.r.service': 'shared@docker' };
    const config = buildProviderConfig([container('s5', labels)], defaultOptions);
    expect(config.services['s5']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.30.0.2:80']);
  });

  it('no port, one router without service: error kept', () => {
    const labels = { 'traefik.http.routers.a.rule': 'Path(`/a`)', 'traefik.http.routers.a.service': 'shared@docker', 'traefik.http.routers.b.rule': 'Path(`/b`)' };
    const config = buildProviderConfig([container('s5', labels, { exposedPorts: [] })], defaultOptions);
    expect(config.services['s5']?.errors).toEqual(['container s5: port is missing: set traefik.http.services.s5.loadbalancer.server.port or EXPOSE a port']);
    expect(config.routers['b']?.service).toBe('s5');
  });

  it('port from NetworkSettings.Ports and ExposedPorts: lowest tcp', () => {
    expect(urls([fixture('bridge')])).toEqual(['http://172.17.0.2:80']);
  });
});

describe('server address', () => {
  it('host network: 127.0.0.1 with the exposed port', () => {
    expect(urls([fixture('host')])).toEqual(['http://127.0.0.1:8123']);
  });

  it('unprefixed network label: suggestion', () => {
    const service = onlyService([fixture('compose-multinet', composeLabels('proxy'))]);
    expect(service.warnings).toEqual([
      'container myproj-app-1: network "proxy" (from label traefik.docker.network) is not attached to the container (attached: myproj_db, myproj_proxy); did you mean "myproj_proxy"? Using "myproj_db" instead.',
    ]);
    expect(service.errors).toEqual([]);
    expect(service.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.20.0.3:3000']);
  });

  it('prefixed network label: stable address', () => {
    const containers = [fixture('compose-multinet', composeLabels('myproj_proxy'))];
    for (let rebuild = 0; rebuild < 3; rebuild++) {
      const service = onlyService(containers);
      expect(service.warnings).toEqual([]);
      expect(service.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.21.0.4:3000']);
    }
  });

  it('network option used without a label', () => {
    expect(urls([fixture('compose-multinet', composeLabels())], { network: 'myproj_proxy' })).toEqual(['http://172.21.0.4:3000']);
  });

  it('network label wins over the network option', () => {
    expect(urls([fixture('compose-multinet', composeLabels('myproj_db'))], { network: 'myproj_proxy' })).toEqual(['http://172.20.0.3:3000']);
  });

  it('missing network option: warning names the option', () => {
    const service = onlyService([fixture('compose-multinet', composeLabels())], { network: 'edge' });
    expect(service.warnings).toEqual([
      'container myproj-app-1: network "edge" (from the provider\'s network option) is not attached to the container (attached: myproj_db, myproj_proxy). Using "myproj_db" instead.',
    ]);
  });

  it('no choice: first network by name', () => {
    expect(urls([fixture('compose-multinet', composeLabels())])).toEqual(['http://172.20.0.3:3000']);
  });

  it('no choice: a network shared with Berth first', () => {
    expect(urls([fixture('compose-multinet', composeLabels())], { selfNetworks: ['myproj_proxy', 'other'] })).toEqual(['http://172.21.0.4:3000']);
  });

  it('automatic choice skips addressless network', () => {
    const app = container('app', {}, {
      networks: [
        { name: 'a_net', ipAddress: '' },
        { name: 'b_net', ipAddress: '172.31.0.5' },
      ],
    });
    expect(urls([app])).toEqual(['http://172.31.0.5:80']);
  });

  it('named network without address: error', () => {
    const app = container('app', { 'traefik.docker.network': 'a_net' }, {
      networks: [
        { name: 'a_net', ipAddress: '' },
        { name: 'b_net', ipAddress: '172.31.0.5' },
      ],
    });
    const service = onlyService([app]);
    expect(service.loadBalancer.servers).toEqual([]);
    expect(service.errors).toEqual(['container app: no IP address on network "a_net" (from label traefik.docker.network)']);
  });

  it('no address on any network: error', () => {
    const service = onlyService([container('app', {}, { networks: [{ name: 'a_net', ipAddress: '' }] })]);
    expect(service.errors).toEqual(["container app: no IP address on the container's networks (a_net)"]);
  });

  it('IPv6-only network: bracketed host', () => {
    const app = container('app', {}, { networks: [{ name: 'v6', ipAddress: '', ipv6Address: 'fd00::5' }] });
    expect(urls([app])).toEqual(['http://[fd00::5]:80']);
  });

  it('network mode none: error', () => {
    const service = onlyService([fixture('none', { 'traefik.http.services.s.loadbalancer.server.port': '80' })]);
    expect(service.errors).toEqual([
      'container isolated: network mode "none" gives the container no address Berth can reach; attach it to a network or set a server url label',
    ]);
  });

  it('container network mode: address of the shared container', () => {
    const config = buildProviderConfig([fixture('bridge'), fixture('container-mode')], defaultOptions);
    expect(config.services['netshare']?.loadBalancer.servers.map((server) => server.url)).toEqual(['http://172.17.0.2:9000']);
    expect(config.services['netshare']?.errors).toEqual([]);
  });

  it('container network mode by name', () => {
    const vpn = container('vpn', { 'traefik.enable': 'false' }, {}, '172.30.0.9');
    const app = container('app', {}, { networkMode: 'container:vpn', networks: [] });
    expect(buildProviderConfig([vpn, app], defaultOptions).services['app']?.loadBalancer.servers.map((server) => server.url)).toEqual([
      'http://172.30.0.9:80',
    ]);
  });

  it('container mode: shared container label', () => {
    const vpn = container('vpn', { 'traefik.enable': 'false', 'traefik.docker.network': 'b_net' }, {
      networks: [
        { name: 'a_net', ipAddress: '172.30.1.2' },
        { name: 'b_net', ipAddress: '172.30.2.2' },
      ],
    });
    const app = container('app', { 'traefik.docker.network': 'a_net' }, { networkMode: 'container:vpn', networks: [] });
    expect(buildProviderConfig([vpn, app], defaultOptions).services['app']?.loadBalancer.servers.map((server) => server.url)).toEqual([
      'http://172.30.2.2:80',
    ]);
  });

  it('container mode through none: error', () => {
    const config = buildProviderConfig([fixture('none', { 'traefik.enable': 'false' }), fixture('container-mode-none')], defaultOptions);
    expect(config.services['sidecar']?.errors).toEqual([
      'container sidecar: through container isolated: network mode "none" gives the container no address Berth can reach; attach it to a network or set a server url label',
    ]);
  });

  it('container network mode with an unknown container: error', () => {
    const service = onlyService([fixture('container-mode')]);
    expect(service.errors).toEqual([
      'container netshare: network mode "container:f25297859cf0a70af5c053a5464a5fa647a35ceee1d91397331903846d79ffc1" names a container that was not found',
    ]);
  });

  it('container network modes that form a loop: error', () => {
    const a = container('a', {}, { networkMode: 'container:b', networks: [] });
    const b = container('b', { 'traefik.enable': 'false' }, { networkMode: 'container:a', networks: [] });
    const errors = buildProviderConfig([a, b], defaultOptions).services['a']?.errors ?? [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('chain of more than 4 shared network namespaces');
  });
});

describe('server url label', () => {
  it('replaces address and port', () => {
    const service = onlyService([fixture('none', { 'traefik.http.services.s.loadbalancer.server.url': 'http://127.0.0.1:9100/' })]);
    expect(service.errors).toEqual([]);
    expect(service.loadBalancer.servers.map((server) => server.url)).toEqual(['http://127.0.0.1:9100/']);
  });

  it('port label next to url: warning', () => {
    const service = onlyService([
      container('app', {
        'traefik.http.services.s.loadbalancer.server.url': 'https://127.0.0.1:9443',
        'traefik.http.services.s.loadbalancer.server.port': '80',
      }),
    ]);
    expect(service.loadBalancer.servers.map((server) => server.url)).toEqual(['https://127.0.0.1:9443']);
    expect(service.warnings).toEqual([
      'container app: label "traefik.http.services.s.loadbalancer.server.url" is set, so the server port and scheme labels are ignored',
    ]);
  });

  it('invalid url: error', () => {
    const service = onlyService([container('app', { 'traefik.http.services.s.loadbalancer.server.url': 'ftp://files' })]);
    expect(service.loadBalancer.servers).toEqual([]);
    expect(service.errors).toEqual([
      'container app: invalid value "ftp://files" for label "traefik.http.services.s.loadbalancer.server.url": expected an http, https or h2c URL with a host',
    ]);
  });

  it('h2c scheme label', () => {
    expect(urls([container('app', { 'traefik.http.services.s.loadbalancer.server.scheme': 'h2c' })])).toEqual(['h2c://172.30.0.2:80']);
  });
});
