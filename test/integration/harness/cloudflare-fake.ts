// A local stand-in for the part of Cloudflare's v4 API that the DNS-01 challenge uses, so the real
// `cloudflare` SDK can be tested through its base URL. TXT records it stores are published to
// challtestsrv, where pebble and Berth's propagation check read them.

import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { httpRequest } from './http.js';

/** What a credential may do. */
export interface FakePermissions {
  zoneRead: boolean;
  dnsEdit: boolean;
}

export interface FakeZone {
  id: string;
  name: string;
}

export interface FakeRecord {
  id: string;
  zoneId: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
}

/** One request as the fake received it. */
export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  authEmail: string | undefined;
  authKey: string | undefined;
  body: unknown;
  status: number;
  /** The `result` of the response envelope. */
  result: unknown;
  /** `name=content` of every TXT record present when the call arrived, before it was applied. */
  txtBefore: string[];
}

export interface CloudflareFakeOptions {
  /** challtestsrv management URL; without one, records are kept only here. */
  challtestsrvUrl?: string;
  zones: string[];
  /** Bearer tokens and what each may do. */
  tokens?: Record<string, Partial<FakePermissions>>;
  /** Global API keys by email. */
  apiKeys?: Record<string, string>;
}

export interface CloudflareFake {
  /** Base URL to give the SDK, ending in `/client/v4`. */
  baseUrl: string;
  calls: RecordedCall[];
  records(): FakeRecord[];
  zone(name: string): FakeZone;
  /** Adds a record as if someone else had created it. */
  addRecord(zoneName: string, name: string, content: string): Promise<FakeRecord>;
  close(): Promise<void>;
}

const ALL: FakePermissions = { zoneRead: true, dnsEdit: true };

export async function startCloudflareFake(options: CloudflareFakeOptions): Promise<CloudflareFake> {
  const zones: FakeZone[] = options.zones.map((name) => ({ id: randomBytes(16).toString('hex'), name }));
  const records: FakeRecord[] = [];
  const calls: RecordedCall[] = [];

  const publish = async (name: string): Promise<void> => {
    if (options.challtestsrvUrl === undefined) return;
    const host = `${name}.`;
    await post(options.challtestsrvUrl, '/clear-txt', { host });
    for (const record of records.filter((item) => item.type === 'TXT' && item.name === name)) {
      await post(options.challtestsrvUrl, '/set-txt', { host, value: record.content });
    }
  };

  const permissionsOf = (request: IncomingMessage): FakePermissions | undefined => {
    const authorization = request.headers.authorization;
    if (authorization?.startsWith('Bearer ')) {
      const granted = options.tokens?.[authorization.slice('Bearer '.length)];
      return granted === undefined ? undefined : { zoneRead: granted.zoneRead ?? false, dnsEdit: granted.dnsEdit ?? false };
    }
    const email = request.headers['x-auth-email'];
    const key = request.headers['x-auth-key'];
    if (typeof email === 'string' && typeof key === 'string' && options.apiKeys?.[email] === key) return ALL;
    return undefined;
  };

  const handle = async (request: IncomingMessage, body: unknown): Promise<{ status: number; payload: unknown }> => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/client\/v4/, '');
    const permissions = permissionsOf(request);
    if (permissions === undefined) return failure(401, 10000, 'Authentication error');

    if (request.method === 'GET' && path === '/user/tokens/verify') {
      if (!request.headers.authorization?.startsWith('Bearer ')) return failure(400, 6003, 'Invalid request headers');
      return success({ id: 'token-id', status: 'active' });
    }

    if (request.method === 'GET' && path === '/zones') {
      if (!permissions.zoneRead) return failure(403, 9109, 'Unauthorized to access requested resource');
      const name = url.searchParams.get('name');
      const found = zones.filter((zone) => name === null || zone.name === name);
      return list(found.map((zone) => ({ id: zone.id, name: zone.name, status: 'active', name_servers: ['ns.fake.invalid'] })), url);
    }

    const match = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(path);
    const zone = zones.find((item) => item.id === match?.[1]);
    if (match === null || zone === undefined) return failure(404, 7003, 'Could not route to the requested path');
    const recordId = match[2];

    if (request.method === 'GET' && recordId === undefined) {
      const name = url.searchParams.get('name.exact') ?? url.searchParams.get('name');
      const type = url.searchParams.get('type');
      const found = records.filter((record) => record.zoneId === zone.id && (name === null || record.name === name) && (type === null || record.type === type));
      return list(found.map(recordJson), url);
    }
    if (!permissions.dnsEdit) return failure(403, 10000, 'Authentication error');

    if (request.method === 'POST' && recordId === undefined) {
      const input = body as { type?: string; name?: string; content?: string; ttl?: number };
      const record: FakeRecord = { id: randomBytes(16).toString('hex'), zoneId: zone.id, type: input.type ?? '', name: input.name ?? '', content: input.content ?? '', ttl: input.ttl ?? 1 };
      records.push(record);
      await publish(record.name);
      return success(recordJson(record));
    }
    if (request.method === 'DELETE' && recordId !== undefined) {
      const index = records.findIndex((record) => record.id === recordId && record.zoneId === zone.id);
      if (index === -1) return failure(404, 81044, 'Record does not exist.');
      const [removed] = records.splice(index, 1);
      if (removed !== undefined) await publish(removed.name);
      return success({ id: recordId });
    }
    return failure(405, 10000, 'Method not allowed');
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      const body: unknown = text === '' ? undefined : JSON.parse(text);
      const url = new URL(request.url ?? '/', 'http://fake');
      const txtBefore = records.filter((record) => record.type === 'TXT').map((record) => `${record.name}=${record.content}`);
      handle(request, body).then(
        ({ status, payload }) => {
          calls.push({
            method: request.method ?? '',
            path: url.pathname.replace(/^\/client\/v4/, ''),
            query: Object.fromEntries(url.searchParams),
            authorization: request.headers.authorization,
            authEmail: headerText(request.headers['x-auth-email']),
            authKey: headerText(request.headers['x-auth-key']),
            body,
            status,
            result: (payload as { result?: unknown }).result,
            txtBefore,
          });
          const json = JSON.stringify(payload);
          response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
          response.end(json);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const zoneNamed = (name: string): FakeZone => {
    const zone = zones.find((item) => item.name === name);
    if (zone === undefined) throw new Error(`the fake has no zone ${name}`);
    return zone;
  };

  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    calls,
    records: () => records.map((record) => ({ ...record })),
    zone: zoneNamed,
    async addRecord(zoneName, name, content) {
      const record: FakeRecord = { id: randomBytes(16).toString('hex'), zoneId: zoneNamed(zoneName).id, type: 'TXT', name, content, ttl: 120 };
      records.push(record);
      await publish(name);
      return { ...record };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function recordJson(record: FakeRecord): Record<string, unknown> {
  return { id: record.id, zone_id: record.zoneId, type: record.type, name: record.name, content: record.content, ttl: record.ttl, proxied: false };
}

function success(result: unknown): { status: number; payload: unknown } {
  return { status: 200, payload: { success: true, errors: [], messages: [], result } };
}

/** Builds a list page in Cloudflare's envelope. Pages past the first are empty, which ends the SDK's iteration. */
function list(items: unknown[], url: URL): { status: number; payload: unknown } {
  const page = Number(url.searchParams.get('page') ?? '1');
  const perPage = Number(url.searchParams.get('per_page') ?? '100');
  const result = page === 1 ? items : [];
  return {
    status: 200,
    payload: { success: true, errors: [], messages: [], result, result_info: { page, per_page: perPage, count: result.length, total_count: items.length, total_pages: 1 } },
  };
}

function failure(status: number, code: number, message: string): { status: number; payload: unknown } {
  return { status, payload: { success: false, errors: [{ code, message }], messages: [], result: null } };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

async function post(base: string, path: string, body: unknown): Promise<void> {
  const response = await httpRequest(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (response.status !== 200) throw new Error(`challtestsrv ${path} returned ${response.status}: ${response.body}`);
}
