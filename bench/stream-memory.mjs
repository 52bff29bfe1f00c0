// How much a 1 GiB body raises the RSS of Berth's request path (bench/proxy-berth.mjs), for each
// set of Node.js options in VARIANTS, taking turns ROUNDS times in one run. Each round starts a
// new Berth process, warms it up, then sends 1 GiB down, 1 GiB down again and 1 GiB up, and reports
// the peak RSS of each transfer above the RSS after the warm-up, and the CPU time of the three.
//
//   npm run build
//   node bench/stream-memory.mjs
//   VARIANTS='|--concurrent-array-buffer-sweeping' ROUNDS=4 WARMUP=small node bench/stream-memory.mjs
//
// VARIANTS: `|`-separated lists of options. An empty list runs with the flags and the malloc setting
// that `berth run` sets, and an option given here overrides the flag of the same name. An item
// `NAME=value` sets an environment variable of the Berth process instead (`MALLOC_ARENA_MAX=` turns
// the malloc setting off). WARMUP: `bulk` (16 MiB each way) or `small` (200 requests of 4 KiB each
// way). COLLECT=1 runs a full collection in Berth before its baseline, as the 1 GiB test does. All
// traffic stays on 127.0.0.1.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const variants = (process.env.VARIANTS ?? '').split('|').map((item) => item.split(' ').filter((option) => option !== ''));
const rounds = Number(process.env.ROUNDS ?? '2');
const warmup = process.env.WARMUP ?? 'bulk';
const collect = process.env.COLLECT === '1';
const chunk = Buffer.alloc(256 * 1024, 'x');

/** Serves `?size=N` bytes on GET and counts the bytes of a POST body. */
const server = http.createServer((request, response) => {
  if (request.method === 'POST') {
    let length = 0;
    request.on('data', (data) => (length += data.length));
    request.on('end', () => response.end(String(length)));
    return;
  }
  const size = Number(new URL(request.url ?? '/', 'http://localhost').searchParams.get('size'));
  response.writeHead(200, { 'content-length': size });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
      sent += part.length;
      if (!response.write(part)) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');

async function download(port, size) {
  const request = http.get({ host: '127.0.0.1', port, path: `/bulk?size=${size}`, headers: { host: 'bench' }, agent: false });
  const [response] = await once(request, 'response');
  let length = 0;
  for await (const part of response) length += part.length;
  return length;
}

async function upload(port, size) {
  const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/bulk', headers: { host: 'bench', 'content-length': size }, agent: false });
  const responded = once(request, 'response');
  for (let sent = 0; sent < size; sent += chunk.length) {
    if (!request.write(chunk.subarray(0, Math.min(chunk.length, size - sent)))) await once(request, 'drain');
  }
  request.end();
  const [response] = await responded;
  for await (const _part of response);
}

/** Resident set size of a process in bytes, from /proc. */
function rssOf(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((item) => item.startsWith('VmRSS:')) ?? '';
  return Number.parseInt(line.replace(/\D+/g, ''), 10) * 1024;
}

/** CPU time of a process in seconds (user and system), from /proc. */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `transfer` and returns the highest RSS of `pid` seen every 50 ms meanwhile. */
async function peakDuring(pid, transfer) {
  let done = false;
  const finished = transfer().finally(() => (done = true));
  let peak = rssOf(pid);
  while (!done) {
    await sleep(50);
    peak = Math.max(peak, rssOf(pid));
  }
  await finished;
  return peak;
}

async function measure(options, port) {
  // A `NAME=value` item sets an environment variable of the child, such as MALLOC_ARENA_MAX.
  const settings = Object.fromEntries(options.filter((item) => !item.startsWith('-')).map((item) => item.split('=')));
  const nodeOptions = [...(collect ? ['--expose-gc'] : []), ...options.filter((item) => item.startsWith('-'))];
  const child = spawn(process.execPath, [...nodeOptions, new URL('./proxy-berth.mjs', import.meta.url).pathname], {
    env: { ...process.env, ...settings, BERTH_BENCH_PORT: String(port), BERTH_BENCH_SERVER: `http://127.0.0.1:${server.address().port}` },
    stdio: 'inherit',
  });
  await sleep(1000);
  if (warmup === 'small') {
    for (let index = 0; index < 200; index++) {
      await download(port, 4096);
      await upload(port, 4096);
    }
  } else {
    await download(port, 16 * MiB);
    await upload(port, 16 * MiB);
  }
  if (collect) child.kill('SIGUSR2');
  await sleep(500);
  const baseline = rssOf(child.pid);
  const cpuBefore = cpuOf(child.pid);
  const growth = [];
  for (const transfer of [() => download(port, GiB), () => download(port, GiB), () => upload(port, GiB)]) {
    growth.push(((await peakDuring(child.pid, transfer)) - baseline) / MiB);
  }
  const cpu = cpuOf(child.pid) - cpuBefore;
  child.kill('SIGTERM');
  await once(child, 'exit');
  return { baseline: baseline / MiB, growth, cpu };
}

console.log(`Node.js ${process.version}, warm-up ${warmup}: RSS growth in MiB (1 GiB down, again, 1 GiB up)`);
let port = 18_300;
for (let round = 0; round < rounds; round++) {
  for (const options of variants) {
    const { baseline, growth, cpu } = await measure(options, port++);
    const label = options.length === 0 ? 'berth run flags' : options.join(' ');
    console.log(`${label.padEnd(40)} baseline ${baseline.toFixed(1)}  growth ${growth.map((value) => value.toFixed(1)).join(' / ')}  cpu ${cpu.toFixed(2)} s`);
  }
}
server.close();
