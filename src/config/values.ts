// Value types of static options. Each one turns a raw value (a flag or environment string, or a
// YAML scalar) into its typed form, or rejects it with a reason that states what is allowed. The
// caller adds which option and which value, so reasons never repeat them.

import { isIPv4, isIPv6 } from 'node:net';

import * as z from 'zod';

import type { AcmeKeyType, EntryPointAddress, LogFormat, LogLevel } from './types.js';
import { INTERNAL_ENTRY_POINT, INTERNAL_ENTRY_POINT_ALIAS } from './types.js';
import { getOwn } from '../dictionary.js';

/** A value before parsing: a string from a flag or variable, or any YAML scalar (`null` when empty). */
export type RawValue = string | number | boolean | null;

/** Spelling of a value type on the command line and in help. */
export interface ValueKind {
  /** Placeholder in help text, such as `ADDRESS` or `true|false`. */
  placeholder: string;
  /** Whether a flag of this type given alone (`--api.insecure`) means `true`. */
  isBoolean: boolean;
  /** Whether the value is a comma-separated list, which a YAML file may also write as a sequence. */
  isList?: boolean;
}

/** Value kinds by schema, read by the option tree to parse flags and write help. */
export const valueKinds = z.registry<ValueKind>();

/** A rejection returned by a value parser, with a reason that states what is allowed. */
export class Rejected {
  constructor(readonly reason: string) {}
}

const rawValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

// Every option gets its own schema instance from a factory below, because help text is registered
// per instance and two options must not share one.

/** Builds the schema of one value type from a parser of its trimmed text. */
function defineValue<T>(kind: ValueKind, parse: (text: string, raw: RawValue) => T | Rejected): z.ZodType<T, RawValue> {
  const schema = rawValue.transform((raw, context) => {
    const text = raw === null ? '' : String(raw).trim();
    const result = parse(text, raw);
    if (result instanceof Rejected) {
      context.issues.push({ code: 'custom', message: result.reason, input: raw });
      return z.NEVER;
    }
    return result;
  });
  valueKinds.add(schema, kind);
  return schema;
}

export function booleanValue(): z.ZodType<boolean, RawValue> {
  return defineValue({ placeholder: 'true|false', isBoolean: true }, parseBoolean);
}

/** A string that must not be empty. */
export function textValue(): z.ZodType<string, RawValue> {
  return defineValue({ placeholder: 'TEXT', isBoolean: false }, (text) =>
    text === '' ? new Rejected('the value is empty') : text,
  );
}

/** Returns a string type where an empty value means "not set", as `--providers.docker.network=` does in Traefik. */
export function optionalTextValue(): z.ZodType<string | undefined, RawValue> {
  return defineValue({ placeholder: 'TEXT', isBoolean: false }, (text) => (text === '' ? undefined : text));
}

export function addressValue(): z.ZodType<EntryPointAddress, RawValue> {
  return defineValue({ placeholder: 'ADDRESS', isBoolean: false }, parseAddress);
}

export function endpointValue(): z.ZodType<string, RawValue> {
  return defineValue({ placeholder: 'URL', isBoolean: false }, parseEndpoint);
}

export function logLevelValue(): z.ZodType<LogLevel, RawValue> {
  return defineValue({ placeholder: 'LEVEL', isBoolean: false }, parseLogLevel);
}

export function logFormatValue(): z.ZodType<LogFormat, RawValue> {
  return defineValue({ placeholder: 'FORMAT', isBoolean: false }, parseLogFormat);
}

/** The name of an entry point, in lower case, with `traefik` read as `berth`. */
export function entryPointNameValue(): z.ZodType<string, RawValue> {
  return defineValue({ placeholder: 'NAME', isBoolean: false }, (text) =>
    normalizeName(text, { [INTERNAL_ENTRY_POINT_ALIAS]: INTERNAL_ENTRY_POINT }),
  );
}

export function labelPrefixValue(): z.ZodType<string, RawValue> {
  return defineValue({ placeholder: 'PREFIX', isBoolean: false }, parseLabelPrefix);
}

/** Key algorithm of ACME certificates, in Traefik's names. */
export function keyTypeValue(): z.ZodType<AcmeKeyType, RawValue> {
  return defineValue({ placeholder: 'KEYTYPE', isBoolean: false }, parseKeyType);
}

/** Returns the type of an absolute http:// or https:// URL, such as an ACME directory. */
export function urlValue(): z.ZodType<string, RawValue> {
  return defineValue({ placeholder: 'URL', isBoolean: false }, parseHttpUrl);
}

/**
 * Returns the type of a whole number from 1 to `max`, such as a duration in hours. The default
 * maximum is Number.MAX_SAFE_INTEGER, above which a JavaScript number loses integer precision.
 */
export function positiveIntegerValue(max: number = Number.MAX_SAFE_INTEGER): z.ZodType<number, RawValue> {
  return defineValue({ placeholder: 'NUMBER', isBoolean: false }, (text) => parsePositiveInteger(text, max));
}

/** Returns the type of a whole number from 0 to `max`, where 0 usually means no limit. */
export function countValue(max: number = Number.MAX_SAFE_INTEGER): z.ZodType<number, RawValue> {
  return defineValue({ placeholder: 'NUMBER', isBoolean: false }, (text) => parseCount(text, max));
}

/** Returns the type of a duration in Go's syntax (`90s`, `1m30s`) or a number of seconds, parsed to milliseconds. */
export function durationValue(): z.ZodType<number, RawValue> {
  return defineValue({ placeholder: 'DURATION', isBoolean: false }, parseDuration);
}

/** Returns the type of a comma-separated list of `HOST:PORT` DNS servers, where the port defaults to 53. */
export function dnsServersValue(): z.ZodType<string[], RawValue> {
  return defineValue({ placeholder: 'HOST:PORT,...', isBoolean: false, isList: true }, parseDnsServers);
}

/** Returns the type of a comma-separated list of IP addresses and CIDR ranges, such as `10.0.0.0/8,192.168.1.7,fd00::/8`. */
export function ipRangesValue(): z.ZodType<string[], RawValue> {
  return defineValue({ placeholder: 'CIDR,...', isBoolean: false, isList: true }, parseIpRanges);
}

/** A comma-separated list of names, such as the alternative names of a certificate; empty items are dropped. */
export function textListValue(): z.ZodType<string[], RawValue> {
  return defineValue({ placeholder: 'NAME,...', isBoolean: false, isList: true }, (text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
}

/** Parses what Go's strconv.ParseBool accepts (`true`, `1`, `t`, `false`, `0`, `f`, in any case), as Traefik does. YAML booleans pass as they are. */
export function parseBoolean(text: string, raw: RawValue): boolean | Rejected {
  if (typeof raw === 'boolean') return raw;
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === 't') return true;
  if (lower === 'false' || lower === '0' || lower === 'f') return false;
  return new Rejected('allowed values are true and false (or 1 and 0)');
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

// Traefik levels that Berth does not have, mapped to the level to use instead.
const TRAEFIK_ONLY_LEVELS: Record<string, LogLevel> = { trace: 'debug', warning: 'warn', fatal: 'error', panic: 'error' };

function parseLogLevel(text: string): LogLevel | Rejected {
  const lower = text.toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === lower);
  if (level !== undefined) return level;

  const instead = getOwn(TRAEFIK_ONLY_LEVELS, lower);
  const hint = instead === undefined ? '' : `; use ${instead} in place of ${lower}`;
  return new Rejected(`allowed values are debug, info, warn and error, in any case${hint}`);
}

function parseLogFormat(text: string): LogFormat | Rejected {
  const lower = text.toLowerCase();
  if (lower === 'json' || lower === 'pretty') return lower;

  const hint = lower === 'common' ? `; Traefik's "common" format is not supported, so use pretty` : '';
  return new Rejected(`allowed values are json and pretty${hint}`);
}

// Docker label keys are dotted, and Berth compares them in lower case like Traefik does.
const LABEL_PREFIX = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$/;

function parseLabelPrefix(text: string): string | Rejected {
  const lower = text.toLowerCase();
  if (LABEL_PREFIX.test(lower)) return lower;
  return new Rejected('a label prefix is one or more dot-separated words of letters, digits, "-" and "_", such as traefik or berth');
}

// Names of entry points (and of future named items such as certificate resolvers) travel in
// comma-separated label values and in dotted flags, so they cannot contain commas or dots.
const NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Lower-cases a name and applies `aliases`, or rejects a name that is not letters, digits, `-` and `_`. */
export function normalizeName(text: string, aliases: Readonly<Record<string, string>> = {}): string | Rejected {
  const lower = text.toLowerCase();
  if (!NAME.test(lower)) {
    return new Rejected('a name starts with a letter or digit and contains only letters, digits, "-" and "_"');
  }
  return getOwn(aliases, lower) ?? lower;
}

const KEY_TYPES: readonly AcmeKeyType[] = ['EC256', 'EC384', 'RSA2048', 'RSA4096'];

function parseKeyType(text: string): AcmeKeyType | Rejected {
  const upper = text.toUpperCase();
  const keyType = KEY_TYPES.find((candidate) => candidate === upper);
  if (keyType !== undefined) return keyType;

  const hint = upper === 'RSA8192' ? '; RSA8192 is not supported, because keys of that size slow every TLS handshake' : '';
  return new Rejected(`allowed values are ${KEY_TYPES.join(', ')}${hint}`);
}

function parseHttpUrl(text: string): string | Rejected {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return new Rejected('it is not a valid URL; write an absolute https:// URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return new Rejected('the URL must start with https:// or http://');
  return text;
}

function parsePositiveInteger(text: string, max: number): number | Rejected {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) return new Rejected(`the value must be a whole number from 1 to ${max}`);
  if (Number(text) > max) return new Rejected(`the value is above the maximum; write a whole number from 1 to ${max}`);
  return Number(text);
}

function parseCount(text: string, max: number): number | Rejected {
  if (!/^[0-9]+$/.test(text) || Number(text) > max) return new Rejected(`the value must be a whole number from 0 to ${max}`);
  return Number(text);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses Go's duration syntax without its sub-millisecond units; Traefik reads a bare number as seconds. */
function parseDuration(text: string): number | Rejected {
  if (/^[0-9]+$/.test(text)) return Number(text) * 1_000;
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(text)) {
    return new Rejected('write a number of seconds or a duration such as 30s, 2m or 1m30s');
  }
  let total = 0;
  for (const match of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 0);
  }
  return Math.round(total);
}

function parseDnsServers(text: string): string[] | Rejected {
  const servers: string[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const server = parseDnsServer(item);
    if (server instanceof Rejected) return server;
    servers.push(server);
  }
  if (servers.length === 0) return new Rejected('the list is empty; write HOST:PORT pairs separated by commas, such as 1.1.1.1:53');
  return servers;
}

/** Normalizes one DNS server to `HOST:PORT` (`[IPv6]:PORT`), adding port 53 when none is written. */
function parseDnsServer(item: string): string | Rejected {
  if (isIPv4(item)) return `${item}:53`;
  if (isIPv6(item)) return `[${item}]:53`;
  const bracketed = /^\[(.+)\]$/.exec(item)?.[1];
  if (bracketed !== undefined && isIPv6(bracketed)) return `[${bracketed}]:53`;
  const parsed = parseAddress(item);
  if (parsed instanceof Rejected || parsed.host === '') {
    return new Rejected(`"${item}" is not a DNS server address; write HOST:PORT, such as 1.1.1.1:53 or [2606:4700:4700::1111]:53`);
  }
  return isIPv6(parsed.host) ? `[${parsed.host}]:${parsed.port}` : `${parsed.host}:${parsed.port}`;
}

/** Checks each address or range of a list, and returns them trimmed, with empty items dropped. */
export function parseIpRanges(text: string): string[] | Rejected {
  const ranges: string[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const slash = item.indexOf('/');
    const address = slash === -1 ? item : item.slice(0, slash);
    const bits = slash === -1 ? undefined : item.slice(slash + 1);
    const maxBits = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
    if (maxBits === 0) return new Rejected(`"${item}" is not an IP address or CIDR range; write 10.0.0.0/8, 192.168.1.7 or fd00::/8`);
    if (bits !== undefined && !(/^[0-9]{1,3}$/.test(bits) && Number(bits) <= maxBits)) {
      return new Rejected(`"${item}" has an invalid prefix length; use a number from 0 to ${maxBits} after the "/"`);
    }
    ranges.push(item);
  }
  return ranges;
}

const DNS_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
const DOTTED_NUMBERS = /^[0-9.]+$/;

/** Parses `[HOST]:PORT` with an optional `/tcp` suffix, the form of Traefik's entry point addresses. */
export function parseAddress(text: string): EntryPointAddress | Rejected {
  if (text === '') return new Rejected('the address is empty; write ":PORT" to listen on all interfaces, as in ":80"');

  const slash = text.lastIndexOf('/');
  const protocol = slash === -1 ? 'tcp' : text.slice(slash + 1).toLowerCase();
  if (protocol === 'udp') return new Rejected('UDP entry points are not supported, because Berth serves HTTP over TCP');
  if (protocol !== 'tcp') return new Rejected(`unknown protocol "${protocol}"; only "/tcp" may follow the port`);
  const address = slash === -1 ? text : text.slice(0, slash);

  if (/^[0-9]+$/.test(address)) {
    return new Rejected(`the address has no host part; write ":${address}" to listen on port ${address} on all interfaces`);
  }

  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(address);
    if (match === null) return new Rejected('an IPv6 address is written in brackets followed by ":PORT", as in "[::1]:80"');
    host = match[1] ?? '';
    if (!isIPv6(host)) return new Rejected(`"${host}" is not an IPv6 address`);
    if (match[2] === undefined) return new Rejected(`the address has no port; write "[${host}]:PORT", as in "[${host}]:80"`);
    portText = match[2];
  } else {
    const colon = address.lastIndexOf(':');
    if (colon === -1) return new Rejected(`the address has no port; write "${address}:PORT", or ":PORT" for all interfaces`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) return new Rejected('write an IPv6 address in brackets, as in "[::1]:80"');
    if (host !== '' && !isIPv4(host) && (DOTTED_NUMBERS.test(host) || !DNS_NAME.test(host))) {
      return new Rejected(`"${host}" is neither an IP address nor a host name`);
    }
  }

  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    return new Rejected(`the port must be a number from 1 to 65535, as in ":80" or "127.0.0.1:8080"`);
  }
  return { address, host, port };
}

const ENDPOINT_FORMS = 'allowed forms are unix:///PATH, tcp://HOST:PORT, http://HOST[:PORT] and https://HOST[:PORT]';

/** Checks a Docker endpoint. Docker's `ssh://` and `npipe://` transports are not supported. */
export function parseEndpoint(text: string): string | Rejected {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();

  if (scheme === 'unix') {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/') || path.length === 1) {
      return new Rejected('the socket path must be absolute, as in unix:///var/run/docker.sock');
    }
    return `unix://${path}`;
  }

  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return new Rejected(`it is not a valid URL; ${ENDPOINT_FORMS}`);
    }
    if (url.hostname === '') return new Rejected(`it names no host; ${ENDPOINT_FORMS}`);
    if (scheme === 'tcp' && url.port === '') return new Rejected('a tcp:// endpoint needs a port, as in tcp://HOST:2375');
    return text;
  }

  return new Rejected(ENDPOINT_FORMS);
}
