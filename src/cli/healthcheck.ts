// `berth healthcheck`: exits 0 when the running Berth responds to `/ping` on the entry point that
// `ping.entrypoint` names (the internal one by default), for the image's HEALTHCHECK. It reads the
// same flags, environment and file as `berth run`, and without them checks the internal entry
// point's default address. On an entry point with `http.tls`, where /ping is served only over TLS,
// the request goes over HTTPS.
import { request, type IncomingMessage } from 'node:http';
import { request as tlsRequest } from 'node:https';
import type { StaticConfig } from '../config/index.js';
import { parseListenAddress } from '../entrypoints/address.js';
import { processIO, type CommandIO } from './args.js';
import { getOwn } from '../dictionary.js';

const TIMEOUT_MS = 3_000;
const DEFAULT_INTERNAL_ADDRESS = ':8080';

export async function healthcheck(config: StaticConfig, io: Pick<CommandIO, 'stdout' | 'stderr'> = processIO()): Promise<number> {
  const entryPoint = getOwn(config.entryPoints, config.ping?.entryPoint ?? config.internalEntryPoint);
  const address = entryPoint?.address ?? DEFAULT_INTERNAL_ADDRESS;
  const tls = entryPoint?.http.tls !== undefined;

  const { host, port } = parseListenAddress(address);
  const target = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `${tls ? 'https' : 'http'}://${target.includes(':') ? `[${target}]` : target}:${port}/ping`;
  const options = { host: target, port, path: '/ping', timeout: TIMEOUT_MS };
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      io.stdout(`GET /ping: ${res.statusCode}\n`);
      if (res.statusCode === 200) {
        resolve(0);
        return;
      }
      const outcome = res.statusCode === 404 ? 'not-found' : 'unexpected';
      io.stderr(`healthcheck failed: GET ${url} returned ${res.statusCode}. ${pingHint(config, outcome)}\n`);
      resolve(1);
    };
    // The request goes to Berth's own address to test that it is alive, so the certificate, often the
    // self-signed default or one for other names, is not verified.
    const req = tls ? tlsRequest({ ...options, rejectUnauthorized: false }, onResponse) : request(options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no response within ${TIMEOUT_MS} ms`)));
    req.on('error', (error) => {
      io.stderr(`healthcheck failed: GET ${url}: ${error.message}. ${pingHint(config, 'unreachable')}\n`);
      resolve(1);
    });
    req.end();
  });
}

/**
 * Returns the next step after a failed check, with how to enable `/ping`. The HEALTHCHECK of an image runs without the flags of the container's
 * command, so it reads only the environment and the configuration file: a `--ping` flag given to
 * `berth run` does not reach it, but BERTH_PING=true does.
 */
function pingHint(config: StaticConfig, outcome: 'not-found' | 'unexpected' | 'unreachable'): string {
  const internal = config.internalEntryPoint;
  const addressOption = `--entrypoints.${internal}.address (BERTH_ENTRYPOINTS_${internal.toUpperCase()}_ADDRESS)`;
  const enable = 'start Berth with --ping, or set BERTH_PING=true in its environment';
  const disabledHere = config.ping === undefined ? ' Ping is not enabled in the configuration this command read either.' : '';

  if (outcome === 'not-found') {
    return `The internal entry point is up but /ping is not enabled: ${enable}.${disabledHere}`;
  }
  if (outcome === 'unexpected') {
    return `Check that ${addressOption} names the internal entry point of Berth, where /ping responds 200.`;
  }
  return (
    `The ping endpoint is disabled or not reachable: ${enable}. ` +
    `If the internal entry point listens on another address, give healthcheck the same ${addressOption}.${disabledHere}`
  );
}
