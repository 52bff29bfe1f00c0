// The contract between the DNS-01 challenge and a DNS provider's API, and the factory that picks
// a provider by the name in `dnschallenge.provider`.

import { CloudflareProvider } from './cloudflare.js';
import { readCloudflareCredentials } from './cloudflare-credentials.js';

/** A TXT record that the provider created, identified the way the provider deletes it. */
export interface TxtRecord {
  /** Provider name, such as `cloudflare`. */
  provider: string;
  zoneId: string;
  recordId: string;
  /** Fully qualified name without the trailing dot, such as `_acme-challenge.example.com`. */
  name: string;
}

/** A DNS zone hosted at the provider. */
export interface DnsZone {
  id: string;
  /** Apex name without the trailing dot, such as `example.com`. */
  name: string;
  /** The zone's authoritative name servers, when the provider reports them. */
  nameServers: string[];
}

export interface DnsProvider {
  readonly name: string;
  /** Checks the credentials and the permissions they grant, and rejects with an error naming what is missing. */
  check(): Promise<void>;
  /** Finds the zone that contains `name`. */
  findZone(name: string): Promise<DnsZone>;
  /** Adds a TXT record next to any that exist at `name`, never replacing one. */
  createTxt(zone: DnsZone, name: string, value: string): Promise<TxtRecord>;
  /** Deletes a record by its ID; a record that is already gone counts as deleted. */
  deleteTxt(record: TxtRecord): Promise<void>;
}

export interface DnsProviderOptions {
  /** Environment variables to read credentials from, usually `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
}

/** Creates the provider named `name`, reading its credentials now so a missing one fails at start. */
export async function createDnsProvider(name: string, options: DnsProviderOptions): Promise<DnsProvider> {
  switch (name) {
    case 'cloudflare':
      return new CloudflareProvider(await readCloudflareCredentials(options.env));
    default:
      throw new Error(`DNS provider "${name}" is not supported; the supported provider is cloudflare`);
  }
}
