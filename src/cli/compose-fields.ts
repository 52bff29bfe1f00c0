// Compose service fields that need parsing beyond YAML: port lists, and the command line of a
// Traefik or Berth service, whose entry points and Docker provider options decide how labels
// are read.

/** Highest TCP port number. */
const MAX_PORT = 65_535;

/**
 * Returns the container-side TCP ports of `expose` and `ports`, ascending and deduplicated, the
 * way Docker reports them for the started container. UDP and SCTP ports are left out.
 * Short syntax: `"80"`, `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `"[::1]:8080:80"`, `"9000-9002"`.
 * Long syntax: `{ target: 80, published: 8080, protocol: tcp }`.
 */
export function composePorts(expose: unknown, ports: unknown): number[] {
  const found = new Set<number>();
  for (const entry of [...asList(expose), ...asList(ports)]) {
    for (const port of containerPorts(entry)) found.add(port);
  }
  return [...found].sort((a, b) => a - b);
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function containerPorts(entry: unknown): number[] {
  if (typeof entry === 'number') return validPort(entry) ? [entry] : [];
  if (entry !== null && typeof entry === 'object') {
    const { target, protocol } = entry as { target?: unknown; protocol?: unknown };
    if (protocol !== undefined && String(protocol).toLowerCase() !== 'tcp') return [];
    return target === undefined ? [] : portRange(String(target));
  }
  if (typeof entry !== 'string') return [];

  let text = entry.trim();
  const slash = text.lastIndexOf('/');
  if (slash !== -1) {
    if (text.slice(slash + 1).toLowerCase() !== 'tcp') return [];
    text = text.slice(0, slash);
  }
  // The container port is always the last part; a bracketed IPv6 host address only comes before it.
  return portRange(text.slice(text.lastIndexOf(':') + 1));
}

/** Parses `80` or `9000-9002` into its ports; anything else gives none. */
function portRange(text: string): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (match === null) return [];
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (!validPort(first) || !validPort(last) || last < first) return [];
  return Array.from({ length: last - first + 1 }, (_, offset) => first + offset);
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= MAX_PORT;
}

/** Images whose command line is read for static options: Traefik's and Berth's, from any registry. */
const PROXY_IMAGE = /(^|\/)(traefik|berth)(:|@|$)/i;

/**
 * Static options that change how labels are read or which entry points exist. Other options of a
 * Traefik command line (ACME, logs, the Docker endpoint) do not change the result and are left out,
 * also because Berth may not know them all.
 */
const LABEL_OPTIONS: readonly RegExp[] = [
  /^--entrypoints\.[^.=]+\.address$/i,
  /^--providers\.docker\.(exposedbydefault|defaultrule|network|allowemptyservices)$/i,
];

/**
 * Returns the static options of a Traefik or Berth service's `command`, as `--name=value` flags,
 * or none for other images. `command` may be a list or one string, which is split at white space
 * outside quotes.
 */
export function proxyFlags(image: unknown, command: unknown): string[] {
  if (typeof image !== 'string' || !PROXY_IMAGE.test(image)) return [];
  let args: string[] = [];
  if (Array.isArray(command)) args = command.map(String);
  else if (typeof command === 'string') args = splitCommand(command);

  const flags: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const argument = args[index] ?? '';
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument : argument.slice(0, equals);
    if (!LABEL_OPTIONS.some((option) => option.test(name))) continue;

    if (equals !== -1) {
      flags.push(argument);
      continue;
    }
    const next = args[index + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.push(`${name}=${next}`);
      index++;
    } else {
      flags.push(`${name}=true`);
    }
  }
  return flags;
}

/** Splits a command string at white space, keeping quoted parts together, as compose does with shell quoting. */
export function splitCommand(command: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  let started = false;

  for (const char of command) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}
