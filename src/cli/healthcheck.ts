// `berth healthcheck`: exits 0 when the running Berth responds to `/ping` on its internal entry point,
// for the image's HEALTHCHECK. It reads the same flags, environment and file as `berth run`, and
// without them checks the internal entry point's default address.
import { request } from 'node:http';
import type { StaticConfig } from '../config/index.js';
import { parseListenAddress } from '../entrypoints/address.js';

const TIMEOUT_MS = 3_000;
const DEFAULT_INTERNAL_ADDRESS = ':8080';

export async function healthcheck(config: StaticConfig): Promise<number> {
  const address = config.entryPoints[config.internalEntryPoint]?.address ?? DEFAULT_INTERNAL_ADDRESS;

  const { host, port } = parseListenAddress(address);
  const target = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return new Promise((resolve) => {
    const req = request({ host: target, port, path: '/ping', timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      process.stdout.write(`GET /ping: ${res.statusCode}\n`);
      resolve(res.statusCode === 200 ? 0 : 1);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${TIMEOUT_MS} ms`)));
    req.on('error', (error) => {
      process.stderr.write(`healthcheck failed: GET http://${target}:${port}/ping: ${error.message}\n`);
      resolve(1);
    });
    req.end();
  });
}
