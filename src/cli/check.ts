// `berth check`: reads the labels of a compose file, or of the containers of the Docker endpoint,
// builds the routers, services and middlewares exactly as `berth run` would, and prints every
// error and warning without starting anything.
import { middlewareJson, routerJson, serviceJson, type MiddlewareJson, type RouterJson, type ServiceJson } from '../api/views.js';
import type { Runtime } from '../routing/runtime.js';
import { splitArgs, UsageError, type CommandIO } from './args.js';
import { composeRuntime, dockerContainers, dockerProviderOf, loadConfig, runtimeFromContainers } from './label-runtime.js';
import { truncateValue } from '../quote.js';

export const CHECK_USAGE = `Usage: berth check [--compose FILE] [options] [static options]

Reads container labels, builds routers, services and middlewares as berth run would, and prints
every error and warning. Without --compose it reads the containers of the Docker endpoint
(--providers.docker.endpoint, else DOCKER_HOST, else unix:///var/run/docker.sock).

Options:
  --compose FILE       read the labels of a compose file instead of running containers
  --project-name NAME  compose project name (default COMPOSE_PROJECT_NAME, the file's name:,
                       else its folder name)
  --profile NAME       enable a compose profile; repeat for several (default COMPOSE_PROFILES).
                       Services with profiles: that are not enabled are reported as inactive
  --json               print the result as JSON, in the shapes of the API

Static options (such as --providers.docker.exposedbydefault=false) are read as by berth run.
Exit status: 0 when no item has an error, 1 when one has, 2 when the command fails.
`;

const OPTIONS = { compose: 'value', 'project-name': 'value', profile: 'list', json: 'flag', help: 'flag' } as const;

/** The result of a check, in the API's shapes so scripts can read both alike. */
export interface CheckResult {
  source: string;
  routers: RouterJson[];
  services: ServiceJson[];
  middlewares: MiddlewareJson[];
  skippedContainers: Array<{ name: string; reason: string }>;
  notes: string[];
  errors: number;
  warnings: number;
}

/** Runs `berth check` with `argv` (without the command name) and returns the exit status. */
export async function checkCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = splitArgs(argv, OPTIONS);
  if (args.flags.has('help') || args.staticArgs.includes('-h')) {
    io.stdout(CHECK_USAGE);
    return 0;
  }
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${args.positionals[0]}": berth check takes options only (see berth check --help)`);
  }

  let runtime: Runtime;
  let source: string;
  let notes: string[] = [];
  const compose = args.values.get('compose');
  if (compose !== undefined) {
    const built = await composeRuntime(compose, { projectName: args.values.get('project-name'), profiles: args.lists.get('profile') }, args.staticArgs, io);
    runtime = built.runtime;
    notes = built.project.notes;
    const containers = built.project.containers.length;
    source = `${built.project.file} (project ${built.project.projectName}, ${containers} container${containers === 1 ? '' : 's'})`;
  } else {
    if (args.values.has('project-name')) throw new UsageError('--project-name needs --compose FILE');
    if (args.lists.has('profile')) throw new UsageError('--profile needs --compose FILE');
    const config = await loadConfig(args.staticArgs, io);
    const endpoint = dockerProviderOf(config).endpoint;
    let containers;
    try {
      containers = await dockerContainers(endpoint);
    } catch (error) {
      throw new UsageError(`cannot read containers from Docker at ${endpoint}: ${(error as Error).message}`);
    }
    runtime = runtimeFromContainers(containers, config);
    source = `Docker at ${endpoint} (${containers.length} containers)`;
  }

  const result = checkResult(runtime, source, notes);
  io.stdout(args.flags.has('json') ? `${JSON.stringify(result, null, 2)}\n` : formatCheckResult(result));
  return result.errors > 0 ? 1 : 0;
}

/** Collects every item of `runtime` with its diagnostics. */
export function checkResult(runtime: Runtime, source: string, notes: readonly string[]): CheckResult {
  const byName = <T extends { name: string }>(items: T[]): T[] => items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const routers = byName([...runtime.config.routers.values()].map((router) => routerJson(runtime, router)));
  const services = byName([...runtime.config.services.values()].map((service) => serviceJson(runtime, service)));
  const middlewares = byName([...runtime.config.middlewares.values()].map((middleware) => middlewareJson(runtime, middleware)));

  let errors = 0;
  let warnings = 0;
  for (const item of [...routers, ...services, ...middlewares]) {
    errors += item.error?.length ?? 0;
    warnings += item.warning?.length ?? 0;
  }
  return {
    source,
    routers,
    services,
    middlewares,
    skippedContainers: runtime.config.skipped.map(({ name, reason }) => ({ name, reason })),
    notes: [...notes],
    errors,
    warnings,
  };
}

/** Formats a check for a terminal: the problem items with their messages, then a summary. */
export function formatCheckResult(result: CheckResult): string {
  const lines: string[] = [`Checked ${result.source}: ${count(result.routers.length, 'router')}, ${count(result.services.length, 'service')}, ${count(result.middlewares.length, 'middleware')}.`];

  const kinds: Array<[string, Array<RouterJson | ServiceJson | MiddlewareJson>]> = [
    ['router', result.routers],
    ['service', result.services],
    ['middleware', result.middlewares],
  ];
  for (const [kind, items] of kinds) {
    for (const item of items) {
      if (item.status === 'enabled') continue;
      lines.push('', `${kind} ${truncateValue(item.name)}: ${item.status}`);
      for (const error of item.error ?? []) lines.push(...indented(`error: ${error}`));
      for (const warning of item.warning ?? []) lines.push(...indented(`warning: ${warning}`));
    }
  }

  if (result.skippedContainers.length > 0) {
    lines.push('', 'Containers not routed:');
    for (const container of result.skippedContainers) lines.push(`  ${container.name}: ${container.reason}`);
  }
  if (result.notes.length > 0) {
    lines.push('', 'Notes:');
    for (const note of result.notes) lines.push(`  - ${note}`);
  }

  lines.push('', `${count(result.errors, 'error')}, ${count(result.warnings, 'warning')}.`);
  return `${lines.join('\n')}\n`;
}

function count(value: number, noun: string): string {
  return `${value} ${noun}${value === 1 ? '' : 's'}`;
}

/** Indents a message under its item; a rule error's caret lines keep their alignment. */
function indented(text: string): string[] {
  return text.split('\n').map((line) => `  ${line}`);
}
