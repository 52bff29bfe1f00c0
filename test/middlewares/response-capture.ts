// Records what Node.js writes for a ServerResponse, so middleware tests can read the status line,
// header fields and body the client would get.
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';

export interface CapturedResponse {
  /** Everything written to the connection, 1xx responses included. */
  raw: string;
  status: number;
  /** Lower-case field names of the final response. */
  headers: Record<string, string>;
  /** The body bytes as written, chunked framing included. */
  body: string;
}

/** Attaches `response` to a socket that records its bytes; the returned function parses them. */
export function captureResponse(response: ServerResponse): () => CapturedResponse {
  const chunks: Buffer[] = [];
  const socket = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  response.assignSocket(socket as never);
  return () => {
    const raw = Buffer.concat(chunks).toString('latin1');
    // A 100 Continue comes before the final response.
    const final = raw.replace(/^HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n/, '');
    const [head = '', ...rest] = final.split('\r\n\r\n');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const index = line.indexOf(':');
      headers[line.slice(0, index).toLowerCase()] = line.slice(index + 1).trim();
    }
    return { raw, status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
  };
}
