// Starts Debian's `pebble` (a test ACME CA) and `pebble-challtestsrv` (its mock DNS server) on
// free 127.0.0.1 ports, so ACME tests run without the internet. challtestsrv resolves every A
// query to 127.0.0.1 and serves the TXT records that tests (or the Cloudflare fake) set
// through its management API; pebble resolves names through it.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './containers.js';
import { httpRequest } from './http.js';
import { waitFor } from './wait.js';

export interface PebbleOptions {
  /** Port pebble connects to for HTTP-01 validation: the port Berth's web entry point listens on. */
  httpPort?: number;
  /** Port pebble connects to for TLS-ALPN-01 validation. */
  tlsPort?: number;
  /** Percentage of nonces pebble rejects as `badNonce` (its own default is 5); 0 unless given. */
  rejectNonces?: number;
  /** Lifetime of issued certificates, in seconds; pebble's default is five years. */
  certificateValidityPeriodS?: number;
  /** External account binding keys by key ID (base64url HMAC keys); makes EAB required. */
  eabKeys?: Record<string, string>;
  /** Number of alternate root chains pebble offers besides the default one. */
  alternateRoots?: number;
}

export interface PebbleServer {
  directoryUrl: string;
  /** PEM of the CA that signed pebble's own listener certificate, for clients to trust. */
  listenerCaPem: string;
  /** Path of `listenerCaPem`, for `NODE_EXTRA_CA_CERTS`. */
  listenerCaPath: string;
  /** `127.0.0.1:PORT` of challtestsrv's DNS server, for `dnschallenge.resolvers`. */
  dnsServer: string;
  /** `http://127.0.0.1:PORT` of challtestsrv's management API. */
  challtestsrvUrl: string;
  /** Fetches the PEM of pebble's root number `index`, which changes at every start. */
  root(index?: number): Promise<string>;
  setTxt(host: string, value: string): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
}

interface ListenerCertificate {
  directory: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

let listenerCertificate: ListenerCertificate | undefined;

/** Creates, once per test process, a CA and a certificate for 127.0.0.1 and localhost signed by it. */
function ensureListenerCertificate(): ListenerCertificate {
  if (listenerCertificate !== undefined) return listenerCertificate;
  const directory = mkdtempSync(join(tmpdir(), 'berth-pebble-'));
  const path = (name: string): string => join(directory, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };

  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.pem'),
    '-days', '2', '-subj', '/CN=Berth test listener CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('key.pem'), '-out', path('leaf.csr'), '-subj', '/CN=localhost');
  writeFileSync(path('leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', path('leaf.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path('cert.pem'),
    '-days', '2', '-extfile', path('leaf.ext'));

  listenerCertificate = { directory, caPath: path('ca.pem'), certPath: path('cert.pem'), keyPath: path('key.pem') };
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  return listenerCertificate;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function startProcess(command: string, args: string[], env: Record<string, string>, output: { text: string }): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.text += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.text += chunk));
  return child;
}

/** Starts challtestsrv and pebble and waits until both serve. */
export async function startPebble(options: PebbleOptions = {}): Promise<PebbleServer> {
  const certificate = ensureListenerCertificate();
  const listenerCaPem = readFileSync(certificate.caPath, 'utf8');
  const [dnsPort, managementPort, pebblePort, pebbleManagementPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const output = { text: '' };

  // Only the DNS server and the management API listen; the challenge listeners are turned off.
  const challtestsrv = startProcess(
    'pebble-challtestsrv',
    ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${managementPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    {},
    output,
  );
  const challtestsrvUrl = `http://127.0.0.1:${managementPort}`;

  const configPath = join(mkdtempSync(join(tmpdir(), 'berth-pebble-config-')), 'pebble.json');
  const eab = options.eabKeys ?? {};
  writeFileSync(
    configPath,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${pebblePort}`,
        managementListenAddress: `127.0.0.1:${pebbleManagementPort}`,
        certificate: certificate.certPath,
        privateKey: certificate.keyPath,
        httpPort: options.httpPort ?? (await freePort()),
        tlsPort: options.tlsPort ?? (await freePort()),
        ocspResponderURL: '',
        externalAccountBindingRequired: Object.keys(eab).length > 0,
        externalAccountMACKeys: eab,
        ...(options.certificateValidityPeriodS === undefined ? {} : { certificateValidityPeriod: options.certificateValidityPeriodS }),
      },
    }),
  );

  const pebble = startProcess('pebble', ['-config', configPath, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: '1',
    // Valid authorizations are reused at random by default, which would skip the challenges tests look at.
    PEBBLE_AUTHZREUSE: '0',
    PEBBLE_WFE_NONCEREJECT: String(options.rejectNonces ?? 0),
    ...(options.alternateRoots === undefined ? {} : { PEBBLE_ALTERNATE_ROOTS: String(options.alternateRoots) }),
  }, output);

  const directoryUrl = `https://127.0.0.1:${pebblePort}/dir`;
  const stop = async (): Promise<void> => {
    for (const child of [pebble, challtestsrv]) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(join(configPath, '..'), { recursive: true, force: true });
  };

  try {
    await waitFor(async () => (await httpRequest(`${challtestsrvUrl}/`, { timeoutMs: 1_000 })).status > 0, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: 'challtestsrv listening',
    });
    await waitFor(async () => (await httpsGet(directoryUrl, listenerCaPem)).status === 200, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: 'pebble serving its directory',
    });
  } catch (error) {
    await stop();
    throw new Error(`pebble did not start: ${(error as Error).message}\n${output.text.slice(-3000)}`, { cause: error });
  }

  const management = async (path: string, body: unknown): Promise<void> => {
    const response = await httpRequest(`${challtestsrvUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (response.status !== 200) throw new Error(`challtestsrv ${path} returned ${response.status}: ${response.body}`);
  };

  return {
    directoryUrl,
    listenerCaPem,
    listenerCaPath: certificate.caPath,
    dnsServer: `127.0.0.1:${dnsPort}`,
    challtestsrvUrl,
    async root(index = 0) {
      const response = await httpsGet(`https://127.0.0.1:${pebbleManagementPort}/roots/${index}`, listenerCaPem);
      if (response.status !== 200) throw new Error(`pebble /roots/${index} returned ${response.status}`);
      return response.body;
    },
    setTxt: (host, value) => management('/set-txt', { host: host.endsWith('.') ? host : `${host}.`, value }),
    stop,
    logs: () => output.text,
  };
}

/** Sends a GET over HTTPS trusting only `caPem`. */
export function httpsGet(url: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { ca: caPem, agent: false, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
    request.end();
  });
}
