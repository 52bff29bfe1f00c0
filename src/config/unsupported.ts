// Traefik v3 static options that Berth does not implement yet. A Traefik `command:` block that
// uses one of them stops Berth at start with a message that states this and names what to use
// instead, rather than the "did you mean" of a misspelled option.
//
// They fail rather than warn. Some change security (`proxyProtocol` trusts the client address
// that a load balancer sends, `http.middlewares` puts every router behind authentication), and
// ignoring those would expose what the user meant to protect. The others (access log, metrics,
// tracing) would silently leave out something that the user asked for, which a warning in the
// log at start hides as well as no message at all.

import { ConfigError } from './errors.js';

/** A Traefik option, or a section of them, that Berth recognizes but does not implement. */
interface UnsupportedOption {
  /** Lower-case key segments, with `*` for an item name such as an entry point's. */
  path: readonly string[];
  /** Replacement or next step, in one or two sentences, shown with its first letter capitalized. */
  advice: string;
}

const NO_REPLACEMENT = 'remove the option; Berth has no replacement yet.';
const STDOUT_ONLY = "Berth logs to stdout only; remove the option and collect the output with Docker's logging driver.";

/** Options by the first key that Berth does not know, so a section matches every option under it. */
const UNSUPPORTED: readonly UnsupportedOption[] = [
  { path: ['accesslog'], advice: 'Berth writes no access log yet; remove the option. As a stopgap, --log.level=debug logs the router, service and server of each forwarded request.' },
  { path: ['metrics'], advice: 'Berth has no metrics endpoint yet; remove the option. With --api.insecure, /api/overview counts routers, services and middlewares by status, and /api/http/services shows each server as UP or DOWN.' },
  { path: ['tracing'], advice: NO_REPLACEMENT },
  { path: ['hostresolver'], advice: 'remove the option; Berth resolves server names with the operating system resolver.' },
  { path: ['experimental'], advice: NO_REPLACEMENT },
  { path: ['spiffe'], advice: NO_REPLACEMENT },
  { path: ['ocsp'], advice: NO_REPLACEMENT },
  { path: ['core'], advice: 'Berth reads rules in v3 syntax; to keep a v2 rule, set the ruleSyntax=v2 label on its router instead.' },
  { path: ['tcpserverstransport'], advice: 'Berth routes HTTP only, so remove the option.' },
  { path: ['log', 'filepath'], advice: STDOUT_ONLY },
  { path: ['log', 'maxsize'], advice: STDOUT_ONLY },
  { path: ['log', 'maxage'], advice: STDOUT_ONLY },
  { path: ['log', 'maxbackups'], advice: STDOUT_ONLY },
  { path: ['log', 'compress'], advice: STDOUT_ONLY },
  { path: ['log', 'nocolor'], advice: '--log.format=json writes uncoloured lines.' },
  { path: ['api', 'debug'], advice: NO_REPLACEMENT },
  { path: ['api', 'basepath'], advice: 'Berth serves the API under /api/ only; remove the option.' },
  { path: ['api', 'disabledashboardad'], advice: 'the dashboard of Berth shows no advertisement, so remove the option.' },
  { path: ['ping', 'manualrouting'], advice: NO_REPLACEMENT },
  { path: ['ping', 'terminatingstatuscode'], advice: NO_REPLACEMENT },
  { path: ['serverstransport', 'insecureskipverify'], advice: 'Berth always verifies the certificates of HTTPS servers; remove the option, and to trust a private CA, name its PEM file in the NODE_EXTRA_CA_CERTS environment variable.' },
  { path: ['serverstransport', 'rootcas'], advice: 'Berth verifies HTTPS servers against the CA list of Node.js; remove the option, and name the PEM file of the extra CA in the NODE_EXTRA_CA_CERTS environment variable instead.' },
  { path: ['serverstransport', 'maxidleconnsperhost'], advice: NO_REPLACEMENT },
  { path: ['serverstransport', 'spiffe'], advice: NO_REPLACEMENT },
  { path: ['entrypoints', '*', 'proxyprotocol'], advice: 'remove the option and send plain HTTP to Berth; to take the client address from a trusted load balancer, set --entrypoints.<name>.forwardedheaders.trustedips to its address.' },
  { path: ['entrypoints', '*', 'http', 'middlewares'], advice: 'attach the middlewares to each router instead, with the traefik.http.routers.<router>.middlewares label.' },
  { path: ['entrypoints', '*', 'http', 'encodequerysemicolons'], advice: NO_REPLACEMENT },
  { path: ['entrypoints', '*', 'http', 'sanitizepath'], advice: NO_REPLACEMENT },
  { path: ['entrypoints', '*', 'http3'], advice: 'Berth serves HTTP/1.1 and HTTP/2 only; remove the option.' },
  { path: ['entrypoints', '*', 'udp'], advice: 'Berth routes HTTP only, so remove the option.' },
  { path: ['entrypoints', '*', 'asdefault'], advice: 'list the entry points of each router with the traefik.http.routers.<router>.entrypoints label instead.' },
  { path: ['entrypoints', '*', 'allowacmebypass'], advice: NO_REPLACEMENT },
  { path: ['entrypoints', '*', 'reuseport'], advice: NO_REPLACEMENT },
  { path: ['entrypoints', '*', 'observability'], advice: 'Berth has no access log, metrics or tracing yet, so remove the option.' },
  { path: ['providers', 'providersthrottleduration'], advice: 'Berth applies the Docker events of each 25 ms window together, which is not configurable; remove the option.' },
  { path: ['providers', 'docker', 'tls'], advice: 'Berth cannot present a client certificate to Docker; mount the Docker socket (unix:///var/run/docker.sock), or put a socket proxy on a private network in front of the daemon.' },
  { path: ['providers', 'docker', 'constraints'], advice: 'set --providers.docker.exposedbydefault=false and add the traefik.enable=true label to each container that Berth should route.' },
  { path: ['providers', 'docker', 'usebindportip'], advice: NO_REPLACEMENT },
  { path: ['providers', 'docker', 'watch'], advice: 'Berth always follows Docker events; remove the option.' },
  { path: ['providers', 'docker', 'httpclienttimeout'], advice: NO_REPLACEMENT },
  { path: ['providers', 'docker', 'username'], advice: NO_REPLACEMENT },
  { path: ['providers', 'docker', 'password'], advice: NO_REPLACEMENT },
  { path: ['providers', 'file', 'debugloggeneratedtemplate'], advice: 'Berth reads files without Go templates; remove the option.' },
  ...['swarm', 'kubernetesingress', 'kubernetescrd', 'kubernetesgateway', 'consul', 'consulcatalog', 'etcd', 'redis', 'zookeeper', 'http', 'ecs', 'nomad', 'rest', 'plugin'].map(
    (provider): UnsupportedOption => ({ path: ['providers', provider], advice: 'Berth has the docker and file providers only; use one of them.' }),
  ),
];

/** Returns the catalog entry that `segments` (a key as written, in any case) falls under. */
export function findUnsupportedOption(segments: readonly string[]): UnsupportedOption | undefined {
  const written = segments.map((segment) => segment.toLowerCase());
  return UNSUPPORTED.find((option) => startsWithPattern(written, 0, option.path, 0));
}

/**
 * Checks whether `written` from `at` starts with `pattern` from `index`. A `*` takes one or more
 * segments, because an environment variable such as `ENTRYPOINTS_MY_WEB_PROXYPROTOCOL` spells
 * the item name `my_web` as two segments.
 */
function startsWithPattern(written: readonly string[], at: number, pattern: readonly string[], index: number): boolean {
  if (index === pattern.length) return true;
  if (at === written.length) return false;

  const segment = pattern[index];
  if (segment !== '*') return segment === written[at] && startsWithPattern(written, at + 1, pattern, index + 1);
  for (let end = at + 1; end <= written.length; end += 1) {
    if (startsWithPattern(written, end, pattern, index + 1)) return true;
  }
  return false;
}

/**
 * Returns the message for a key that names a Traefik option Berth does not implement, or
 * `undefined` for any other key. `label` is the key as the user wrote it (`--accesslog`,
 * `TRAEFIK_ACCESSLOG`, `accessLog`).
 */
export function unsupportedOptionMessage(segments: readonly string[], label: string): string | undefined {
  const unsupported = findUnsupportedOption(segments);
  if (unsupported === undefined) return undefined;
  const advice = unsupported.advice.charAt(0).toUpperCase() + unsupported.advice.slice(1);
  return `${label} is a Traefik option that Berth does not support yet. ${advice}`;
}

/** Throws a `ConfigError` when `segments` names a Traefik option that Berth does not implement. */
export function rejectUnsupportedOption(segments: readonly string[], label: string, value?: string): void {
  const message = unsupportedOptionMessage(segments, label);
  if (message === undefined) return;
  throw new ConfigError(message, value === undefined ? { option: label } : { option: label, value });
}
