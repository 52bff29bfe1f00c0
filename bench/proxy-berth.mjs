// Berth's request path for bench/proxy.sh: one entry point at 127.0.0.1:$BERTH_BENCH_PORT whose
// router forwards everything to $BERTH_BENCH_SERVER, with the modules of a built Berth in
// $BERTH_BENCH_DIST (default: this repository's dist/). Logs at warn level, as in production.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { pino } from 'pino';

const dist = resolve(process.env.BERTH_BENCH_DIST ?? new URL('../dist', import.meta.url).pathname);
const load = (path) => import(pathToFileURL(resolve(dist, path)).href);
// The malloc settings and V8 flags of `berth run`, in builds that have them. The first may replace
// this process with one that has them.
await load('cli/serving-runtime.js').then(
  ({ restartWithMallocSettings }) => restartWithMallocSettings(),
  () => undefined,
);
await load('cli/v8-flags.js').then(
  ({ applyServingV8Flags }) => applyServingV8Flags(),
  () => undefined,
);
const { ConfigurationStore } = await load('dynamic/store.js');
const { EntryPoint } = await load('entrypoints/server.js');
const { createForwarder } = await load('proxy/forwarder.js');
const { Dispatcher } = await load('routing/dispatch.js');

const logger = pino({ level: 'warn', base: undefined });
const sources = [{ provider: 'bench', origin: 'bench' }];
const forwarder = createForwarder({ logger, keepForwardedHeaders: true });
let dispatcher;
const configuration = new ConfigurationStore({ entryPoints: ['web'], logger, onRuntime: (runtime) => dispatcher?.swap(runtime) });
dispatcher = new Dispatcher(configuration.initialRuntime(), forwarder, logger);
configuration.update('bench', {
  routers: { app: { rule: 'PathPrefix(`/`)', entryPoints: ['web'], service: 'app', middlewares: [], errors: [], warnings: [], sources } },
  services: { app: { loadBalancer: { servers: [{ url: process.env.BERTH_BENCH_SERVER, weight: 1 }], passHostHeader: true }, errors: [], warnings: [], sources } },
  middlewares: {},
  skipped: [],
});

const entryPoint = new EntryPoint({
  name: 'web',
  address: `127.0.0.1:${process.env.BERTH_BENCH_PORT}`,
  logger,
  handler: (request, response, scheme) => dispatcher.handle(request, response, { entryPoint: 'web', scheme: scheme ?? 'http', serverName: 'bench' }),
});
await entryPoint.listen();
process.once('SIGTERM', async () => {
  await entryPoint.close(0);
  await forwarder.close();
  process.exit(0);
});
// With --expose-gc, SIGUSR2 runs a full collection (bench/stream-memory.mjs, COLLECT=1).
if (typeof globalThis.gc === 'function') process.on('SIGUSR2', () => globalThis.gc());
