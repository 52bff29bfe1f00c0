// Cloudflare credentials from the environment, under the variable names that lego (Traefik's ACME
// library) reads, so an existing Traefik setup works unchanged:
//
// - `CF_DNS_API_TOKEN` (DNS:Edit), with an optional `CF_ZONE_API_TOKEN` (Zone:Read) for zone lookups;
// - or `CF_API_EMAIL` with `CF_API_KEY` (the global API key).
//
// Each has a `CLOUDFLARE_*` alias (`CLOUDFLARE_DNS_API_TOKEN`, `CLOUDFLARE_ZONE_API_TOKEN`,
// `CLOUDFLARE_EMAIL`, `CLOUDFLARE_API_KEY`) and a `_FILE` variant that names a file holding the
// value, as Docker secrets provide it.

import { readFile } from 'node:fs/promises';

export type CloudflareCredentials =
  | { kind: 'token'; dnsToken: string; zoneToken: string | undefined; baseUrl: string | undefined }
  | { kind: 'key'; email: string; apiKey: string; baseUrl: string | undefined };

/** Names of one credential: the lego name first, then its alias. */
const VARIABLES = {
  dnsToken: ['CF_DNS_API_TOKEN', 'CLOUDFLARE_DNS_API_TOKEN'],
  zoneToken: ['CF_ZONE_API_TOKEN', 'CLOUDFLARE_ZONE_API_TOKEN'],
  email: ['CF_API_EMAIL', 'CLOUDFLARE_EMAIL'],
  apiKey: ['CF_API_KEY', 'CLOUDFLARE_API_KEY'],
  baseUrl: ['CF_API_BASE_URL', 'CLOUDFLARE_BASE_URL'],
} as const;

type Environment = Readonly<Record<string, string | undefined>>;

/** Reads the credentials, or throws an error that names the variables to set. */
export async function readCloudflareCredentials(env: Environment): Promise<CloudflareCredentials> {
  const dnsToken = await readVariable(env, VARIABLES.dnsToken);
  const zoneToken = await readVariable(env, VARIABLES.zoneToken);
  const email = await readVariable(env, VARIABLES.email);
  const apiKey = await readVariable(env, VARIABLES.apiKey);
  const baseUrl = await readVariable(env, VARIABLES.baseUrl);

  if (dnsToken !== undefined) return { kind: 'token', dnsToken, zoneToken, baseUrl };
  if (email !== undefined && apiKey !== undefined) return { kind: 'key', email, apiKey, baseUrl };

  if (zoneToken !== undefined) {
    throw new Error('CF_ZONE_API_TOKEN is set but CF_DNS_API_TOKEN is not: the DNS token creates the TXT records, so set it too');
  }
  if (email !== undefined || apiKey !== undefined) {
    const missing = email === undefined ? 'CF_API_EMAIL' : 'CF_API_KEY';
    throw new Error(`Cloudflare global API key authentication needs both CF_API_EMAIL and CF_API_KEY, and ${missing} is not set`);
  }
  throw new Error(
    'Cloudflare credentials are missing: set CF_DNS_API_TOKEN (a token with DNS:Edit, plus Zone:Read or a separate CF_ZONE_API_TOKEN), or CF_API_EMAIL and CF_API_KEY; each may also be given as NAME_FILE',
  );
}

/**
 * Returns the first of `names` that is set, directly or through `NAME_FILE`. Setting both forms of
 * one name is an error, because silently picking one hides a stale secret.
 */
async function readVariable(env: Environment, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const direct = nonEmpty(env[name]);
    const file = nonEmpty(env[`${name}_FILE`]);
    if (direct !== undefined && file !== undefined) {
      throw new Error(`Both ${name} and ${name}_FILE are set; keep only one of them`);
    }
    if (direct !== undefined) return cleanSecret(direct);
    if (file !== undefined) return readSecretFile(`${name}_FILE`, file);
  }
  return undefined;
}

async function readSecretFile(variable: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    throw new Error(`Cannot read ${path}, named by ${variable}: ${code}`, { cause: error });
  }
  const value = cleanSecret(text);
  if (value === '') throw new Error(`${path}, named by ${variable}, is empty`);
  return value;
}

/**
 * Trims whitespace and one pair of surrounding quotes, which secret files written by `echo` or by
 * copying from a YAML value commonly carry. A token never contains quotes or whitespace itself.
 */
export function cleanSecret(text: string): string {
  const trimmed = text.trim();
  const quoted = /^(["'])(.*)\1$/s.exec(trimmed);
  return (quoted?.[2] ?? trimmed).trim();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
