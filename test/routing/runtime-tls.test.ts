import { describe, expect, it } from 'vitest';

import { mergeProviders } from '../../src/dynamic/merged.js';
import type { ProviderConfig, RouterConfig, RouterTlsConfig, TlsOptionsConfig } from '../../src/dynamic/model.js';
import { buildRuntime, routeTableFor, type Runtime } from '../../src/routing/runtime.js';
import type { RequestFacts } from '../../src/rules/types.js';

interface RouterInput {
  rule: string;
  entryPoints?: string[];
  tls?: RouterTlsConfig;
}

interface ProviderInput {
  routers?: Record<string, RouterInput>;
  tlsOptions?: Record<string, Omit<TlsOptionsConfig, 'errors' | 'warnings' | 'sources'>>;
}

/** Builds a runtime from `docker` and `file` items; every router gets a working service of its own name. */
function runtimeOf(providers: Record<string, ProviderInput>, entryPointTls: Record<string, RouterTlsConfig> = {}): Runtime {
  const configs = new Map<string, ProviderConfig>();
  for (const [provider, input] of Object.entries(providers)) {
    const source = [{ provider, origin: `${provider} source` }];
    const config: ProviderConfig = { routers: {}, services: {}, middlewares: {}, tlsOptions: {}, skipped: [] };
    for (const [name, router] of Object.entries(input.routers ?? {})) {
      const item: RouterConfig = { rule: router.rule, entryPoints: router.entryPoints ?? [], service: name, middlewares: [], sources: source, errors: [], warnings: [] };
      if (router.tls) item.tls = router.tls;
      config.routers[name] = item;
      config.services[name] = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9', weight: 1 }], passHostHeader: true }, sources: source, errors: [], warnings: [] };
    }
    for (const [name, options] of Object.entries(input.tlsOptions ?? {})) {
      config.tlsOptions = { ...config.tlsOptions, [name]: { ...options, sources: source, errors: [], warnings: [] } };
    }
    configs.set(provider, config);
  }
  return buildRuntime(mergeProviders(configs), { entryPoints: ['web', 'websecure'], entryPointTls: new Map(Object.entries(entryPointTls)), generation: 1 });
}

function facts(host: string): RequestFacts {
  return { host, path: '/', rawQuery: '', method: 'GET', headers: {}, clientIp: '127.0.0.1' };
}

function routeNames(runtime: Runtime, entryPoint: string, scheme: 'http' | 'https'): string[] {
  return routeTableFor(runtime, entryPoint, scheme)?.routes.map((route) => route.name) ?? [];
}

describe('router TLS tables', () => {
  it('router without tls serves plain HTTP only', () => {
    const runtime = runtimeOf({ docker: { routers: { plain: { rule: 'Host(`a.test`)' } } } });
    expect(routeNames(runtime, 'web', 'http')).toEqual(['plain@docker']);
    expect(routeNames(runtime, 'web', 'https')).toEqual([]);
    expect(routeTableFor(runtime, 'websecure', 'https')?.match(facts('a.test'))).toBeUndefined();
  });

  it('router with tls serves TLS requests only', () => {
    const runtime = runtimeOf({ docker: { routers: { secure: { rule: 'Host(`a.test`)', tls: {} } } } });
    expect(routeNames(runtime, 'web', 'http')).toEqual([]);
    expect(routeNames(runtime, 'web', 'https')).toEqual(['secure@docker']);
    expect(routeTableFor(runtime, 'websecure', 'https')?.match(facts('a.test'))?.name).toBe('secure@docker');
  });

  it('entry point http.tls makes every router on it a TLS router', () => {
    const runtime = runtimeOf({ docker: { routers: { app: { rule: 'Host(`a.test`)' } } } }, { websecure: {} });
    expect(routeNames(runtime, 'web', 'http')).toEqual(['app@docker']);
    expect(routeNames(runtime, 'websecure', 'http')).toEqual([]);
    expect(routeNames(runtime, 'websecure', 'https')).toEqual(['app@docker']);
  });

  it('router view shows the entry point TLS settings', () => {
    const runtime = runtimeOf({ docker: { routers: { app: { rule: 'Host(`a.test`)', entryPoints: ['websecure'] } } } }, { websecure: { certResolver: 'le' } });
    expect(runtime.routerViews.get('app@docker')?.tls).toEqual({ certResolver: 'le' });
  });

  it('router tls wins over the entry point defaults', () => {
    const runtime = runtimeOf({ docker: { routers: { app: { rule: 'Host(`a.test`)', tls: { certResolver: 'own' } } } } }, { websecure: { certResolver: 'le' } });
    expect(runtime.routerViews.get('app@docker')?.tls).toEqual({ certResolver: 'own' });
  });

  it('plain router has no TLS view', () => {
    const runtime = runtimeOf({ docker: { routers: { app: { rule: 'Host(`a.test`)', entryPoints: ['web'] } } } }, { websecure: {} });
    expect(runtime.routerViews.get('app@docker')?.tls).toBeUndefined();
  });
});

describe('router TLS options', () => {
  it('docker router uses options from the file provider', () => {
    const runtime = runtimeOf({
      docker: { routers: { app: { rule: 'Host(`a.test`)', tls: { options: 'modern@file' } } } },
      file: { tlsOptions: { modern: { minVersion: 'VersionTLS13' } } },
    });
    expect(runtime.config.routers.get('app@docker')?.errors).toEqual([]);
    const selector = runtime.tlsOptionsSelectors.get('websecure');
    expect(selector?.forServerName('A.TEST.')?.minVersion).toBe('TLSv1.3');
    expect(selector?.forServerName('other.test')?.name).toBe('default');
    expect(selector?.forServerName(undefined)?.minVersion).toBe('TLSv1.2');
  });

  it('unqualified options name gets the provider of the router', () => {
    const runtime = runtimeOf({ file: { routers: { app: { rule: 'Host(`a.test`)', tls: { options: 'modern' } } }, tlsOptions: { modern: { sniStrict: true } } } });
    expect(runtime.config.routers.get('app@file')?.tls?.options).toBe('modern@file');
    expect(runtime.tlsOptionsSelectors.get('web')?.forServerName('a.test')?.sniStrict).toBe(true);
  });

  it('unknown options disable the router', () => {
    const runtime = runtimeOf({ docker: { routers: { app: { rule: 'Host(`a.test`)', tls: { options: 'missing@file' } } } } });
    const router = runtime.config.routers.get('app@docker');
    expect(router?.errors.join('\n')).toContain('TLS options "missing@file" do not exist');
    expect(routeNames(runtime, 'websecure', 'https')).toEqual([]);
  });

  it('invalid options disable the router and carry the error', () => {
    const runtime = runtimeOf({
      docker: { routers: { app: { rule: 'Host(`a.test`)', tls: { options: 'old@file' } } } },
      file: { tlsOptions: { old: { minVersion: 'VersionTLS10' } } },
    });
    expect(runtime.config.tlsOptions.get('old@file')?.errors.join('\n')).toContain('TLS 1.0 and 1.1 are deprecated');
    expect(runtime.config.routers.get('app@docker')?.errors.join('\n')).toContain('TLS options "old@file" are invalid');
    expect(routeNames(runtime, 'web', 'https')).toEqual([]);
  });

  it('default options from the file replace the built-in ones', () => {
    const runtime = runtimeOf({ file: { tlsOptions: { default: { minVersion: 'VersionTLS13' } } } });
    expect(runtime.tlsOptions.get('default')?.minVersion).toBe('TLSv1.3');
    expect(runtime.tlsOptionsSelectors.get('web')?.forServerName('any.test')?.minVersion).toBe('TLSv1.3');
  });

  it('invalid default options reject handshakes and disable TLS routers', () => {
    const runtime = runtimeOf({
      docker: { routers: { secure: { rule: 'Host(`a.test`)', tls: {} }, plain: { rule: 'Host(`b.test`)' } } },
      file: { tlsOptions: { default: { cipherSuites: ['NOPE'] } } },
    });
    expect(runtime.tlsOptionsSelectors.get('web')?.forServerName('a.test')).toBeUndefined();
    expect(runtime.config.routers.get('secure@docker')?.errors.join('\n')).toContain('TLS options "default" are invalid');
    expect(runtime.config.routers.get('plain@docker')?.errors).toEqual([]);
  });

  it('different options on one host fall back to the default with warnings', () => {
    const runtime = runtimeOf({
      docker: {
        routers: {
          api: { rule: 'Host(`a.test`) && PathPrefix(`/api`)', tls: { options: 'strict@file' } },
          site: { rule: 'Host(`a.test`)', tls: {} },
        },
      },
      file: { tlsOptions: { strict: { sniStrict: true } } },
    });
    expect(runtime.tlsOptionsSelectors.get('web')?.forServerName('a.test')?.name).toBe('default');
    for (const name of ['api@docker', 'site@docker']) {
      expect(runtime.config.routers.get(name)?.warnings.join('\n')).toContain('routers on host a.test use different TLS options (default, strict@file)');
      expect(runtime.config.routers.get(name)?.errors).toEqual([]);
    }
  });

  it('options on a rule without a host are reported', () => {
    const runtime = runtimeOf({
      docker: { routers: { api: { rule: 'PathPrefix(`/api`)', tls: { options: 'strict@file' } } } },
      file: { tlsOptions: { strict: { sniStrict: true } } },
    });
    expect(runtime.config.routers.get('api@docker')?.warnings.join('\n')).toContain('the rule names no host');
  });

  it('entry point options apply to routers without tls', () => {
    const runtime = runtimeOf(
      { docker: { routers: { app: { rule: 'Host(`a.test`)' } } }, file: { tlsOptions: { modern: { minVersion: 'VersionTLS13' } } } },
      { websecure: { options: 'modern@file' } },
    );
    expect(runtime.tlsOptionsSelectors.get('websecure')?.forServerName('a.test')?.name).toBe('modern@file');
    expect(runtime.tlsOptionsSelectors.get('web')?.forServerName('a.test')?.name).toBe('default');
  });

  it('default options from two providers are an error', () => {
    const runtime = runtimeOf({ file: { tlsOptions: { default: {} } }, other: { tlsOptions: { default: {} } } });
    const item = runtime.config.tlsOptions.get('default');
    expect(item?.errors.join('\n')).toContain('defined by providers file and other');
    expect(item?.sources.map((source) => source.provider)).toEqual(['file', 'other']);
  });
});
