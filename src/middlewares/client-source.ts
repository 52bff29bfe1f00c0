// Client address and request source for ipAllowList, inFlightReq and rateLimit: Traefik v3's
// `ipStrategy` (pkg/ip/strategy.go) and `sourceCriterion` (pkg/middlewares/middleware.go).
// X-Forwarded-For is read as it arrived: the entry point has already removed it when the peer is
// not a trusted proxy, and Berth appends the peer address only later, when it forwards the request.
import { ipInRanges, parseIpRange, type IpRange } from '../rules/ip.js';
import { integerOption, option, stringList } from './options.js';
import type { RequestContext } from './types.js';
import { quoteOptionValue, quoteValue } from '../quote.js';

/** Picks the client address of a request, or returns an empty string when none can be chosen. */
export type IpStrategy = (context: RequestContext) => string;

/** Returns the key that groups a request with others from the same source. */
export type SourceExtractor = (context: RequestContext) => string;

/**
 * Builds the strategy of an `ipStrategy` option (`depth`, `excludedIPs`, `ipv6Subnet`). A depth
 * above 0 wins over `excludedIPs`, and `ipv6Subnet` has no effect with `excludedIPs`, as in Traefik.
 * Without options the strategy returns the peer address. Throws an Error naming `subject` and the bad option.
 */
export function ipStrategyFrom(raw: unknown, subject: string, warn: (message: string) => void = () => {}): IpStrategy {
  const options = objectOption(raw, `${subject} ipStrategy`, 'ipstrategy.depth=1');
  const depth = integerOption(options, `${subject} ipStrategy`, 'depth', { fallback: 0, min: 0, example: 1 });
  const excluded = stringList(options, 'excludedIPs').map((item) => parseRange(item, `${subject} ipStrategy excludedIPs entry`));
  const subnet = ipv6SubnetOption(options, subject);

  if (depth > 0) {
    return (context) => withSubnet(depthAddress(context, depth), subnet);
  }
  if (excluded.length > 0) {
    if (subnet !== undefined) warn(`${subject} ipStrategy ipv6Subnet has no effect together with excludedIPs, as in Traefik: use depth instead, or remove ipv6Subnet`);
    return (context) => firstNotExcluded(context, excluded);
  }
  return (context) => withSubnet(context.facts.clientIp, subnet);
}

/**
 * Builds the source of a `sourceCriterion` option: exactly one of `ipStrategy`, `requestHeaderName`
 * or `requestHost=true`. Without one, `fallback` is used: rateLimit groups by peer address and
 * inFlightReq by Host, as Traefik does.
 */
export function sourceExtractorFrom(raw: unknown, subject: string, fallback: 'ip' | 'host', warn: (message: string) => void = () => {}): SourceExtractor {
  const options = objectOption(raw, `${subject} sourceCriterion`, 'sourcecriterion.requesthost=true');
  const strategy = option(options, 'ipStrategy');
  const headerOption = option(options, 'requestHeaderName');
  const headerName = headerOption === undefined || headerOption === null ? '' : String(headerOption).trim().toLowerCase();
  const byHost = hostOption(options, subject);

  const chosen = [strategy !== undefined ? 'ipStrategy' : '', headerName !== '' ? 'requestHeaderName' : '', byHost ? 'requestHost' : ''].filter((name) => name !== '');
  if (chosen.length > 1) {
    throw new Error(`${subject} sourceCriterion sets ${chosen.join(' and ')}, which exclude each other: keep only one of them`);
  }

  if (strategy !== undefined) return ipStrategyFrom(strategy, `${subject} sourceCriterion`, warn);
  if (headerName !== '') return (context) => headerText(context, headerName);
  if (byHost || fallback === 'host') return requestHost;
  return ipStrategyFrom(undefined, subject);
}

function objectOption(raw: unknown, subject: string, example: string): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  throw new Error(`${subject} ${quoteOptionValue(raw)} is invalid: set its options as sub-keys, for example ${example}`);
}

function hostOption(options: Record<string, unknown>, subject: string): boolean {
  const value = option(options, 'requestHost');
  if (value === undefined || value === false || value === '') return false;
  if (value === true) return true;
  const text = String(value).trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`${subject} sourceCriterion requestHost ${quoteOptionValue(value)} is invalid: write true or false`);
}

function ipv6SubnetOption(options: Record<string, unknown>, subject: string): number | undefined {
  if (option(options, 'ipv6Subnet') === undefined) return undefined;
  const subnet = integerOption(options, `${subject} ipStrategy`, 'ipv6Subnet', { fallback: 0, min: 1, example: 64 });
  if (subnet > 128) {
    throw new Error(`${subject} ipStrategy ipv6Subnet ${subnet} is invalid: write a prefix length from 1 to 128, for example ipv6Subnet=64`);
  }
  return subnet;
}

/** Parses an address or CIDR range, and throws an Error naming `subject` and the value when it is neither. */
export function parseRange(text: string, subject: string): IpRange {
  const range = parseIpRange(text);
  if (range === undefined) {
    throw new Error(`${subject} ${quoteValue(text)} is not a valid IP address or CIDR range: write one such as 192.168.1.0/24, 10.0.0.7 or fd00::/8`);
  }
  return range;
}

/** Returns the entry `depth` places from the right of X-Forwarded-For, or '' when the list is shorter. */
function depthAddress(context: RequestContext, depth: number): string {
  const items = headerText(context, 'x-forwarded-for').split(',');
  if (items.length < depth) return '';
  return (items[items.length - depth] ?? '').trim();
}

/** Returns the right-most X-Forwarded-For entry outside `excluded`, or ''. */
function firstNotExcluded(context: RequestContext, excluded: readonly IpRange[]): string {
  const items = headerText(context, 'x-forwarded-for').split(',');
  for (let i = items.length - 1; i >= 0; i -= 1) {
    const item = (items[i] ?? '').trim();
    if (item !== '' && !ipInRanges(item, excluded)) return item;
  }
  return '';
}

/**
 * Replaces an IPv6 address by the first address of its `/subnet`, so a client that rotates through
 * its prefix counts as one source. IPv4 addresses and text that is not an address stay as they are.
 */
export function withSubnet(address: string, subnet: number | undefined): string {
  if (subnet === undefined || !address.includes(':')) return address;
  const range = parseIpRange(`${address.replace(/%.*$/, '')}/${subnet}`);
  if (range === undefined || range.family !== 6) return address;
  return formatIPv6(range.start);
}

/** Formats an IPv6 address as eight hex groups, with the longest run of zero groups written `::`. */
function formatIPv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Returns a request field as one string; repeated lines are joined with ", " as Node.js does. */
function headerText(context: RequestContext, name: string): string {
  const value = context.request.headers[name];
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Returns Host as the client sent it, port included, or `:authority` for HTTP/2. */
function requestHost(context: RequestContext): string {
  const headers = context.request.headers;
  const authority = headers[':authority'];
  if (typeof authority === 'string' && authority !== '') return authority;
  return headers.host ?? '';
}
