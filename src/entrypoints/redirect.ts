// Entry point redirection (`http.redirections.entryPoint`): plain HTTP requests on an entry
// point are redirected to another entry point's port, usually from HTTP to HTTPS. The redirect
// keeps the host (without its port), the path and the query exactly as the client sent them.
// As in Traefik, it acts like a router with a very high priority: a router of the entry point with
// a higher priority still serves its requests, and requests that came over TLS are never redirected.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import type { EntryPointRedirectionConfig } from '../config/types.js';
import { requestFacts, splitAbsoluteTarget } from '../routing/facts.js';
import { routeTableFor, type Runtime } from '../routing/runtime.js';
import type { RouteTable, Route } from '../routing/table.js';
import type { RequestFacts } from '../rules/types.js';
import type { RequestClaim, UpgradeClaim } from './handler-chain.js';

export interface RedirectOptions {
  entryPoint: string;
  redirection: EntryPointRedirectionConfig;
  /** The current runtime, to find routers that outrank the redirection. */
  runtime: () => Runtime;
}

const DEFAULT_PORTS: Record<EntryPointRedirectionConfig['scheme'], number> = { http: 80, https: 443 };

// A host name, an IPv4 address or a bracketed IPv6 address, each with an optional port. Anything
// else could change the meaning of the Location URL, so it gets a 400 instead of a redirect.
const HOST_HEADER = /^(?:[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/i;

/**
 * Returns the URL that `request` is redirected to, or undefined when its host cannot be put in a
 * URL. The host is the authority of an absolute-form target when it has one, as for routing, and
 * the Host header otherwise. 308 and 307 keep the method and body (RFC 9110 sections 15.4.8 and
 * 15.4.9), so a POST stays a POST at the new address.
 */
export function redirectLocation(request: IncomingMessage, redirection: EntryPointRedirectionConfig): string | undefined {
  const authority = splitAbsoluteTarget(request.url ?? '/')?.authority;
  const hostHeader = request.headers.host ?? headerText(request.headers[':authority']) ?? '';
  return redirectLocationFor(authority === undefined || authority === '' ? hostHeader : authority, request.url ?? '/', redirection);
}

/**
 * Returns the URL that a request for `hostValue` (a Host value, with its port when it has one) and
 * the request target `target` is redirected to, or undefined when the host cannot be put in a URL.
 */
export function redirectLocationFor(hostValue: string, target: string, redirection: EntryPointRedirectionConfig): string | undefined {
  const trimmed = hostValue.trim();
  if (!HOST_HEADER.test(trimmed)) return undefined;

  const host = trimmed.startsWith('[') ? trimmed.slice(0, trimmed.indexOf(']') + 1) : trimmed.replace(/:[0-9]*$/, '');
  const port = redirection.port === DEFAULT_PORTS[redirection.scheme] ? '' : `:${redirection.port}`;
  return `${redirection.scheme}://${host}${port}${requestTarget(target)}`;
}

/** Returns the status of the redirect: 308 Permanent Redirect or 307 Temporary Redirect. */
export function redirectStatus(redirection: EntryPointRedirectionConfig): 307 | 308 {
  return redirection.permanent ? 308 : 307;
}

/** Builds the steps that redirect plain HTTP requests and upgrade requests of one entry point. */
export function createRedirectClaims(options: RedirectOptions): { request: RequestClaim; upgrade: UpgradeClaim } {
  const { redirection } = options;
  const status = redirectStatus(redirection);
  const reason = status === 308 ? 'Permanent Redirect' : 'Temporary Redirect';

  const request: RequestClaim = (incoming, response, scheme) => {
    if (scheme !== 'http' || outranked(incoming, options)) return false;
    const location = redirectLocation(incoming, redirection);
    if (location === undefined) {
      sendText(response, 400, { 'content-type': 'text/plain; charset=utf-8' }, '400 Bad Request: the Host header is missing or invalid\n');
      return true;
    }
    sendText(response, status, { location, 'content-type': 'text/plain; charset=utf-8' }, `${status} ${reason}: ${location}\n`);
    return true;
  };

  const upgrade: UpgradeClaim = (incoming, socket, _head, scheme) => {
    if (scheme !== 'http' || outranked(incoming, options)) return false;
    const location = redirectLocation(incoming, redirection);
    const head =
      location === undefined
        ? 'HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'
        : `HTTP/1.1 ${status} ${reason}\r\nlocation: ${location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`;
    writeAndClose(socket, head);
    return true;
  };

  return { request, upgrade };
}

/** Returns true when a plain HTTP router with a priority above the redirection's matches the request. */
function outranked(request: IncomingMessage, options: RedirectOptions): boolean {
  return outrankingRoute(routeTableFor(options.runtime(), options.entryPoint, 'http'), () => requestFacts(request), options.redirection) !== undefined;
}

/**
 * Returns the plain HTTP route of `table` that serves the request in place of `redirection`: the
 * route that matches it, when its priority is above the redirection's. `facts` is called only when
 * some route has such a priority, because building the facts of a real request costs time.
 */
export function outrankingRoute(table: RouteTable | undefined, facts: () => RequestFacts, redirection: EntryPointRedirectionConfig): Route | undefined {
  // Routes are sorted by priority, so the first one decides whether any can outrank the redirection.
  const highest = table?.routes[0];
  if (highest === undefined || highest.priority <= redirection.priority) return undefined;
  const route = table?.match(facts());
  return route !== undefined && route.priority > redirection.priority ? route : undefined;
}

/**
 * Returns the path and query of a request target exactly as sent. An absolute-form target
 * (`GET http://host/path`, RFC 9112 section 3.2.2) keeps only its path and query, and the
 * asterisk form of `OPTIONS *` becomes `/`.
 */
export function requestTarget(target: string): string {
  if (target.startsWith('/')) return target;
  const schemeEnd = target.indexOf('://');
  if (schemeEnd === -1) return '/';
  const pathStart = target.slice(schemeEnd + 3).search(/[/?]/);
  if (pathStart === -1) return '/';
  const rest = target.slice(schemeEnd + 3 + pathStart);
  return rest.startsWith('?') ? `/${rest}` : rest;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendText(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function writeAndClose(socket: Duplex, head: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(head);
}
