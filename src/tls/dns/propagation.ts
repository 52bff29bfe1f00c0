// The propagation check of the DNS-01 challenge: before Berth requests validation from the CA (RFC 8555
// section 7.5.1), it queries DNS servers until every TXT value it created is visible at each of
// them, because a CA that looks too early marks the authorization invalid for good.
//
// The servers are the configured resolvers when there are any, else the zone's authoritative
// name servers. Authoritative servers answer for the zone directly, so no recursive resolver's
// cache can hide a new record from the check.

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import type { DnsZone } from './provider.js';

export interface ExpectedTxt {
  /** Fully qualified name without the trailing dot. */
  name: string;
  value: string;
}

export interface PropagationOptions {
  /** `HOST:PORT` servers to query; empty means the zone's authoritative name servers. */
  resolvers: readonly string[];
  /** Wait before the first check, in milliseconds. */
  delayBeforeChecksMs: number;
  /** Skip the checks, after the delay. */
  disableChecks: boolean;
  /** Pause between two rounds of queries, in milliseconds. */
  pollIntervalMs?: number;
  /** Time after which the check fails, in milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_POLL_INTERVAL_MS = 2_000;
export const DEFAULT_PROPAGATION_TIMEOUT_MS = 120_000;

/** Time limit of one DNS query, in milliseconds. */
const QUERY_TIMEOUT_MS = 2_000;

/** Thrown when a record is still missing at the timeout; the message names the server and the record. */
export class PropagationTimeoutError extends Error {
  readonly code = 'BERTH_DNS_PROPAGATION_TIMEOUT';

  constructor(message: string) {
    super(message);
    this.name = 'PropagationTimeoutError';
  }
}

/** Waits until every record in `expected` is visible at every server that `options` selects for `zone`. */
export async function waitForPropagation(expected: readonly ExpectedTxt[], zone: DnsZone, options: PropagationOptions): Promise<void> {
  if (options.delayBeforeChecksMs > 0) await sleep(options.delayBeforeChecksMs, undefined, { signal: options.signal });
  if (options.disableChecks || expected.length === 0) return;

  const timeoutMs = options.timeoutMs ?? DEFAULT_PROPAGATION_TIMEOUT_MS;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const deadline = performance.now() + timeoutMs;
  const servers = options.resolvers.length > 0 ? [...options.resolvers] : await authoritativeServers(zone);

  for (;;) {
    options.signal?.throwIfAborted();
    const missing = await findMissing(expected, servers);
    if (missing === undefined) return;

    if (performance.now() + pollIntervalMs > deadline) {
      const seen = missing.seen.length === 0 ? 'no TXT value' : missing.seen.map((value) => JSON.stringify(value)).join(', ');
      throw new PropagationTimeoutError(
        `TXT record ${missing.record.name} with value ${JSON.stringify(missing.record.value)} is not visible at name server ${missing.server} after ${Math.round(timeoutMs / 1000)} s (it returns ${seen}${missing.error === undefined ? '' : `, last error ${missing.error}`})`,
      );
    }
    await sleep(pollIntervalMs, undefined, { signal: options.signal });
  }
}

interface Missing {
  server: string;
  record: ExpectedTxt;
  seen: string[];
  error: string | undefined;
}

/** Returns the first record missing at some server, or `undefined` when all are visible everywhere. */
async function findMissing(expected: readonly ExpectedTxt[], servers: readonly string[]): Promise<Missing | undefined> {
  const names = [...new Set(expected.map((record) => record.name))];
  for (const server of servers) {
    for (const name of names) {
      const { values, error } = await queryTxt(server, name);
      const record = expected.find((item) => item.name === name && !values.includes(item.value));
      if (record !== undefined) return { server, record, seen: values, error };
    }
  }
  return undefined;
}

async function queryTxt(server: string, name: string): Promise<{ values: string[]; error: string | undefined }> {
  const resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });
  resolver.setServers([server]);
  try {
    // A TXT record may be split into several strings of up to 255 bytes; the value is their concatenation.
    const records = await resolver.resolveTxt(name);
    return { values: records.map((chunks) => chunks.join('')), error: undefined };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    // No record yet is the normal response while a record propagates.
    if (code === 'ENODATA' || code === 'ENOTFOUND') return { values: [], error: undefined };
    return { values: [], error: code };
  } finally {
    resolver.cancel();
  }
}

/**
 * Returns `IP:53` of each authoritative name server of `zone`: the ones the provider reported, else
 * those of its NS records, resolved through the system's resolver.
 */
async function authoritativeServers(zone: DnsZone): Promise<string[]> {
  const system = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 2 });
  let names = zone.nameServers;
  if (names.length === 0) {
    try {
      names = await system.resolveNs(zone.name);
    } catch (error) {
      throw new Error(`Cannot find the name servers of ${zone.name} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): set dnschallenge.resolvers`, { cause: error });
    }
  }

  const servers: string[] = [];
  for (const name of names) {
    if (isIP(name) !== 0) {
      servers.push(isIP(name) === 6 ? `[${name}]:53` : `${name}:53`);
      continue;
    }
    try {
      for (const address of await system.resolve4(name)) servers.push(`${address}:53`);
    } catch {
      // A name server without an IPv4 address is skipped; the others still prove propagation.
    }
  }
  if (servers.length === 0) throw new Error(`No address found for the name servers of ${zone.name} (${names.join(', ')}): set dnschallenge.resolvers`);
  return servers;
}
