// Configuration rebuild time and the longest event-loop stall it causes, for 50, 500 and 3,000
// routers and for one rule of 20,000 Host alternatives. The work follows the Docker provider's path: container snapshots, buildProviderConfig,
// the provider's JSON comparison, ConfigurationStore, and a new runtime for the entry points.
// With BERTH_BEFORE_DIST set to another build of Berth, that build is measured in the same run,
// taking turns with this one. Results are in bench/README.md.
//
//   npm run build && node bench/rebuild.mjs
//   BERTH_BEFORE_DIST=/tmp/berth-before/dist ROUNDS=2 EVENTS=5 node bench/rebuild.mjs
//   SHAPES='one long rule' node bench/rebuild.mjs
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SIZES = [50, 500, 3_000];
const SHAPES = (process.env.SHAPES?.split(',') ?? ['one router per container', 'one container', 'one long rule']);
/** Host alternatives in the rule of the `one long rule` shape, about 550 KB of rule text. */
const LONG_RULE_HOSTS = 20_000;
/** Containers without routers next to the big one in the `one container` and `one long rule` shapes. */
const OTHER_CONTAINERS = 19;
/** The slice length of DockerProvider's configuration build (BUILD_SLICE_MS in src/providers/docker/provider.ts). */
const PROVIDER_SLICE_MS = 10;

/**
 * Builds the container snapshots. `one router per container`: N containers, each with a router
 * (Host and PathPrefix), its service and a stripprefix middleware. `one container`: one container
 * with N such routers and middlewares sharing one service, and 19 containers without labels under
 * the prefix besides `traefik.enable`, as in the reported fault. `one long rule`: one router whose
 * rule is N Host alternatives, next to the same 19 containers.
 */
function buildContainers(shape, size) {
  const containers = [];
  const snapshot = (i, labels) => ({
    id: `${i.toString(16).padStart(12, '0')}`.padEnd(64, 'a'),
    name: `app${i}`,
    labels,
    state: 'running',
    paused: false,
    health: 'none',
    networkMode: 'bridge',
    networks: [{ name: 'bridge', ipAddress: `10.0.${(i >> 8) & 255}.${i & 255}` }],
    exposedPorts: [80],
  });

  if (shape === 'one router per container') {
    for (let i = 0; i < size; i++) {
      containers.push(snapshot(i, {
        'traefik.enable': 'true',
        [`traefik.http.routers.r${i}.rule`]: `Host(\`site${i}.example.com\`) && PathPrefix(\`/api\`)`,
        [`traefik.http.routers.r${i}.middlewares`]: `strip${i}`,
        [`traefik.http.middlewares.strip${i}.stripprefix.prefixes`]: '/api',
      }));
    }
    return containers;
  }

  if (shape === 'one long rule') {
    const rule = Array.from({ length: size }, (_, i) => `Host(\`host${i}.example.com\`)`).join(' || ');
    containers.push(snapshot(0, { 'traefik.enable': 'true', 'traefik.http.routers.long.rule': rule }));
    for (let i = 1; i <= OTHER_CONTAINERS; i++) containers.push(snapshot(i, { 'traefik.enable': 'true' }));
    return containers;
  }

  const labels = { 'traefik.enable': 'true', 'traefik.http.services.web.loadbalancer.server.port': '80' };
  for (let i = 0; i < size; i++) {
    labels[`traefik.http.routers.r${i}.rule`] = `Host(\`site${i}.example.com\`) && PathPrefix(\`/p${i}\`)`;
    labels[`traefik.http.routers.r${i}.service`] = 'web';
    labels[`traefik.http.routers.r${i}.middlewares`] = `strip${i}`;
    labels[`traefik.http.middlewares.strip${i}.stripprefix.prefixes`] = `/p${i}`;
  }
  containers.push(snapshot(0, labels));
  for (let i = 1; i <= OTHER_CONTAINERS; i++) containers.push(snapshot(i, { 'traefik.enable': 'true' }));
  return containers;
}

/** Measures one build of Berth for one shape and size, in this process, and prints JSON. */
async function measureOne(dist, shape, size, events) {
  const load = (path) => import(pathToFileURL(resolve(dist, path)).href);
  const { buildProviderConfig, buildProviderConfigSteps } = await load('providers/docker/build.js');
  const { ConfigurationStore } = await load('dynamic/store.js');
  const { silentLogger } = await load('observability/logger.js');
  const { HealthRegistry } = await load('balancer/health-registry.js');
  // Builds that split the work into steps drive the provider's builder as DockerProvider does.
  const steps = await load('dynamic/steps.js').catch(() => undefined);
  const buildConfig = steps === undefined
    ? async (snapshots) => buildProviderConfig(snapshots, options)
    : async (snapshots) => (await steps.runInSlices(buildProviderConfigSteps(snapshots, options), PROVIDER_SLICE_MS)).value;

  const containers = buildContainers(shape, size);
  // `decodedLabels` is the Docker provider's cache; builds without it ignore the option.
  const options = { labelPrefix: 'traefik', exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)', selfNetworks: [], allowEmptyServices: false, decodedLabels: new WeakMap() };
  const health = new HealthRegistry({ logger: silentLogger() });
  let applied;
  const store = new ConfigurationStore({ entryPoints: ['web', 'websecure'], logger: silentLogger(), health, onRuntime: (runtime) => applied?.(runtime) });
  /**
   * Applies the current snapshots as one Docker event would. Returns the wall time until the new
   * runtime is handed over and the CPU time of the process meanwhile. The stall is the longest gap
   * between two runs of a 1 ms timer: how long a request arriving at the worst moment would wait.
   */
  async function rebuild() {
    await new Promise((done) => setTimeout(done, 20));
    let stallMs = 0;
    let lastTick = performance.now();
    let ticking = true;
    const tick = () => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - lastTick);
      lastTick = now;
      if (ticking) setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
    await new Promise((done) => setTimeout(done, 5));

    const swapped = new Promise((done) => (applied = done));
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const config = await buildConfig(containers);
    JSON.stringify(config);
    if (typeof store.submit === 'function') store.submit('docker', config);
    else store.update('docker', config);
    await swapped;
    const totalMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    // One more tick records the gap that ends after the swap.
    await new Promise((done) => setTimeout(done, 5));
    ticking = false;
    return { totalMs, cpuMs: (cpu.user + cpu.system) / 1000, stallMs };
  }

  const first = await rebuild();
  const later = [];
  for (let n = 0; n < events; n++) {
    // A restart of an unrelated container: it is inspected again, so its snapshot is new.
    const last = containers.length - 1;
    const previous = containers[last];
    containers[last] = { ...previous, labels: { ...previous.labels }, networks: [{ name: 'bridge', ipAddress: `10.9.${n >> 8}.${n & 255}` }] };
    later.push(await rebuild());
  }
  await health.close();

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(JSON.stringify({
    firstMs: first.totalMs,
    firstCpuMs: first.cpuMs,
    firstStallMs: first.stallMs,
    eventMs: median(later.map((result) => result.totalMs)),
    eventCpuMs: median(later.map((result) => result.cpuMs)),
    eventStallMs: median(later.map((result) => result.stallMs)),
  }));
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--one') {
  const [dist, shape, size, events] = rest;
  await measureOne(dist, shape, Number(size), Number(events));
} else {
  const after = resolve(process.env.BERTH_BENCH_DIST ?? fileURLToPath(new URL('../dist', import.meta.url)));
  const builds = [['after', after]];
  if (process.env.BERTH_BEFORE_DIST) builds.push(['before', resolve(process.env.BERTH_BEFORE_DIST)]);
  const rounds = Number(process.env.ROUNDS ?? 1);
  const events = Number(process.env.EVENTS ?? 5);

  console.log('| shape | routers | build | round | first build: wall | CPU | stall | event: wall | CPU | stall |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const shape of SHAPES) {
    for (const size of shape === 'one long rule' ? [LONG_RULE_HOSTS] : SIZES) {
      for (let round = 1; round <= rounds; round++) {
        // The builds swap places each round, so neither always runs first.
        const order = round % 2 === 1 ? builds : [...builds].reverse();
        for (const [label, dist] of order) {
          // A fresh process per measurement, so one build's compiled code and heap do not affect the other.
          const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--one', dist, shape, String(size), String(events)], { encoding: 'utf8' });
          const result = JSON.parse(output.trim().split('\n').pop());
          const ms = (value) => `${value.toFixed(1)} ms`;
          console.log(`| ${shape} | ${size.toLocaleString('en-US')} | ${label} | ${round} | ${ms(result.firstMs)} | ${ms(result.firstCpuMs)} | ${ms(result.firstStallMs)} | ${ms(result.eventMs)} | ${ms(result.eventCpuMs)} | ${ms(result.eventStallMs)} |`);
        }
      }
    }
  }
}
