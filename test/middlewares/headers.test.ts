// The headers middleware rejects, when it is built, every configured header name and value that
// Node.js would reject when the header is sent.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';

import { checkHeaderName, checkHeaderValue, checkHeadersOptions } from '../../src/middlewares/header-fields.js';
import { createHeaders } from '../../src/middlewares/headers.js';
import { createMiddleware } from '../../src/middlewares/registry.js';
import type { RequestContext } from '../../src/middlewares/types.js';

const NAME_RULE = "a header name must be a non-empty token of letters, digits and !#$%&'*+-.^_`|~ (RFC 9110), so no spaces, colons or non-ASCII letters";
const VALUE_RULE = 'a header value may contain only tab, space, visible ASCII and Latin-1 characters (U+0080 to U+00FF), with no CR, LF, NUL or other control characters';

function contextFor(headers: Record<string, string> = {}): RequestContext {
  const request = new IncomingMessage(new Socket());
  request.url = '/';
  request.headers = { ...headers };
  return {
    request,
    response: new ServerResponse(request),
    facts: { host: 'h.example.test', path: '/', rawQuery: '', method: 'GET', headers: request.headers, clientIp: '127.0.0.1' },
    entryPoint: 'web',
    scheme: 'http',
  };
}

/** Records the header list that reaches the response's own `writeHead`, after the middleware's edits. */
function recordWriteHead(response: ServerResponse): { headers: unknown } {
  const recorded: { headers: unknown } = { headers: undefined };
  const original = response.writeHead.bind(response);
  response.writeHead = ((statusCode: number, headers: string[]) => {
    recorded.headers = headers;
    return original(statusCode, headers);
  }) as typeof response.writeHead;
  return recorded;
}

describe('checkHeaderName', () => {
  it.each([
    { desc: 'space', name: 'Bad Name' },
    { desc: 'colon', name: 'X:Greeting' },
    { desc: 'empty', name: '' },
    { desc: 'non-ASCII letter', name: 'X-Grüße' },
    { desc: 'tab', name: 'X\tY' },
  ])('$desc: error', ({ name }) => {
    expect(() => checkHeaderName('headers customResponseHeaders', name)).toThrow(
      `headers customResponseHeaders header name ${JSON.stringify(name)} is invalid: ${NAME_RULE}`,
    );
  });

  it.each(['X-Greeting', 'x_trace.id', "!#$%&'*+-.^_`|~"])('accepts %s', (name) => {
    expect(() => checkHeaderName('headers customResponseHeaders', name)).not.toThrow();
  });
});

describe('checkHeaderValue', () => {
  it.each([
    { desc: 'emoji', value: 'coffee ☕', at: 'U+2615 at index 7' },
    { desc: 'CR', value: 'a\rb', at: 'U+000D at index 1' },
    { desc: 'LF', value: 'a\nSet-Cookie: x=1', at: 'U+000A at index 1' },
    { desc: 'NUL', value: 'a\0', at: 'U+0000 at index 1' },
    { desc: 'DEL', value: '\x7f', at: 'U+007F at index 0' },
    { desc: 'beyond Latin-1', value: 'Ā', at: 'U+0100 at index 0' },
  ])('$desc: error', ({ value, at }) => {
    expect(() => checkHeaderValue('headers customResponseHeaders', 'X-Greeting', value)).toThrow(
      `headers customResponseHeaders value ${JSON.stringify(value)} of header "X-Greeting" is invalid (${at}): ${VALUE_RULE}`,
    );
  });

  it('counts an astral character as two UTF-16 units', () => {
    expect(() => checkHeaderValue('headers customResponseHeaders', 'X', '😀 ☕')).toThrow('(U+1F600 at index 0)');
  });

  it.each(['café', 'ÿ', 'a\tb', '', 'max-age=31536000; includeSubDomains'])('accepts %j', (value) => {
    expect(() => checkHeaderValue('headers customResponseHeaders', 'X-Greeting', value)).not.toThrow();
  });
});

describe('checkHeadersOptions', () => {
  it.each([
    { desc: 'request value', options: { customRequestHeaders: { 'X-Env': 'a\nb' } }, message: 'headers customRequestHeaders value "a\\nb" of header "X-Env" is invalid' },
    { desc: 'request name', options: { customRequestHeaders: { 'Bad Name': 'x' } }, message: 'headers customRequestHeaders header name "Bad Name" is invalid' },
    { desc: 'response value', options: { customResponseHeaders: { 'X-Greeting': 'coffee ☕' } }, message: 'headers customResponseHeaders value "coffee ☕" of header "X-Greeting" is invalid' },
    { desc: 'label key case', options: { customresponseheaders: { 'X Greeting': 'hi' } }, message: 'headers customResponseHeaders header name "X Greeting" is invalid' },
    { desc: 'allowed headers list', options: { accessControlAllowHeaders: 'X-Ok,Bad Name' }, message: 'headers accessControlAllowHeaders header name "Bad Name" is invalid' },
    { desc: 'exposed headers array', options: { accessControlExposeHeaders: ['X:Y'] }, message: 'headers accessControlExposeHeaders header name "X:Y" is invalid' },
    { desc: 'hosts proxy headers', options: { hostsProxyHeaders: ['X Forwarded Host'] }, message: 'headers hostsProxyHeaders header name "X Forwarded Host" is invalid' },
    { desc: 'SSL proxy value', options: { sslProxyHeaders: { 'X-Forwarded-Proto': 'https\r' } }, message: 'headers sslProxyHeaders value "https\\r" of header "X-Forwarded-Proto" is invalid' },
    { desc: 'allowed origin', options: { accessControlAllowOriginList: 'https://a.test,https://☕.test' }, message: 'headers accessControlAllowOriginList value "https://☕.test" of header "Access-Control-Allow-Origin" is invalid' },
    { desc: 'allowed method', options: { accessControlAllowMethods: ['GET', 'P\0ST'] }, message: 'headers accessControlAllowMethods value "P\\u0000ST" of header "Access-Control-Allow-Methods" is invalid' },
    { desc: 'frame options', options: { customFrameOptionsValue: 'SAMEORIGIN\n' }, message: 'headers customFrameOptionsValue value "SAMEORIGIN\\n" of header "X-Frame-Options" is invalid' },
    { desc: 'content security policy', options: { contentSecurityPolicy: "default-src 'self' ☕" }, message: 'headers contentSecurityPolicy value' },
    { desc: 'referrer policy', options: { referrerPolicy: 'no-referrer\r\n' }, message: 'of header "Referrer-Policy" is invalid (U+000D at index 11)' },
    { desc: 'permissions policy', options: { permissionsPolicy: 'camera=()\0' }, message: 'of header "Permissions-Policy" is invalid' },
    { desc: 'response length', options: { customResponseHeaders: { 'Content-Length': '1' } }, message: 'headers customResponseHeaders cannot set or remove "Content-Length"' },
    { desc: 'request coding', options: { customRequestHeaders: { 'transfer-encoding': 'chunked' } }, message: 'headers customRequestHeaders cannot set or remove "transfer-encoding"' },
    { desc: 'length removal', options: { customResponseHeaders: { 'Content-Length': '' } }, message: 'cannot set or remove "Content-Length"' },
  ])('$desc: error', ({ options, message }) => {
    expect(() => checkHeadersOptions(options)).toThrow(message);
  });

  it('accepts valid options', () => {
    const options = {
      customRequestHeaders: { 'X-Script-Name': 'test', 'X-Remove': '' },
      customResponseHeaders: { 'X-Greeting': 'café', Server: '' },
      accessControlAllowHeaders: 'Content-Type,X-Trace',
      accessControlAllowOriginList: ['https://a.test', '*'],
      contentSecurityPolicy: "default-src 'self'",
      referrerPolicy: 'same-origin',
    };

    expect(() => checkHeadersOptions(options)).not.toThrow();
  });
});

describe('headers middleware', () => {
  it('rejects a bad value when built', () => {
    expect(() => createMiddleware('headers', { customResponseHeaders: { 'X-Greeting': 'coffee ☕' } })).toThrow(
      'headers customResponseHeaders value "coffee ☕" of header "X-Greeting" is invalid (U+2615 at index 7)',
    );
  });

  it('sends a Latin-1 response value', async () => {
    const context = contextFor();
    const written = recordWriteHead(context.response);
    const middleware = createHeaders({ customResponseHeaders: { 'X-Greeting': 'café' } });

    await middleware(context, async () => {
      context.response.writeHead(200, ['Content-Type', 'text/plain']);
    });

    expect(written.headers).toEqual(['Content-Type', 'text/plain', 'X-Greeting', 'café']);
    expect(context.response.headersSent).toBe(true);
  });

  it('removes a response header with an empty value', async () => {
    const context = contextFor();
    const written = recordWriteHead(context.response);
    const middleware = createHeaders({ customResponseHeaders: { Server: '', 'X-Added': 'yes' } });

    await middleware(context, async () => {
      context.response.writeHead(200, ['Server', 'backend/1.0', 'Content-Type', 'text/plain']);
    });

    expect(written.headers).toEqual(['Content-Type', 'text/plain', 'X-Added', 'yes']);
  });

  it('reads lower-case label keys', async () => {
    const context = contextFor();
    context.scheme = 'https';
    const written = recordWriteHead(context.response);
    const middleware = createHeaders({ stsseconds: '60', framedeny: 'true', accesscontrolalloworiginlist: ['*'] });

    await middleware(context, async () => {
      context.response.writeHead(200, ['Content-Type', 'text/plain']);
    });

    expect(written.headers).toEqual([
      'Content-Type', 'text/plain',
      'Strict-Transport-Security', 'max-age=60',
      'X-Frame-Options', 'DENY',
      'Access-Control-Allow-Origin', '*',
    ]);
  });

  it('sets and removes request headers', async () => {
    const context = contextFor({ 'x-remove': 'old', 'x-keep': 'kept' });
    const middleware = createHeaders({ customRequestHeaders: { 'X-Env': 'prod', 'X-Remove': '' } });

    await middleware(context, async () => {});

    expect(context.request.headers['x-env']).toBe('prod');
    expect(context.request.headers['x-remove']).toBeUndefined();
    expect(context.request.headers['x-keep']).toBe('kept');
  });
});
