import { describe, expect, it } from 'vitest';

import {
  BadGatewayError,
  ClientClosedError,
  NoAvailableServerError,
  UpstreamConnectError,
  UpstreamResetError,
  UpstreamTimeoutError,
} from '../../src/errors.js';
import { classifyUpstreamError } from '../../src/proxy/status.js';

function withCode(code: string): Error {
  return Object.assign(new Error(`failure ${code}`), { code });
}

describe('classifyUpstreamError', () => {
  it.each([
    { desc: 'connect timeout', error: withCode('UND_ERR_CONNECT_TIMEOUT'), status: 504, type: UpstreamTimeoutError },
    { desc: 'OS connect timeout', error: withCode('ETIMEDOUT'), status: 504, type: UpstreamTimeoutError },
    { desc: 'headers timeout', error: withCode('UND_ERR_HEADERS_TIMEOUT'), status: 504, type: UpstreamTimeoutError },
    { desc: 'body timeout', error: withCode('UND_ERR_BODY_TIMEOUT'), status: 504, type: UpstreamTimeoutError },
    { desc: 'refused connection', error: withCode('ECONNREFUSED'), status: 502, type: UpstreamConnectError },
    { desc: 'unknown host', error: withCode('ENOTFOUND'), status: 502, type: UpstreamConnectError },
    { desc: 'unreachable host', error: withCode('EHOSTUNREACH'), status: 502, type: UpstreamConnectError },
    { desc: 'closed socket', error: withCode('UND_ERR_SOCKET'), status: 502, type: UpstreamResetError },
    { desc: 'reset connection', error: withCode('ECONNRESET'), status: 502, type: UpstreamResetError },
    { desc: 'broken pipe', error: withCode('EPIPE'), status: 502, type: UpstreamResetError },
    { desc: 'abort without reason', error: withCode('UND_ERR_ABORTED'), status: 499, type: ClientClosedError },
    { desc: 'short response body', error: withCode('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'), status: 502, type: BadGatewayError },
    { desc: 'response parse error', error: withCode('HPE_INVALID_CHUNK_SIZE'), status: 502, type: BadGatewayError },
    { desc: 'unknown code', error: withCode('EWHATEVER'), status: 502, type: BadGatewayError },
    { desc: 'no code', error: new Error('plain'), status: 502, type: BadGatewayError },
    { desc: 'non-error value', error: 'text', status: 502, type: BadGatewayError },
  ])('maps $desc to $status', ({ error, status, type }) => {
    const failure = classifyUpstreamError(error);

    expect(failure.status).toBe(status);
    expect(failure).toBeInstanceOf(type);
    expect(failure.cause).toBe(error);
  });

  it('passes Berth errors through', () => {
    const error = new NoAvailableServerError();

    expect(classifyUpstreamError(error)).toBe(error);
    expect(error.status).toBe(503);
    expect(error.code).toBe('BERTH_NO_AVAILABLE_SERVER');
  });

  it('reads the code of an AggregateError', () => {
    const error = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'all addresses failed');

    expect(classifyUpstreamError(error)).toBeInstanceOf(UpstreamConnectError);
  });
});
