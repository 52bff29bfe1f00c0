// Which peers of an entry point may set X-Forwarded-* fields: Traefik's
// `forwardedHeaders.trustedIPs` and `forwardedHeaders.insecure`. The decision is made when the
// request arrives, before routing and middlewares, so neither a rule nor a middleware ever reads a
// value that an untrusted client made up.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

import { FORWARDED_HEADER_NAMES, peerAddress } from '../proxy/forwarded.js';

/**
 * Every other forwarding field an untrusted client could use to pose as a proxy: X-Forwarded-Prefix,
 * -Uri, -Method, -Tls-Client-Cert and the like, and the underscore spellings (`X_Forwarded_For`) that
 * some servers' CGI-style header mapping reads as the dashed ones.
 */
const CLIENT_FORWARDING_FIELD = /^x[-_]forwarded[-_]|^x[-_]real[-_]ip$|^x_forwarded_|^x[-_]scheme$/;

export interface ForwardedHeadersOptions {
  /** IP addresses and CIDR ranges, such as `10.0.0.0/8` or `fd00::/8`. */
  trustedIPs: readonly string[];
  /** Trust every peer. */
  insecure: boolean;
}

/** The peers of one entry point whose X-Forwarded-* fields are kept. */
export class ForwardedHeadersTrust {
  readonly #insecure: boolean;
  readonly #trusted = new BlockList();
  readonly #empty: boolean;

  /** Throws a RangeError naming the item when a range is invalid. Configuration loading checks them first. */
  constructor(options: ForwardedHeadersOptions) {
    this.#insecure = options.insecure;
    this.#empty = options.trustedIPs.length === 0;
    for (const item of options.trustedIPs) addRange(this.#trusted, item);
  }

  /** Returns whether the peer at `remoteAddress` is trusted. An unknown address is never trusted. */
  isTrusted(remoteAddress: string | undefined): boolean {
    if (this.#insecure) return true;
    const address = peerAddress(remoteAddress);
    if (this.#empty || address === undefined) return false;
    if (isIPv4(address)) return this.#trusted.check(address, 'ipv4');
    return isIPv6(address) && this.#trusted.check(address, 'ipv6');
  }

  /**
   * Removes X-Forwarded-*, X-Real-Ip and Forwarded from a request of an untrusted peer, in place.
   * The forwarder then fills them in from what Berth observed, and appends the peer to the
   * X-Forwarded-For that a trusted proxy sent.
   */
  apply(headers: Record<string, unknown>, remoteAddress: string | undefined): void {
    if (this.isTrusted(remoteAddress)) return;
    for (const name of Object.keys(headers)) {
      if (FORWARDED_HEADER_NAMES.has(name) || CLIENT_FORWARDING_FIELD.test(name)) delete headers[name];
    }
  }
}

function addRange(list: BlockList, item: string): void {
  const slash = item.indexOf('/');
  const address = slash === -1 ? item : item.slice(0, slash);
  const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (type === undefined) throw new RangeError(`trusted IP "${item}" is not an IP address or CIDR range`);
  if (slash === -1) {
    list.addAddress(address, type);
    return;
  }
  const prefix = Number(item.slice(slash + 1));
  list.addSubnet(address, prefix, type);
}
