// The buffering middleware and its body spool without a network: limits, the replayed request,
// the held response and the temporary files.
import { readdir } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { BodySpool } from '../../src/middlewares/body-spool.js';
import { bufferingSettings, createBuffering } from '../../src/middlewares/buffering.js';
import type { RequestContext } from '../../src/middlewares/types.js';
import { contextFor } from './header-context.js';
import { captureLogs, LEVEL } from './log-capture.js';
import { captureResponse } from './response-capture.js';

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function spoolFiles(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('berth-buffer-'));
}

/** Returns a POST context whose body arrives in `chunks`, framed by `framing`. */
function uploadContext(chunks: string[], framing: Array<[string, string]>): RequestContext {
  const context = contextFor({ method: 'POST', url: '/upload', headers: [['Host', 'app.example.test'], ...framing] });
  const request = context.request;
  request.httpVersionMajor = 1;
  request.httpVersionMinor = 1;
  request.httpVersion = '1.1';
  setImmediate(() => {
    for (const chunk of chunks) request.push(Buffer.from(chunk));
    // Node.js's parser marks the message complete before it ends the body.
    request.complete = true;
    request.push(null);
  });
  return context;
}

describe('buffering settings', () => {
  it('uses Traefik defaults', () => {
    expect(bufferingSettings({})).toEqual({ maxRequestBodyBytes: 0, memRequestBodyBytes: 1_048_576, maxResponseBodyBytes: 0, memResponseBodyBytes: 1_048_576 });
  });

  it('reads label text', () => {
    expect(bufferingSettings({ maxrequestbodybytes: '10', memResponseBodyBytes: 5 }).maxRequestBodyBytes).toBe(10);
    expect(bufferingSettings({ maxrequestbodybytes: '10', memResponseBodyBytes: 5 }).memResponseBodyBytes).toBe(5);
  });

  it('rejects negative sizes', () => {
    expect(() => bufferingSettings({ maxRequestBodyBytes: -1 })).toThrow('buffering maxRequestBodyBytes -1 is invalid');
  });

  it('rejects retryExpression', () => {
    expect(() => bufferingSettings({ retryExpression: 'IsNetworkError() && Attempts() < 2' })).toThrow('buffering retryExpression is not supported yet');
  });
});

describe('body spool', () => {
  it('keeps small body in memory', async () => {
    const before = await spoolFiles();
    const spool = new BodySpool(10);
    expect(spool.append(Buffer.from('hello'))).toBe(true);
    await spool.flushed();
    expect(await readAll(spool.reader())).toBe('hello');
    expect(await spoolFiles()).toEqual(before);
    await spool.dispose();
  });

  it('spills to file and removes it', async () => {
    const before = await spoolFiles();
    const spool = new BodySpool(4);
    expect(spool.append(Buffer.from('abc'))).toBe(true);
    expect(spool.append(Buffer.from('defg'))).toBe(false);
    spool.append(Buffer.from('hij'));
    await spool.flushed();
    expect(spool.size).toBe(10);
    expect((await spoolFiles()).length).toBe(before.length + 1);
    expect(await readAll(spool.reader())).toBe('abcdefghij');
    await spool.dispose();
    expect(await spoolFiles()).toEqual(before);
  });
});

describe('buffering request', () => {
  it('declared length over limit gets 413', async () => {
    const context = uploadContext(['0123456789'], [['Content-Length', '10']]);
    const read = captureResponse(context.response);
    let reached = false;
    await createBuffering({ maxRequestBodyBytes: 9 })(context, async () => {
      reached = true;
    });
    expect(reached).toBe(false);
    expect(read().status).toBe(413);
    expect(read().headers.connection).toBe('close');
  });

  it('chunked body over limit gets 413', async () => {
    const context = uploadContext(['01234', '56789'], [['Transfer-Encoding', 'chunked']]);
    const read = captureResponse(context.response);
    let reached = false;
    await createBuffering({ maxRequestBodyBytes: 8 })(context, async () => {
      reached = true;
    });
    expect(reached).toBe(false);
    expect(read().status).toBe(413);
  });

  it('body at limit passes with length', async () => {
    const before = await spoolFiles();
    const context = uploadContext(['01234', '56789'], [['Transfer-Encoding', 'chunked']]);
    let body = '';
    let length: string | undefined;
    await createBuffering({ maxRequestBodyBytes: 10, memRequestBodyBytes: 3 })(context, async () => {
      length = context.request.headers['content-length'];
      body = await readAll(context.request);
    });
    expect(length).toBe('10');
    expect(body).toBe('0123456789');
    expect(context.request.rawHeaders).toEqual(['content-length', '10']);
    expect(await spoolFiles()).toEqual(before);
  });

  it('sends 100 Continue before reading', async () => {
    const context = uploadContext(['abc'], [['Content-Length', '3'], ['Expect', '100-continue']]);
    const read = captureResponse(context.response);
    let expectField: string | undefined = 'unset';
    await createBuffering({})(context, async () => {
      expectField = context.request.headers.expect;
      context.response.writeHead(204);
      context.response.end();
    });
    expect(read().raw.startsWith('HTTP/1.1 100 Continue')).toBe(true);
    expect(expectField).toBeUndefined();
  });

  it('request without body untouched', async () => {
    const context = contextFor({ method: 'GET', url: '/' });
    const original = context.request;
    await createBuffering({ maxRequestBodyBytes: 1 })(context, async () => {
      expect(context.request).toBe(original);
    });
    expect(context.request).toBe(original);
  });
});

describe('buffering response', () => {
  /** Runs the middleware with a server that writes `chunks` after `headers`. */
  async function respond(settings: Record<string, unknown>, chunks: string[], headers: string[] = ['Content-Type', 'text/plain'], method = 'GET') {
    const context = contextFor({ method, url: '/' });
    const request = context.request as IncomingMessage;
    request.httpVersionMajor = 1;
    request.httpVersionMinor = 1;
    const read = captureResponse(context.response);
    const finished = new Promise((resolve) => context.response.once('finish', resolve));
    await createBuffering(settings)(context, async () => {
      context.response.writeHead(200, headers);
      for (const chunk of chunks) context.response.write(chunk);
      context.response.end();
    });
    await finished;
    return read();
  }

  it('adds Content-Length to held body', async () => {
    const response = await respond({}, ['ab', 'cd', 'ef']);
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe('6');
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.body).toBe('abcdef');
  });

  it('spilled body arrives whole', async () => {
    const response = await respond({ memResponseBodyBytes: 2 }, ['ab', 'cd', 'ef']);
    expect(response.headers['content-length']).toBe('6');
    expect(response.body).toBe('abcdef');
  });

  it('body over limit gets 500', async () => {
    const response = await respond({ maxResponseBodyBytes: 5 }, ['ab', 'cd', 'ef']);
    expect(response.status).toBe(500);
    expect(response.body).toBe('500 Internal Server Error\n');
  });

  it('declared length over limit gets 500', async () => {
    const response = await respond({ maxResponseBodyBytes: 5 }, ['abcdef'], ['Content-Length', '6']);
    expect(response.status).toBe(500);
  });

  it('body at limit passes', async () => {
    const response = await respond({ maxResponseBodyBytes: 6 }, ['abc', 'def']);
    expect(response.status).toBe(200);
    expect(response.body).toBe('abcdef');
  });

  it('HEAD keeps missing length', async () => {
    const response = await respond({}, [], ['Content-Type', 'text/plain'], 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBeUndefined();
  });
});

describe('buffering socket', () => {
  it('replay request keeps client socket', async () => {
    const socket = new Socket();
    const context = uploadContext(['x'], [['Content-Length', '1']]);
    Object.defineProperty(context.request, 'socket', { value: socket });
    await createBuffering({})(context, async () => {
      expect(context.request.socket).toBe(socket);
    });
  });
});

describe('buffering logs', () => {
  it('failed temporary file is a warning', async () => {
    const { logger, records } = captureLogs('info');
    // os.tmpdir() reads TMPDIR on every call, so the spool's file goes to a folder that does not exist.
    const missing = join(tmpdir(), `berth-missing-${process.pid}`, 'nested');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = missing;
    try {
      const context = { ...uploadContext(['01234', '56789'], [['Transfer-Encoding', 'chunked']]), router: 'upload@docker' };
      let reached = false;
      const run = createBuffering({ memRequestBodyBytes: 3 }, logger)(context, async () => {
        reached = true;
      });
      await expect(run).rejects.toThrow('writing the buffered body to');
      expect(reached).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }

    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: LEVEL.warn, msg: 'writing a buffered body to a temporary file failed, so the request failed', routerName: 'upload@docker', suppressed: 0 });
    expect(String(records[0]?.path)).toMatch(new RegExp(`^${missing}/berth-buffer-`));
    expect(records[0]?.err).toMatchObject({ code: 'ENOENT' });
  });

  it('spool reports failed write once', async () => {
    const errors: Array<{ operation: string; code: unknown }> = [];
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(tmpdir(), `berth-missing-${process.pid}`);
    let spool: BodySpool;
    try {
      spool = new BodySpool(1, (error, operation) => errors.push({ operation, code: (error as NodeJS.ErrnoException).code }));
      spool.append(Buffer.from('ab'));
      spool.append(Buffer.from('cd'));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    await expect(spool.flushed()).rejects.toThrow('writing the buffered body to');
    await spool.dispose();
    expect(errors).toEqual([{ operation: 'write', code: 'ENOENT' }]);
  });
});
