// Helpers of the ACME integration tests that drive the certificate manager in-process: runtimes
// built from a few TLS routers, resolver settings aimed at a local pebble, and a certificate
// store that records what it received.

import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { AcmeResolverConfig } from '../../../src/config/index.js';
import { mergeProviders } from '../../../src/dynamic/merged.js';
import type { RouterConfig, RouterTlsConfig } from '../../../src/dynamic/model.js';
import { emptyProviderConfig } from '../../../src/dynamic/model.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { type Runtime, buildRuntime } from '../../../src/routing/runtime.js';
import { CertificateManager, type CertificateManagerOptions } from '../../../src/tls/acme/manager.js';
import { MemoryCertificateStore } from '../../../src/tls/store.js';
import type { PebbleServer } from './pebble.js';
import { waitFor } from './wait.js';

let generation = 0;

/** A router of `runtimeWithRouters`: its rule, its own `tls`, and optionally its entry points and service. */
export interface TestRouter {
  rule: string;
  tls?: RouterTlsConfig;
  /** Defaults to every entry point of the runtime. */
  entryPoints?: string[];
  /** Defaults to `app`, the one service that exists. */
  service?: string;
}

/** Entry points of `runtimeWithRouters` by name, with their `http.tls` settings if they have any. */
export type TestEntryPoints = Record<string, RouterTlsConfig | undefined>;

/** Builds a runtime from `routers`, by default all on one entry point `websecure` without `http.tls`. */
export function runtimeWithRouters(routers: Record<string, TestRouter>, entryPoints: TestEntryPoints = { websecure: undefined }): Runtime {
  const config = emptyProviderConfig();
  config.services.app = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9', weight: 1 }], passHostHeader: true }, sources: [], errors: [], warnings: [] };
  for (const [name, router] of Object.entries(routers)) {
    const routerConfig: RouterConfig = { rule: router.rule, entryPoints: router.entryPoints ?? [], service: router.service ?? 'app', middlewares: [], sources: [], errors: [], warnings: [] };
    if (router.tls !== undefined) routerConfig.tls = router.tls;
    config.routers[name] = routerConfig;
  }
  const entryPointTls = new Map(Object.entries(entryPoints).flatMap(([name, tls]) => (tls === undefined ? [] : [[name, tls] as const])));
  generation += 1;
  return buildRuntime(mergeProviders(new Map([['docker', config]])), { entryPoints: Object.keys(entryPoints), entryPointTls, generation });
}

const directories: string[] = [];
process.once('exit', () => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** Creates a temporary directory for a storage file, removed when the process exits. */
export function storageDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'berth-acme-'));
  directories.push(directory);
  return directory;
}

/** Returns resolver settings aimed at `pebble`, with DNS-01 through the fake unless `overrides` replaces it. */
export function resolverConfig(pebble: PebbleServer, storage: string, overrides: Partial<AcmeResolverConfig> = {}): AcmeResolverConfig {
  return {
    name: 'le',
    storage,
    caServer: pebble.directoryUrl,
    keyType: 'EC256',
    certificatesDurationHours: 2160,
    dnsChallenge: { provider: 'cloudflare', resolvers: [pebble.dnsServer], delayBeforeChecksMs: 0, disableChecks: false },
    tlsChallenge: false,
    ...overrides,
  };
}

export interface ManagerUnderTest {
  manager: CertificateManager;
  store: MemoryCertificateStore;
  stop(): void;
}

/** Starts a manager with a real in-memory store, fast retries, and pebble's listener CA trusted. */
export async function startManager(
  pebble: PebbleServer,
  resolvers: AcmeResolverConfig[],
  env: Record<string, string>,
  options: Partial<CertificateManagerOptions> = {},
): Promise<ManagerUnderTest> {
  const store = await MemoryCertificateStore.create();
  const manager = new CertificateManager({
    resolvers,
    store,
    logger: silentLogger(),
    env,
    caCertificates: [pebble.listenerCaPem],
    debounceMs: 20,
    timing: { retryBaseMs: 500, retryMaxMs: 2_000, propagationPollMs: 200, propagationTimeoutMs: 5_000 },
    ...options,
  });
  await manager.start();
  return { manager, store, stop: () => manager.stop() };
}

/** Waits until the store serves an ACME certificate whose SANs are exactly `names`, and returns its serial. */
export async function waitForCertificate(store: MemoryCertificateStore, names: string[], timeoutMs = 30_000): Promise<string> {
  const expected = [...names].sort().join(',');
  return waitFor(
    () => {
      const found = store.list().find((info) => info.source.startsWith('acme:') && [...info.sans].sort().join(',') === expected);
      return found === undefined ? false : `${found.notBefore}|${found.notAfter}|${found.issuer}`;
    },
    { timeoutMs, intervalMs: 100, description: `a certificate for ${expected} in the store` },
  );
}

/** Checks that the first certificate of `chainPem` chains up to `rootPem` through the certificates after it. */
export function chainsTo(chainPem: string, rootPem: string): boolean {
  const certificates = (chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
  const root = new X509Certificate(rootPem);
  for (let index = 0; index < certificates.length; index += 1) {
    const current = certificates[index];
    const issuer = certificates[index + 1] ?? root;
    if (current === undefined || !current.verify(issuer.publicKey)) return false;
  }
  return true;
}
