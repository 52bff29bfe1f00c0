// The `errors` middleware (Traefik's custom error pages). When the response status is one of
// `status`, the server's body is dropped and the page that `service` serves at `query` is sent in
// its place. The client gets the original status, or the one `statusRewrites` maps it to. The
// middleware keeps the status line back at writeHead, so no byte of the server's own body goes out first.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { Fields } from '../observability/fields.js';
import { abortResponse } from '../proxy/abort-response.js';
import { sendErrorResponse } from '../proxy/error-response.js';
import { throttledLog, type EventLog } from './log-throttle.js';
import { option, stringList, stringMap } from './options.js';
import { ReplayRequest } from './replay-request.js';
import type { Middleware, MiddlewareBuildContext, RequestContext } from './types.js';

/** An inclusive range of status codes, such as `[500, 599]`. */
export type StatusRange = readonly [from: number, to: number];

export interface ErrorsSettings {
  ranges: readonly StatusRange[];
  /** Checked narrowest range first, so `503` wins over `500-599`. */
  rewrites: ReadonlyArray<{ range: StatusRange; status: number }>;
  /** Qualified name (`name@provider`) of the service that serves the pages. */
  service: string;
  /** Path of the page, with `{status}`, `{originalStatus}` and `{url}` still in it. */
  query: string;
}

export function createErrors(options: Record<string, unknown>, build: MiddlewareBuildContext): Middleware {
  const settings = errorsSettings(options, build);
  // A page service without a server fails every caught response, so the event is throttled.
  const logPageFailure = throttledLog(build.logger, 'warn');
  return async (context, next) => {
    const catcher = catchStatus(context.response, settings.ranges);
    try {
      await next();
    } catch (error) {
      // The dispatcher's 500 for a failed middleware must reach the client, not wait for a page.
      catcher.release();
      throw error;
    }
    const caught = catcher.caught();
    if (caught === undefined) return;
    await sendErrorPage(context, settings, caught, catcher, logPageFailure);
  };
}

/** Reads and checks the options; throws an Error naming the bad option or the missing service. */
export function errorsSettings(options: Record<string, unknown>, build: MiddlewareBuildContext): ErrorsSettings {
  const statusItems = stringList(options, 'status');
  if (statusItems.length === 0) {
    throw new Error('errors status is missing: list the status codes or ranges that get an error page, for example status=500-599,404');
  }
  const ranges = statusItems.map((item) => parseStatusRange(item, 'status'));

  const rewrites: Array<{ range: StatusRange; status: number }> = [];
  for (const [key, value] of stringMap(options, 'statusRewrites')) {
    const range = parseStatusRange(key, `statusRewrites.${key}`);
    const status = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || status < 100 || status > 599) {
      throw new Error(`errors statusRewrites.${key} ${JSON.stringify(value)} is invalid: write a status code from 100 to 599, for example statusRewrites.${key}=500`);
    }
    rewrites.push({ range, status });
  }
  rewrites.sort((a, b) => a.range[1] - a.range[0] - (b.range[1] - b.range[0]));

  const rawService = option(options, 'service');
  if (typeof rawService !== 'string' || rawService.trim() === '') {
    throw new Error('errors service is missing: set it to the service that serves the error pages, for example service=error-pages');
  }
  const service = build.resolveService(rawService);

  const rawQuery = option(options, 'query');
  const query = rawQuery === undefined || rawQuery === null ? '' : String(rawQuery).trim();
  if (/[\s\u0000-\u001f\u007f]/.test(query)) {
    throw new Error(`errors query ${JSON.stringify(query)} is invalid: it cannot contain spaces or control characters; percent-encode them`);
  }
  return { ranges, rewrites, service, query };
}

/** Parses one item of a status list: a code such as `404` or an inclusive range such as `500-599`. */
function parseStatusRange(text: string, name: string): StatusRange {
  const match = /^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?$/.exec(text);
  const from = match === null ? Number.NaN : Number(match[1]);
  const to = match?.[2] === undefined ? from : Number(match[2]);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from > to) {
    throw new Error(`errors ${name} ${JSON.stringify(text)} is invalid: write a status code such as 404 or a range such as 500-599`);
  }
  return [from, to];
}

function inRanges(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some(([from, to]) => status >= from && status <= to);
}

/** Returns the status the client gets for a caught `status`: the first matching rewrite, else `status`. */
export function rewrittenStatus(status: number, settings: Pick<ErrorsSettings, 'rewrites'>): number {
  return settings.rewrites.find(({ range }) => status >= range[0] && status <= range[1])?.status ?? status;
}

/** Returns the path of the error page for a caught response, placeholders filled in. */
export function pagePath(query: string, status: number, originalStatus: number, requestUrl: string): string {
  const path = `/${query.startsWith('/') ? query.slice(1) : query}`;
  return path
    .replaceAll('{status}', String(status))
    .replaceAll('{originalStatus}', String(originalStatus))
    .replaceAll('{url}', goQueryEscape(requestUrl));
}

/** Escapes like Go's `url.QueryEscape`, which Traefik applies to `{url}`: space as `+`, every byte but `A-Za-z0-9-_.~` as `%XX`. */
export function goQueryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}

type WriteCallback = (error?: Error | null) => void;

/** The wrapped response's progress. */
type Phase =
  | { kind: 'waiting' }
  | { kind: 'passthrough' }
  /** The status matched; the server's header and body are dropped. */
  | { kind: 'caught'; status: number }
  /**
   * The error page goes to the client with `status` in place of the page's own. Until the page's header
   * arrives (`headerReceived`), writes and ends still belong to the caught response and are dropped.
   */
  | { kind: 'page'; status: number; headerReceived: boolean };

interface StatusCatcher {
  /** Returns the caught status, or undefined when the response went to the client as it was. */
  caught(): number | undefined;
  /** Sends the rest of the response with `status`, whatever status its writer gives. */
  forceStatus(status: number): void;
  /** Lets everything through from now on. */
  release(): void;
}

/**
 * Replaces the response's writeHead, write and end. The first status decides: one in `ranges` is
 * caught, and the header, body and end that follow are dropped. Any other passes through unchanged.
 */
function catchStatus(response: ServerResponse, ranges: readonly StatusRange[]): StatusCatcher {
  const originalWriteHead = response.writeHead;
  const originalWrite = response.write;
  const originalEnd = response.end;
  let phase: Phase = { kind: 'waiting' };

  response.writeHead = function writeHeadWithCatch(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    // A 101 starts a tunnel, and no page can follow it, so interim statuses always pass and leave the phase as it was.
    if (statusCode < 200) return originalWriteHead.call(this, statusCode, ...(rest as []));
    if (phase.kind === 'waiting') {
      if (!inRanges(statusCode, ranges)) {
        phase = { kind: 'passthrough' };
      } else {
        phase = { kind: 'caught', status: statusCode };
        return this;
      }
    }
    if (phase.kind === 'caught') return this;
    if (phase.kind === 'page') {
      phase.headerReceived = true;
      // The page's reason phrase belongs to its own status, so Node.js picks the one of the forced status.
      const headers = typeof rest[0] === 'string' ? rest[1] : rest[0];
      return originalWriteHead.call(this, phase.status, headers as []);
    }
    return originalWriteHead.call(this, statusCode, ...(rest as []));
  } as typeof originalWriteHead;

  // A middleware inside this one can still write the caught response while the page is awaited, as compress
  // does with its compressor's output. Passed on, such a write makes Node.js send a header of its own.
  const dropsWrites = (): boolean => phase.kind === 'caught' || (phase.kind === 'page' && !phase.headerReceived);

  response.write = function writeWithCatch(this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    if (phase.kind === 'waiting') this.writeHead(this.statusCode);
    if (dropsWrites()) {
      const callback = rest.find((item): item is WriteCallback => typeof item === 'function');
      if (callback) process.nextTick(callback);
      return true;
    }
    return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof originalWrite;

  response.end = function endWithCatch(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (phase.kind === 'waiting') this.writeHead(this.statusCode);
    if (dropsWrites()) return this;
    return (originalEnd as (...args: unknown[]) => ServerResponse).call(this, ...args);
  } as typeof originalEnd;

  return {
    caught: () => (phase.kind === 'caught' ? phase.status : undefined),
    forceStatus: (status) => {
      phase = { kind: 'page', status, headerReceived: false };
    },
    release: () => {
      phase = { kind: 'passthrough' };
    },
  };
}

/**
 * Fetches the error page and sends it with the caught (or rewritten) status. When the page service
 * has no available server, the client gets that status with a short plain-text body, and
 * `logFailure` gets the event. The service call writes a failure of the page server itself (such as
 * `502 Bad Gateway` text), and that body goes out with the caught status too, as in Traefik.
 */
async function sendErrorPage(context: RequestContext, settings: ErrorsSettings, originalStatus: number, catcher: StatusCatcher, logFailure: EventLog): Promise<void> {
  const { request, response } = context;
  const status = rewrittenStatus(originalStatus, settings);
  catcher.forceStatus(status);

  const path = pagePath(settings.query, status, originalStatus, request.url ?? '/');
  const pageContext: RequestContext = { ...context, request: pageRequest(request, path) };
  delete pageContext.retry;

  // The dispatcher's service caller logs a page service without an available server too, but
  // without the middleware and the statuses.
  const served = context.callService === undefined ? false : await context.callService(settings.service, pageContext);
  if (served || response.writableEnded) return;
  const reason = context.callService === undefined ? 'no service caller for this request' : 'no server is available';
  logFailure({ [Fields.router]: context.router, [Fields.service]: settings.service, [Fields.status]: status, [Fields.originalStatus]: originalStatus, [Fields.reason]: reason }, 'calling the error page service failed');
  if (response.headersSent) {
    abortResponse(response);
    return;
  }
  sendErrorResponse(response, status, false);
}

/**
 * Builds the GET for the error page: the client's header fields (its Host among them, as Traefik
 * sends) without the body's framing fields, on the client's connection for the X-Forwarded fields.
 */
function pageRequest(original: IncomingMessage, path: string): IncomingMessage {
  return new ReplayRequest(original, { method: 'GET', url: path, headers: original.headers });
}
