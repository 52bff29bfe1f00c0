// The `ipAllowList` middleware (Traefik v3's pkg/middlewares/ipallowlist): lets a request through
// only when its client address, chosen by `ipStrategy`, lies in one of the `sourceRange` entries.
// Any other request gets `rejectStatusCode` (403 by default) with the status text as its body.
import { STATUS_CODES } from 'node:http';

import { ipInRanges, type IpRange } from '../rules/ip.js';
import { ipStrategyFrom, parseRange, type IpStrategy } from './client-source.js';
import { integerOption, option, stringList } from './options.js';
import { sendStatus } from './status-response.js';
import { withPreview, type Middleware, type Next, type RequestContext } from './types.js';

export interface IpAllowListSettings {
  ranges: readonly IpRange[];
  strategy: IpStrategy;
  rejectStatusCode: number;
}

export function createIpAllowList(options: Record<string, unknown>, warn: (message: string) => void = () => {}): Middleware {
  const settings = ipAllowListSettings(options, warn);
  // An empty address (X-Forwarded-For shorter than `depth`) is never allowed, as in Traefik.
  const allows = (address: string): boolean => address !== '' && ipInRanges(address, settings.ranges);

  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    if (!allows(settings.strategy(context))) {
      sendStatus(context, settings.rejectStatusCode);
      return;
    }
    await next();
  };

  return withPreview(handle, (context) => {
    const address = settings.strategy(context);
    if (allows(address)) return { effect: 'passes' };
    const client = address === '' ? 'the request has no client address at the ipStrategy depth' : `client address ${address} is not in sourceRange`;
    return { effect: 'responds', status: settings.rejectStatusCode, reason: client };
  });
}

/** Reads and checks the options; throws an Error naming the bad option and value. */
export function ipAllowListSettings(options: Record<string, unknown>, warn: (message: string) => void = () => {}): IpAllowListSettings {
  const sourceRange = stringList(options, 'sourceRange');
  if (sourceRange.length === 0) {
    throw new Error('ipallowlist sourceRange is missing: list the allowed addresses or CIDR ranges, for example sourceRange=192.168.1.0/24,10.0.0.7');
  }
  const ranges = sourceRange.map((item) => parseRange(item, 'ipallowlist sourceRange entry'));

  const rejectStatusCode = integerOption(options, 'ipallowlist', 'rejectStatusCode', { fallback: 403, min: 100, example: 404 });
  // A 1xx is an interim response that the client waits past, and a 204 or 304 cannot carry the body.
  const bodiless = rejectStatusCode < 200 || rejectStatusCode === 204 || rejectStatusCode === 304;
  if (STATUS_CODES[rejectStatusCode] === undefined || bodiless) {
    throw new Error(`ipallowlist rejectStatusCode ${rejectStatusCode} is invalid: write a known final status code with a body, from 200 to 599 except 204 and 304, for example rejectStatusCode=404`);
  }

  return { ranges, strategy: ipStrategyFrom(option(options, 'ipStrategy'), 'ipallowlist', warn), rejectStatusCode };
}
