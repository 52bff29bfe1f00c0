// The stand-in ServerResponse of an upgrade request. node:http gives an upgrade request only its socket,
// so Berth binds a ServerResponse to that socket. Middlewares wrap it as they wrap any response, and every
// response to the upgrade request goes through it: the middlewares' own, a server's refusal of the upgrade,
// and Berth's 502 or 504. After a 101 only the head goes through it, and the socket becomes a byte tunnel.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Creates the stand-in response of an upgrade request, bound to the client's socket. */
export function createUpgradeResponse(request: IncomingMessage, socket: Duplex): ServerResponse {
  const response = new ServerResponse(request);
  // Any response written here, rather than by the server through the tunnel, is the last on this connection,
  // so Node.js adds `Connection: close` to it.
  (response as { shouldKeepAlive?: boolean }).shouldKeepAlive = false;
  response.assignSocket(socket as Socket);
  response.on('finish', () => socket.end());
  // node:http removes its own 'drain' listener from an upgraded socket, and that listener is what emits
  // 'drain' on the response. Writers that wait for it, such as the forwarder and `compress`, would stall.
  socket.on('drain', () => {
    if (response.socket === socket && !response.writableFinished) response.emit('drain');
  });
  return response;
}

/**
 * Sends the head of a server's 101 to the client, then unbinds the socket from the response. The head goes
 * through the response's writeHead, so middlewares can edit its fields as Traefik's can (Go's ReverseProxy
 * writes the 101 through the ResponseWriter before it hijacks the connection). When a middleware holds the
 * head back or changes its status, or Node.js rejects a field, the server's head is written as it is,
 * because the tunnel cannot work without a 101.
 */
export function sendSwitchingProtocols(response: ServerResponse, socket: Duplex, headers: readonly string[]): void {
  let stored = false;
  if (response.socket === socket && !response.headersSent) {
    try {
      response.writeHead(101, [...headers]);
      stored = response.headersSent && response.statusCode === 101;
    } catch {
      stored = false;
    }
  }

  if (stored) {
    response.flushHeaders();
  } else {
    socket.write(responseHead(101, 'Switching Protocols', headers), 'latin1');
  }
  // The tunnel writes to the socket from now on, so nothing buffered in the response may follow the head.
  if (response.socket === socket) response.detachSocket(socket as Socket);
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
