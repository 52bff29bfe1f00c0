// `berth` (run): starts the entry points, the Docker provider and the API, and stops them
// gracefully on SIGTERM or SIGINT.
import type { StaticConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { ConfigurationStore } from '../dynamic/store.js';
import { Dispatcher } from '../routing/dispatch.js';
import { createForwarder } from '../proxy/forwarder.js';
import { DockerProvider } from '../providers/docker/provider.js';
import { EntryPoint } from '../entrypoints/server.js';
import { createApiHandler } from '../api/server.js';
import { VERSION } from '../version.js';
import { hostname } from 'node:os';

/** Time given to requests in flight at shutdown (Traefik's `lifeCycle.graceTimeOut` default). */
const GRACE_TIMEOUT_MS = 10_000;

export interface RunningBerth {
  stop(): Promise<void>;
}

export async function run(config: StaticConfig, logger: Logger): Promise<RunningBerth> {
  const startedAt = new Date();
  const internal = config.internalEntryPoint;
  const userEntryPoints = Object.keys(config.entryPoints).filter((name) => name !== internal).sort();
  logger.info({ version: VERSION, [Fields.counts]: { entryPoints: userEntryPoints.length } }, 'starting Berth');

  const forwarder = createForwarder({ logger });
  let dispatcher: Dispatcher | undefined;
  const store = new ConfigurationStore({ entryPoints: userEntryPoints, logger, onRuntime: (runtime) => dispatcher?.swap(runtime) });
  dispatcher = new Dispatcher(store.initialRuntime(), forwarder, logger);
  const activeDispatcher = dispatcher;

  const providers: { docker?: DockerProvider } = {};
  const dockerConfig = config.providers.docker;
  if (dockerConfig) {
    providers.docker = new DockerProvider(dockerConfig, logger, (providerConfig) => store.update('docker', providerConfig));
  }

  const entryPoints: EntryPoint[] = [];
  const serverName = hostname();
  for (const name of userEntryPoints) {
    const address = config.entryPoints[name]?.address ?? '';
    entryPoints.push(
      new EntryPoint({
        name,
        address,
        logger,
        handler: (request, response) => activeDispatcher.handle(request, response, { entryPoint: name, scheme: 'http', serverName }),
        upgradeHandler: (request, socket, head) => activeDispatcher.handleUpgrade(request, socket, head, { entryPoint: name, scheme: 'http', serverName }),
      }),
    );
  }

  const internalAddress = config.entryPoints[internal]?.address;
  if (internalAddress && (config.api?.insecure || config.ping)) {
    const handler = createApiHandler({
      api: config.api?.insecure === true,
      ping: config.ping !== undefined,
      runtime: () => activeDispatcher.runtime,
      providers: () => (providers.docker ? { docker: providers.docker.status() } : {}),
      startedAt,
    });
    entryPoints.push(new EntryPoint({ name: internal, address: internalAddress, logger, handler }));
  }

  try {
    for (const entryPoint of entryPoints) await entryPoint.listen();
  } catch (error) {
    await Promise.all(entryPoints.map((entryPoint) => entryPoint.close(0)));
    await forwarder.close();
    throw error;
  }
  providers.docker?.start();

  return {
    async stop() {
      logger.info('stopping Berth gracefully');
      await providers.docker?.stop();
      await Promise.all(entryPoints.map((entryPoint) => entryPoint.close(GRACE_TIMEOUT_MS)));
      await forwarder.close();
      logger.info('Berth stopped');
    },
  };
}
