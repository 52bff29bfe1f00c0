import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { rejectRequest } from '../../src/entrypoints/request-validation.js';

/** Builds an HTTP/1.x request as the parser would, from its version and raw header lines. */
function http1Request(version: string, rawHeaders: string[]): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  const [major, minor] = version.split('.').map(Number);
  request.httpVersion = version;
  request.httpVersionMajor = major ?? 1;
  request.httpVersionMinor = minor ?? 1;
  request.rawHeaders = rawHeaders;
  return request;
}

describe('rejectRequest over HTTP/1', () => {
  it.each([
    { desc: 'HTTP/2.0 request line', version: '2.0', raw: ['Host', 'a.test'], status: 505 },
    { desc: 'HTTP/0.9 request line', version: '0.9', raw: [], status: 505 },
    { desc: 'HTTP/1.1 without Host', version: '1.1', raw: [], status: 400 },
    { desc: 'two Host lines', version: '1.1', raw: ['Host', 'a.test', 'host', 'a.test'], status: 400 },
    { desc: 'two Host lines in HTTP/1.0', version: '1.0', raw: ['Host', 'a.test', 'Host', 'b.test'], status: 400 },
    { desc: 'space in Host', version: '1.1', raw: ['Host', 'a b'], status: 400 },
    { desc: 'slash in Host', version: '1.1', raw: ['Host', 'a.test/x'], status: 400 },
    { desc: 'at sign in Host', version: '1.1', raw: ['Host', 'u@a.test'], status: 400 },
    { desc: 'non-ASCII Host', version: '1.1', raw: ['Host', 'bücher.test'], status: 400 },
    { desc: 'gzip before chunked', version: '1.1', raw: ['Host', 'a.test', 'Transfer-Encoding', 'gzip, chunked'], status: 501 },
    { desc: 'two codings on two lines', version: '1.1', raw: ['Host', 'a.test', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], status: 501 },
    { desc: 'xchunked', version: '1.1', raw: ['Host', 'a.test', 'Transfer-Encoding', 'xchunked'], status: 400 },
    { desc: 'gzip alone', version: '1.1', raw: ['Host', 'a.test', 'Transfer-Encoding', 'gzip'], status: 400 },
  ])('$status for $desc', ({ version, raw, status }) => {
    expect(rejectRequest(http1Request(version, raw))?.status).toBe(status);
  });

  it.each(['/public/..%2Fadmin', '/public/%2E%2E%2fadmin/x', '/p/..%5Cadmin', '/p/..\\admin', '/p/.%2Fa'])('400 for dot segment hidden in %s', (url) => {
    const request = http1Request('1.1', ['Host', 'a.test']);
    request.url = url;
    expect(rejectRequest(request)?.status).toBe(400);
  });

  it.each(['/files/a%2Fb.txt', '/x?next=..%2Fadmin', '/v1..%2Fb'])('accepts %s', (url) => {
    const request = http1Request('1.1', ['Host', 'a.test']);
    request.url = url;
    expect(rejectRequest(request)).toBeUndefined();
  });

  // Before, GET /%zz%00%ff reached the server, and redirectScheme responded to it with 500.
  it.each(['/%zz%00%ff', '/a%', '/a%4', '/a%G1/b', 'http://a.test/%zz', '/%%41'])('400 for invalid escape in %s', (url) => {
    const request = http1Request('1.1', ['Host', 'a.test']);
    request.url = url;
    expect(rejectRequest(request)).toEqual({ status: 400, reason: 'invalid percent-encoding in the request target' });
  });

  it.each(['/%00%ff%41', '/a%2fb', '/x?q=%zz', '/x?%'])('accepts escapes in %s', (url) => {
    const request = http1Request('1.1', ['Host', 'a.test']);
    request.url = url;
    expect(rejectRequest(request)).toBeUndefined();
  });

  it.each([
    { target: 'http://x@secure.test/admin', reason: 'userinfo in the authority of an absolute-form target' },
    { target: 'http://@secure.test/', reason: 'userinfo in the authority of an absolute-form target' },
    { target: 'https://u:p@secure.test:443?q', reason: 'userinfo in the authority of an absolute-form target' },
    { target: 'http://secure<x>.test/', reason: 'invalid authority in an absolute-form target' },
    { target: 'http://a"b.test/', reason: 'invalid authority in an absolute-form target' },
  ])('400 for absolute-form target $target', ({ target, reason }) => {
    const request = http1Request('1.1', ['Host', 'secure.test']);
    request.url = target;
    expect(rejectRequest(request)).toEqual({ status: 400, reason });
  });

  it.each(['http://a.test/x', 'http://a.test:8080?q', 'http:///x', 'http://[::1]:80/', 'HTTP://A.test/'])('accepts absolute-form target %s', (target) => {
    const request = http1Request('1.1', ['Host', 'a.test']);
    request.url = target;
    expect(rejectRequest(request)).toBeUndefined();
  });

  it.each([
    { desc: 'HTTP/1.0 without Host', version: '1.0', raw: [] },
    { desc: 'host and port', version: '1.1', raw: ['Host', 'a.test:8080'] },
    { desc: 'IPv6 literal with zone', version: '1.1', raw: ['Host', '[fe80::1%25eth0]:80'] },
    { desc: 'empty Host', version: '1.1', raw: ['Host', ''] },
    { desc: 'sub-delimiters', version: '1.1', raw: ['Host', "a!$&'()*+,;=_~-.test"] },
    { desc: 'chunked in capitals', version: '1.1', raw: ['Host', 'a.test', 'Transfer-Encoding', 'Chunked'] },
  ])('accepts $desc', ({ version, raw }) => {
    expect(rejectRequest(http1Request(version, raw))).toBeUndefined();
  });
});
