// `berth explain URL`: which router, middlewares and server a request would reach, and why the
// other routers did not take it. It requests the report from the API of a running Berth, or with
// `--compose FILE` evaluates the labels of a compose file without Docker.
import { explain, InvalidExplainRequestError, type ExplainReport, type ExplainRequest } from '../routing/explain.js';
import { parseHeaders } from '../api/explain.js';
import { splitArgs, UsageError, type CommandArgs, type CommandIO } from './args.js';
import { forwardedHeadersByEntryPoint } from '../entrypoints/from-config.js';
import { pingEntryPoint } from '../entrypoints/ping.js';
import { formatExplainReport } from './explain-format.js';
import { composeRuntime, loadConfig } from './label-runtime.js';
import { getOwn } from '../dictionary.js';

export const EXPLAIN_USAGE = `Usage: berth explain URL [options] [static options]

Shows which router, middlewares and server a request for URL would reach, every router tried
in order with each matcher's result, and for a request no router takes, the near misses.

Options:
  --method M           request method, case-sensitive as on the wire (default GET)
  --header 'K: V'      request header; repeat the option for several headers
  --entrypoint NAME    entry point the request arrives on (default web, or the only one)
  --client-ip IP       client address for ClientIP rules and for the entry point's
                       forwardedHeaders.trustedIPs: the X-Forwarded-* and X-Real-Ip headers
                       of a client outside them are removed (default: this machine's address
                       as the API sees it, or 127.0.0.1 with --compose)
  --api URL            API of the running Berth (default http://127.0.0.1:PORT, with PORT of the
                       berth entry point, 8080 unless configured); needs --api.insecure there
  --compose FILE       evaluate the labels of a compose file offline instead of asking Berth
  --project-name NAME  compose project name (default COMPOSE_PROJECT_NAME, the file's name:,
                       else its folder name)
  --profile NAME       enable a compose profile; repeat for several (default COMPOSE_PROFILES).
                       Services with profiles: that are not enabled are reported as inactive
  --json               print the report as JSON

Static options (such as --providers.docker.exposedbydefault=false) are read as by berth run.
Write them as --name=value when the URL follows them.
Exit status: 0 when a router and a server take the request, 1 when Berth or a middleware would
respond itself (400, 404, 503, a redirect, 401 without credentials), 2 when the command fails.
`;

const OPTIONS = {
  method: 'value',
  header: 'list',
  entrypoint: 'value',
  'client-ip': 'value',
  api: 'value',
  compose: 'value',
  'project-name': 'value',
  profile: 'list',
  json: 'flag',
  help: 'flag',
} as const;

/** Port of the berth entry point when the static configuration does not define it, as in `berth run`. */
const DEFAULT_API_PORT = 8080;

/** Time allowed for the API to respond, in milliseconds. */
const API_TIMEOUT_MS = 5_000;

/** Runs `berth explain` with `argv` (without the command name) and returns the exit status. */
export async function explainCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = splitArgs(argv, OPTIONS);
  if (args.flags.has('help') || args.staticArgs.includes('-h')) {
    io.stdout(EXPLAIN_USAGE);
    return 0;
  }

  const [url, ...extra] = args.positionals;
  if (url === undefined) throw new UsageError('the URL is missing: berth explain http://HOST/PATH (see berth explain --help)');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}": give one URL, and write static options as --name=value`);

  const request = requestOf(url, args);
  const compose = args.values.get('compose');
  let report: ExplainReport;
  let notes: string[] = [];
  if (compose !== undefined) {
    if (args.values.has('api')) throw new UsageError('--api and --compose exclude each other: explain against a running Berth or a compose file');
    const built = await composeRuntime(compose, { projectName: args.values.get('project-name'), profiles: args.lists.get('profile') }, args.staticArgs, io);
    notes = built.project.notes;
    try {
      const ping = pingEntryPoint(built.config);
      report = explain(built.runtime, request, { forwardedHeaders: forwardedHeadersByEntryPoint(built.config.entryPoints), ...(ping === undefined ? {} : { ping }) });
    } catch (error) {
      if (error instanceof InvalidExplainRequestError) throw new UsageError(error.message);
      throw error;
    }
  } else {
    report = await explainViaApi(await apiBase(args, io), request);
  }

  io.stdout(args.flags.has('json') ? `${JSON.stringify(notes.length > 0 ? { ...report, notes } : report, null, 2)}\n` : formatExplainReport(report, notes));
  return report.outcome === 'routed' ? 0 : 1;
}

function requestOf(url: string, args: CommandArgs): ExplainRequest {
  let headers: Record<string, string[]>;
  try {
    headers = parseHeaders(args.lists.get('header') ?? []);
  } catch (error) {
    if (error instanceof InvalidExplainRequestError) throw new UsageError(error.message);
    throw error;
  }
  const request: ExplainRequest = { url, headers };
  const method = args.values.get('method');
  if (method !== undefined) request.method = method;
  const entryPoint = args.values.get('entrypoint');
  if (entryPoint !== undefined) request.entryPoint = entryPoint;
  const clientIp = args.values.get('client-ip');
  if (clientIp !== undefined) request.clientIp = clientIp;
  return request;
}

/** Returns `--api`, else the address of the berth entry point from the static configuration. */
async function apiBase(args: CommandArgs, io: CommandIO): Promise<string> {
  const apiOption = args.values.get('api');
  if (apiOption !== undefined) return apiOption.replace(/\/+$/, '');

  const config = await loadConfig(args.staticArgs, io);
  const internal = getOwn(config.entryPoints, config.internalEntryPoint);
  const host = internal?.host ?? '';
  // A listener on every interface is reached on the loopback address.
  const target = host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${target}:${internal?.port ?? DEFAULT_API_PORT}`;
}

async function explainViaApi(base: string, request: ExplainRequest): Promise<ExplainReport> {
  const query = new URLSearchParams({ url: request.url });
  if (request.method !== undefined) query.set('method', request.method);
  if (request.entryPoint !== undefined) query.set('entrypoint', request.entryPoint);
  if (request.clientIp !== undefined) query.set('clientip', request.clientIp);
  for (const [name, values] of Object.entries(request.headers ?? {})) {
    for (const value of typeof values === 'string' ? [values] : values) query.append('header', `${name}: ${value}`);
  }

  const endpoint = `${base}/api/explain?${query.toString()}`;
  let response: Response;
  try {
    response = await fetch(endpoint, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UsageError(`cannot reach Berth's API at ${base} (${reason}): start Berth with --api.insecure, pass --api URL, or use --compose FILE`);
  }

  const text = await response.text();
  if (response.status === 400) throw new UsageError(messageOf(text));
  if (response.status === 404) throw new UsageError(`${base} does not serve /api/explain: start Berth with --api.insecure, or check the --api address`);
  if (response.status !== 200) throw new UsageError(`GET ${endpoint} returned ${response.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text) as ExplainReport;
  } catch (error) {
    throw new UsageError(`GET ${endpoint} returned invalid JSON: ${(error as Error).message}`);
  }
}

function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON; the body itself is shown.
  }
  return body.slice(0, 300);
}
