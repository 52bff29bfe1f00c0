// The stand-in ServerResponse of an upgrade request. node:http gives an upgrade request only its socket,
// so Berth binds a ServerResponse to that socket. Middlewares wrap it as they wrap any response, and every
// response to the upgrade request goes through it: the middlewares' own, a server's refusal of the upgrade,
// and Berth's 502 or 504. After a 101 only the head goes through it, and the socket becomes a byte tunnel.
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Creates the stand-in response of an upgrade request, bound to the client's socket. */
export function createUpgradeResponse(request: IncomingMessage, socket: Duplex): ServerResponse {
  const response = new ServerResponse(request);
  // Any response written here, rather than by the server through the tunnel, is the last on this connection,
  // so Node.js adds `Connection: close` to it.
  (response as { shouldKeepAlive?: boolean }).shouldKeepAlive = false;
  // Wrapped before any middleware wraps writeHead, so it receives the fields the middlewares leave.
  pinUpgradeFields(response);
  response.assignSocket(socket as Socket);
  response.on('finish', () => socket.end());
  // node:http removes its own 'drain' listener from an upgraded socket, and that listener is what emits
  // 'drain' on the response. Writers that wait for it, such as the forwarder and `compress`, would stall.
  socket.on('drain', () => {
    if (response.socket === socket && !response.writableFinished) response.emit('drain');
  });
  return response;
}

/** The Upgrade value of the 101 that `sendSwitchingProtocols` is writing, by stand-in response. */
const switchingTo = new WeakMap<ServerResponse, string>();

/**
 * Sends the head of a server's 101 to the client, then unbinds the socket from the response. The head goes
 * through the response's writeHead, so middlewares can edit its fields as Traefik's can (Go's ReverseProxy
 * writes the 101 through the ResponseWriter before it hijacks the connection). When a middleware keeps the
 * head back or changes its status, or Node.js rejects a field, the server's fields are written without the
 * middlewares' edits, because the tunnel cannot work without a 101. Either way the head carries
 * `Connection: Upgrade` and `Upgrade: protocol`, the server's value. `response` must come from
 * `createUpgradeResponse`, whose writeHead wrapper enforces those two fields on the first path.
 */
export function sendSwitchingProtocols(response: ServerResponse, socket: Duplex, headers: readonly string[], protocol: string): void {
  let stored = false;
  if (response.socket === socket && !response.headersSent) {
    switchingTo.set(response, protocol);
    try {
      response.writeHead(101, [...headers]);
      stored = response.headersSent && response.statusCode === 101;
    } catch {
      stored = false;
    } finally {
      switchingTo.delete(response);
    }
  }

  if (stored) {
    response.flushHeaders();
  } else {
    socket.write(responseHead(101, 'Switching Protocols', withUpgradeFields(headers, protocol)), 'latin1');
  }
  // The tunnel writes to the socket from now on, so nothing buffered in the response may follow the head.
  if (response.socket === socket) response.detachSocket(socket as Socket);
}

/**
 * Wraps writeHead so that the 101 of `sendSwitchingProtocols` carries `Connection: Upgrade` and the server's
 * Upgrade field whatever the middlewares did to those two hop-by-hop fields. Without a Connection field
 * Node.js would add `Connection: close`, because shouldKeepAlive is false, and a WebSocket client must fail
 * a 101 without `Connection: Upgrade` (RFC 6455 section 4.1). Other statuses pass through unchanged.
 */
function pinUpgradeFields(response: ServerResponse): void {
  const original = response.writeHead;
  response.writeHead = function writeHeadWithUpgradeFields(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const protocol = switchingTo.get(this);
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    const given = (reason === undefined ? rest[0] : rest[1]) as OutgoingHttpHeaders | readonly unknown[] | undefined;
    let fields = given;
    if (statusCode === 101 && protocol !== undefined) {
      // Fields set with setHeader are merged into the head as well, so they are removed here.
      this.removeHeader('connection');
      this.removeHeader('upgrade');
      fields = withUpgradeFields(toFieldList(given), protocol);
    }
    if (reason === undefined) return original.call(this, statusCode, fields as OutgoingHttpHeaders);
    return (original as (code: number, reason: string, headers: unknown) => ServerResponse).call(this, statusCode, reason, fields);
  } as typeof original;
}

/** Replaces the Connection and Upgrade fields of a flat header list with those of a 101 to `protocol`. */
function withUpgradeFields(headers: readonly string[], protocol: string): string[] {
  const result: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    const lowerName = name.toLowerCase();
    if (lowerName !== 'connection' && lowerName !== 'upgrade') result.push(name, headers[i + 1] as string);
  }
  result.push('Connection', 'Upgrade', 'Upgrade', protocol);
  return result;
}

/** Flattens the fields given to writeHead, as an object or a flat list, into a flat list. */
function toFieldList(headers: OutgoingHttpHeaders | readonly unknown[] | undefined): string[] {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return headers.map(String);
  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) list.push(name, String(item));
  }
  return list;
}

/** Stand-in responses whose tunnel has closed. */
const settledUpgrades = new WeakSet<ServerResponse>();

/**
 * Records on the stand-in response that its tunnel closed with `status`, then emits 'close'. The socket was
 * unbound from the response at the 101, so without this the middlewares that watch the response
 * (inFlightReq, circuitBreaker) never saw its end.
 */
export function settleUpgradeResponse(response: ServerResponse, status: number): void {
  response.statusCode = status;
  settledUpgrades.add(response);
  response.emit('close');
}

/** Returns true for the stand-in response of an upgrade request whose tunnel `settleUpgradeResponse` settled. */
export function isSettledUpgrade(response: ServerResponse): boolean {
  return settledUpgrades.has(response);
}

/** Serializes an HTTP/1.1 status line and header fields, ending with the empty line. */
function responseHead(statusCode: number, reason: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${reason}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  return `${head}\r\n`;
}
