// Types shared by the rule parser, the compiler and the router table.
import type { IncomingHttpHeaders } from 'node:http';

/** What a rule can look at in one request. */
export interface RequestFacts {
  /** Host without port, lower case, trailing dot removed. */
  host: string;
  /** Request path exactly as received (not decoded), without the query. */
  path: string;
  /** Query string without the leading `?`, as received. */
  rawQuery: string;
  method: string;
  headers: IncomingHttpHeaders;
  /** TCP peer address; IPv4-mapped IPv6 addresses are given in IPv4 form. */
  clientIp: string;
}

export type Matcher = (request: RequestFacts) => boolean;
