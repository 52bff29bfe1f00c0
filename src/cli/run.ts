// `berth` (run): starts the entry points, the Docker provider and the API, and stops them
// gracefully on SIGTERM or SIGINT.
import { ConfigError, type StaticConfig } from '../config/index.js';
import { parseRuleTemplate } from '../providers/docker/template.js';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { ConfigurationStore } from '../dynamic/store.js';
import { Dispatcher } from '../routing/dispatch.js';
import { createForwarder } from '../proxy/forwarder.js';
import { HealthRegistry } from '../balancer/health-registry.js';
import { DockerProvider } from '../providers/docker/provider.js';
import { FileProvider } from '../providers/file/provider.js';
import { chainRequestHandlers, chainUpgradeHandlers, type RequestClaim, type UpgradeClaim } from '../entrypoints/handler-chain.js';
import { createRedirectClaims } from '../entrypoints/redirect.js';
import { createPingClaims, pingEntryPoint } from '../entrypoints/ping.js';
import { EntryPoint } from '../entrypoints/server.js';
import { forwardedHeadersByEntryPoint, listenerSettings, tlsOptionsFor } from '../entrypoints/from-config.js';
import { MemoryCertificateStore } from '../tls/store.js';
import { CertificateManager, challengeResponder } from '../tls/acme/manager.js';
import { createApiHandler } from '../api/server.js';
import { VERSION } from '../version.js';
import { hostname } from 'node:os';
import { getOwn } from '../dictionary.js';
import { staticRuntimeOptions } from './runtime-options.js';

/**
 * Longest time Berth keeps an idle connection to a server, whatever `idleConnTimeout` is set to, so that it
 * closes the connection before the server does (Node.js servers close idle ones after 5 s): a request
 * written just as the server closes fails with a reset and cannot always be retried safely. It is below
 * 1 s, so that a server that closes idle connections after 1 s still closes last, with a margin for transit.
 */
const MAX_UPSTREAM_IDLE_MS = 900;

export interface RunningBerth {
  stop(): Promise<void>;
}

/** Stops Berth at start when the default rule template does not parse, as Traefik does. */
function checkDefaultRule(defaultRule: string): void {
  try {
    parseRuleTemplate(defaultRule);
  } catch (error) {
    throw new ConfigError(`invalid value for --providers.docker.defaultrule: ${(error as Error).message}`, { option: 'providers.docker.defaultrule', value: defaultRule });
  }
}

export async function run(config: StaticConfig, logger: Logger): Promise<RunningBerth> {
  const startedAt = new Date();
  const internal = config.internalEntryPoint;
  const runtimeOptions = staticRuntimeOptions(config);
  const userEntryPoints = runtimeOptions.entryPoints;
  logger.info({ version: VERSION, configFile: config.configFile ?? null, [Fields.counts]: { entryPoints: Object.keys(config.entryPoints).length } }, 'starting Berth');
  if (!config.providers.docker && !config.providers.file) {
    logger.warn('no provider is enabled, so no router will ever be added: enable --providers.docker or --providers.file');
  }
  if (config.providers.docker) checkDefaultRule(config.providers.docker.defaultRule);

  const { forwardingTimeouts } = config.serversTransport;
  const forwarder = createForwarder({
    logger,
    keepForwardedHeaders: true,
    dialTimeoutMs: forwardingTimeouts.dialTimeoutMs,
    responseHeaderTimeoutMs: forwardingTimeouts.responseHeaderTimeoutMs,
    idleTimeoutMs: forwardingTimeouts.idleConnTimeoutMs > 0 ? Math.min(forwardingTimeouts.idleConnTimeoutMs, MAX_UPSTREAM_IDLE_MS) : MAX_UPSTREAM_IDLE_MS,
  });
  const certificates = await MemoryCertificateStore.create();
  const resolvers = Object.values(config.certificatesResolvers);
  const acme = resolvers.length === 0 ? undefined : new CertificateManager({ resolvers, store: certificates, logger });
  const httpChallengeEntryPoints = new Set(resolvers.flatMap((resolver) => (resolver.httpChallenge ? [resolver.httpChallenge.entryPoint] : [])));
  let dispatcher: Dispatcher | undefined;
  const health = new HealthRegistry({ logger });
  const store = new ConfigurationStore({ ...runtimeOptions, logger, health, onRuntime: (runtime) => {
    dispatcher?.swap(runtime);
    acme?.onRuntime(runtime);
  } });
  dispatcher = new Dispatcher(store.initialRuntime(), forwarder, logger);
  const activeDispatcher = dispatcher;

  const providers: { docker?: DockerProvider; file?: FileProvider } = {};
  const dockerConfig = config.providers.docker;
  if (dockerConfig) {
    providers.docker = new DockerProvider(dockerConfig, logger, (providerConfig) => store.submit('docker', providerConfig));
  }
  const fileConfig = config.providers.file;
  if (fileConfig) {
    providers.file = new FileProvider({ config: fileConfig, logger, certificates, onConfig: (providerConfig) => store.submit('file', providerConfig) });
  }

  const entryPoints: EntryPoint[] = [];
  const serverName = hostname();
  for (const name of userEntryPoints) {
    const entryPointConfig = getOwn(config.entryPoints, name);
    if (!entryPointConfig) continue;

    // Steps that may respond to a request before routing. ACME HTTP-01 challenge responses must come
    // before the redirection, so that a challenge on an entry point that redirects still succeeds.
    const requestClaims: RequestClaim[] = [];
    const upgradeClaims: UpgradeClaim[] = [];
    if (httpChallengeEntryPoints.has(name)) requestClaims.push(challengeResponder);
    if (config.ping?.entryPoint === name) {
      const ping = createPingClaims({ tls: entryPointConfig.http.tls !== undefined });
      requestClaims.push(ping.request);
      upgradeClaims.push(ping.upgrade);
    }
    const redirection = entryPointConfig.http.redirections?.entryPoint;
    if (redirection) {
      const redirect = createRedirectClaims({ entryPoint: name, redirection, runtime: () => activeDispatcher.runtime });
      requestClaims.push(redirect.request);
      upgradeClaims.push(redirect.upgrade);
    }

    entryPoints.push(
      new EntryPoint({
        name,
        ...listenerSettings(entryPointConfig),
        logger,
        // Every user entry point accepts TLS, so a router with tls=true works on any of them, as in Traefik.
        tls: { store: certificates, optionsFor: (serverName) => tlsOptionsFor(activeDispatcher.runtime, name, serverName) },
        handler: chainRequestHandlers(requestClaims, (request, response, scheme) => activeDispatcher.handle(request, response, { entryPoint: name, scheme, serverName })),
        upgradeHandler: chainUpgradeHandlers(upgradeClaims, (request, socket, head, scheme) =>
          activeDispatcher.handleUpgrade(request, socket, head, { entryPoint: name, scheme, serverName }),
        ),
      }),
    );
  }

  const internalAddress = getOwn(config.entryPoints, internal)?.address;
  const internalConfig = getOwn(config.entryPoints, internal);
  const internalSettings = internalConfig ? listenerSettings(internalConfig) : {};
  const pingOnInternal = config.ping?.entryPoint === internal;
  if (internalAddress && (config.api?.insecure || pingOnInternal)) {
    const handler = createApiHandler({
      api: config.api?.insecure === true,
      dashboard: config.api?.dashboard !== false,
      ping: pingOnInternal,
      runtime: () => activeDispatcher.runtime,
      providers: () => ({
        ...(providers.docker ? { docker: providers.docker.status() } : {}),
        ...(providers.file ? { file: providers.file.status() } : {}),
      }),
      certificates: () => certificates.list(),
      acme: () => acme?.status() ?? [],
      entryPoints: Object.entries(config.entryPoints).map(([name, entryPoint]) => ({ name, address: entryPoint.address })),
      forwardedHeaders: forwardedHeadersByEntryPoint(config.entryPoints),
      pingEntryPoint: pingEntryPoint(config),
      startedAt,
    });
    entryPoints.push(new EntryPoint({ name: internal, address: internalAddress, ...internalSettings, logger, handler }));
  }

  // Stored certificates are in the store before the first TLS handshake.
  await acme?.start();
  try {
    for (const entryPoint of entryPoints) await entryPoint.listen();
  } catch (error) {
    await Promise.all(entryPoints.map((entryPoint) => entryPoint.close(0)));
    await forwarder.close();
    await health.close();
    throw error;
  }
  providers.docker?.start();
  await providers.file?.start();
  // The file configuration is serving when run returns, as it was before rebuilds ran in slices.
  await store.settled();

  return {
    async stop() {
      logger.info('stopping Berth gracefully');
      acme?.stop();
      await providers.docker?.stop();
      await providers.file?.stop();
      // A rebuild still running would start health checks after the registry closed.
      await store.settled();
      await Promise.all(entryPoints.map((entryPoint) => entryPoint.close()));
      // Every client connection is closed by now, so a request still in flight has no client to respond to.
      await forwarder.close(0);
      await health.close();
      logger.info('Berth stopped');
    },
  };
}
