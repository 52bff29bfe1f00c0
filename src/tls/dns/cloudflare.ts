// Cloudflare as the DNS provider of the DNS-01 challenge, through Cloudflare's official SDK and
// its v4 API. Berth adds TXT records and deletes only the records it created, by their IDs, so a
// record that someone else put at `_acme-challenge.<name>` is never touched.

import Cloudflare, { APIError } from 'cloudflare';

import type { CloudflareCredentials } from './cloudflare-credentials.js';
import type { DnsProvider, DnsZone, TxtRecord } from './provider.js';

/** TTL of challenge records, in seconds: Cloudflare's minimum, so a retried challenge is not cached for long. */
const CHALLENGE_TTL = 120;

/** Time limit of one API request, in milliseconds; the SDK retries a timed-out request twice. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Thrown when a credential works but lacks a permission; the message names the permission. */
export class CloudflarePermissionError extends Error {
  readonly code = 'BERTH_CLOUDFLARE_PERMISSION';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CloudflarePermissionError';
  }
}

export class CloudflareProvider implements DnsProvider {
  readonly name = 'cloudflare';
  readonly #credentials: CloudflareCredentials;
  /** Client for DNS records: the DNS token, or the global key. */
  readonly #records: Cloudflare;
  /** Client for zone lookups: the zone token when one is set, else the same as `#records`. */
  readonly #zones: Cloudflare;
  readonly #zoneCache = new Map<string, DnsZone>();

  constructor(credentials: CloudflareCredentials) {
    this.#credentials = credentials;
    if (credentials.kind === 'token') {
      this.#records = createClient(credentials.baseUrl, { apiToken: credentials.dnsToken });
      this.#zones = credentials.zoneToken === undefined ? this.#records : createClient(credentials.baseUrl, { apiToken: credentials.zoneToken });
    } else {
      this.#records = createClient(credentials.baseUrl, { apiEmail: credentials.email, apiKey: credentials.apiKey });
      this.#zones = this.#records;
    }
  }

  /**
   * Verifies each token (active, not expired) and that zones can be read. DNS:Edit cannot be
   * checked without writing a record, so a token that lacks it fails at the first record, with
   * an error naming DNS:Edit.
   */
  async check(): Promise<void> {
    if (this.#credentials.kind === 'token') {
      await verifyToken(this.#records, 'CF_DNS_API_TOKEN');
      if (this.#zones !== this.#records) await verifyToken(this.#zones, 'CF_ZONE_API_TOKEN');
    }
    try {
      await this.#zones.zones.list({ per_page: 5 });
    } catch (error) {
      throw this.#zoneError(error, 'GET /zones');
    }
  }

  /** Walks up the labels of `name` (`a.b.example.com`, `b.example.com`, `example.com`) until Cloudflare returns the zone. */
  async findZone(name: string): Promise<DnsZone> {
    const labels = name.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '').split('.');
    const tried: string[] = [];
    // A zone has at least two labels, since Cloudflare hosts no top-level domains.
    for (let index = 0; index <= labels.length - 2; index += 1) {
      const candidate = labels.slice(index).join('.');
      const cached = this.#zoneCache.get(candidate);
      if (cached !== undefined) return cached;

      tried.push(candidate);
      let found: Cloudflare.Zones.Zone | undefined;
      try {
        const page = await this.#zones.zones.list({ name: candidate });
        found = page.getPaginatedItems().find((zone) => zone.name.toLowerCase() === candidate);
      } catch (error) {
        throw this.#zoneError(error, `GET /zones?name=${candidate}`);
      }
      if (found === undefined) continue;

      const zone: DnsZone = { id: found.id, name: found.name.toLowerCase(), nameServers: found.name_servers ?? [] };
      this.#zoneCache.set(candidate, zone);
      return zone;
    }
    throw new Error(`No Cloudflare zone contains ${name}: looked up ${tried.join(', ')}; add the zone to the Cloudflare account of the token`);
  }

  async createTxt(zone: DnsZone, name: string, value: string): Promise<TxtRecord> {
    try {
      const record = await this.#records.dns.records.create({ zone_id: zone.id, type: 'TXT', name, content: value, ttl: CHALLENGE_TTL });
      return { provider: this.name, zoneId: zone.id, recordId: record.id, name };
    } catch (error) {
      throw this.#recordError(error, `POST /zones/${zone.id}/dns_records`, zone, 'create');
    }
  }

  async deleteTxt(record: TxtRecord): Promise<void> {
    try {
      await this.#records.dns.records.delete(record.recordId, { zone_id: record.zoneId });
    } catch (error) {
      // Gone already: removed by hand, or by an earlier attempt whose response was lost.
      if (error instanceof APIError && error.status === 404) return;
      throw this.#recordError(error, `DELETE /zones/${record.zoneId}/dns_records/${record.recordId}`, undefined, 'delete');
    }
  }

  #zoneError(error: unknown, request: string): Error {
    if (error instanceof APIError && (error.status === 403 || error.status === 401)) {
      const who =
        this.#credentials.kind === 'key'
          ? 'the Cloudflare account of CF_API_EMAIL and CF_API_KEY'
          : this.#zones === this.#records
            ? 'the token in CF_DNS_API_TOKEN'
            : 'the token in CF_ZONE_API_TOKEN';
      const fix =
        this.#credentials.kind === 'key'
          ? 'check the email and the global API key'
          : 'give the token the Zone:Read permission, or set CF_ZONE_API_TOKEN to a token that has it';
      return new CloudflarePermissionError(
        `Cloudflare rejected ${request} with status ${error.status}${describeErrors(error)}: ${who} lacks Zone:Read; ${fix}`,
        { cause: error },
      );
    }
    return new Error(`Cloudflare ${request} failed: ${describeFailure(error)}`, { cause: error });
  }

  #recordError(error: unknown, request: string, zone: DnsZone | undefined, action: 'create' | 'delete'): Error {
    if (error instanceof APIError && (error.status === 403 || error.status === 401)) {
      const who = this.#credentials.kind === 'key' ? 'the account of CF_API_EMAIL and CF_API_KEY' : 'the token in CF_DNS_API_TOKEN';
      const where = zone === undefined ? '' : ` for zone ${zone.name}`;
      return new CloudflarePermissionError(
        `Cloudflare rejected ${request} with status ${error.status}${describeErrors(error)}: ${who} lacks DNS:Edit${where}, which is needed to ${action} TXT records`,
        { cause: error },
      );
    }
    return new Error(`Cloudflare ${request} failed: ${describeFailure(error)}`, { cause: error });
  }
}

function createClient(baseUrl: string | undefined, auth: { apiToken?: string; apiEmail?: string; apiKey?: string }): Cloudflare {
  // Every credential is passed explicitly, because the SDK otherwise falls back to
  // CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL and would send those too.
  return new Cloudflare({
    apiToken: auth.apiToken ?? null,
    apiEmail: auth.apiEmail ?? null,
    apiKey: auth.apiKey ?? null,
    userServiceKey: null,
    ...(baseUrl === undefined ? {} : { baseURL: baseUrl }),
    timeout: REQUEST_TIMEOUT_MS,
    maxRetries: 2,
    logLevel: 'off',
  });
}

async function verifyToken(client: Cloudflare, variable: string): Promise<void> {
  let status: string;
  try {
    status = (await client.user.tokens.verify()).status;
  } catch (error) {
    if (error instanceof APIError && (error.status === 401 || error.status === 403 || error.status === 400)) {
      throw new CloudflarePermissionError(
        `Cloudflare rejected the token in ${variable} (GET /user/tokens/verify returned ${error.status}${describeErrors(error)}): check that the token is copied whole and still exists`,
        { cause: error },
      );
    }
    throw new Error(`Cloudflare GET /user/tokens/verify failed: ${describeFailure(error)}`, { cause: error });
  }
  if (status !== 'active') throw new CloudflarePermissionError(`The token in ${variable} is ${status}; create a new token or enable it`);
}

function describeErrors(error: APIError): string {
  const messages = (error.errors ?? []).map((item) => `${item.code ?? ''} ${item.message ?? ''}`.trim()).filter((text) => text !== '');
  return messages.length === 0 ? '' : ` (${messages.join('; ')})`;
}

function describeFailure(error: unknown): string {
  if (error instanceof APIError && error.status !== undefined) return `status ${error.status}${describeErrors(error)}`;
  return error instanceof Error ? error.message : String(error);
}
