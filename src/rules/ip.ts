// IP addresses and CIDR ranges for the ClientIP matcher, parsed as strictly as Go's net/netip,
// which Traefik uses: dotted-decimal IPv4 without leading zeros, RFC 4291 IPv6 text, and an
// IPv4-mapped IPv6 address compared as the IPv4 address it carries.

export type Family = 4 | 6;

interface Address {
  family: Family;
  value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  family: Family;
  start: bigint;
  end: bigint;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** Parses one address. A zone (`fe80::1%eth0`) is accepted and dropped only when `allowZone` is set. */
function parseAddress(text: string, allowZone: boolean): Address | undefined {
  if (text.includes(':')) {
    const zoneAt = text.indexOf('%');
    if (zoneAt !== -1 && (!allowZone || zoneAt === text.length - 1)) return undefined;
    const value = parseIPv6(zoneAt === -1 ? text : text.slice(0, zoneAt));
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIPv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

function parseIPv4(text: string): bigint | undefined {
  const fields = text.split('.');
  if (fields.length !== 4) return undefined;
  let value = 0n;
  for (const field of fields) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(field)) return undefined;
    const octet = Number(field);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;

  const head = parseGroups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '', true) : [];
  if (!head || !tail) return undefined;

  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;

  const groups = [...head, ...Array<number>(8 - count).fill(0), ...tail];
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/**
 * Parses colon-separated hex groups; the last group of the address may be an embedded IPv4
 * address, which counts as two groups.
 */
function parseGroups(text: string, mayEndWithIPv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (mayEndWithIPv4 && index === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Turns an IPv4-mapped IPv6 address into its IPv4 form, as netip's `Unmap` does. */
function unmap(address: Address): Address {
  if (address.family === 6 && address.value >> 32n === MAPPED_PREFIX >> 32n) {
    return { family: 4, value: address.value & 0xffffffffn };
  }
  return address;
}

/**
 * Parses a `ClientIP` value: a single address or a CIDR prefix. Host bits in a prefix are
 * allowed and masked, as with netip's `ParsePrefix` followed by `Masked`.
 */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.lastIndexOf('/');
  if (slash === -1) {
    const address = parseAddress(text, true);
    if (!address) return undefined;
    const { family, value } = unmap(address);
    return { family, start: value, end: value };
  }

  const address = parseAddress(text.slice(0, slash), false);
  const bitsText = text.slice(slash + 1);
  if (!address || !/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) return undefined;

  let family = address.family;
  let value = address.value;
  let bits = Number(bitsText);
  const width = family === 4 ? 32 : 128;
  if (bits > width) return undefined;

  // A mapped IPv6 prefix of at least 96 bits covers IPv4 addresses only, so it is kept as IPv4.
  if (family === 6 && bits >= 96 && value >> 32n === MAPPED_PREFIX >> 32n) {
    family = 4;
    value &= 0xffffffffn;
    bits -= 96;
  }

  const size = family === 4 ? 32n : 128n;
  const hostBits = size - BigInt(bits);
  const hostMask = (1n << hostBits) - 1n;
  const start = value & ~hostMask & ((1n << size) - 1n);
  return { family, start, end: start | hostMask };
}

let lastClientText: string | undefined;
let lastClientAddress: Address | undefined;

/** Parses the client address of a request. The last result is kept, because every ClientIP matcher of a request parses the same text. */
function clientAddress(text: string): Address | undefined {
  if (text !== lastClientText) {
    const parsed = parseAddress(text, true);
    lastClientAddress = parsed ? unmap(parsed) : undefined;
    lastClientText = text;
  }
  return lastClientAddress;
}

/** Returns true when `clientIp` lies in one of `ranges`; an address that does not parse matches nothing. */
export function ipInRanges(clientIp: string, ranges: readonly IpRange[]): boolean {
  const address = clientAddress(clientIp);
  if (!address) return false;
  for (const range of ranges) {
    if (range.family === address.family && address.value >= range.start && address.value <= range.end) return true;
  }
  return false;
}
