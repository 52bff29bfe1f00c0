import { describe, expect, test } from 'vitest';

import { Rejected, parseAddress, parseEndpoint } from '../../src/config/values.js';

describe('parseAddress', () => {
  const accepted: Array<{ desc: string; text: string; host: string; port: number; address?: string }> = [
    { desc: 'port only', text: ':80', host: '', port: 80 },
    { desc: 'IPv4 host', text: '127.0.0.1:8080', host: '127.0.0.1', port: 8080 },
    { desc: 'IPv6 host in brackets', text: '[::1]:80', host: '::1', port: 80 },
    { desc: 'IPv6 wildcard', text: '[::]:443', host: '::', port: 443 },
    { desc: 'host name', text: 'localhost:3000', host: 'localhost', port: 3000 },
    { desc: 'highest port', text: ':65535', host: '', port: 65535 },
    { desc: 'Traefik /tcp suffix', text: ':80/tcp', host: '', port: 80, address: ':80' },
  ];
  for (const { desc, text, host, port, address } of accepted) {
    test(desc, () => {
      expect(parseAddress(text)).toEqual({ address: address ?? text, host, port });
    });
  }

  const rejected: Array<{ desc: string; text: string; reason: string }> = [
    { desc: 'empty', text: '', reason: 'the address is empty' },
    { desc: 'bare port', text: '80', reason: 'write ":80"' },
    { desc: 'host without port', text: 'example.com', reason: 'write "example.com:PORT"' },
    { desc: 'IPv6 without port', text: '[::1]', reason: 'write "[::1]:PORT"' },
    { desc: 'IPv6 without brackets', text: '::1:80', reason: 'in brackets' },
    { desc: 'invalid IPv6', text: '[zz]:80', reason: '"zz" is not an IPv6 address' },
    { desc: 'port zero', text: ':0', reason: 'from 1 to 65535' },
    { desc: 'port too high', text: ':65536', reason: 'from 1 to 65535' },
    { desc: 'port not a number', text: ':http', reason: 'from 1 to 65535' },
    { desc: 'empty port', text: '127.0.0.1:', reason: 'from 1 to 65535' },
    { desc: 'invalid IPv4', text: '300.1.1.1:80', reason: 'neither an IP address nor a host name' },
    { desc: 'host with space', text: 'my host:80', reason: 'neither an IP address nor a host name' },
    { desc: 'UDP', text: ':53/udp', reason: 'UDP entry points are not supported' },
    { desc: 'unknown protocol', text: ':80/sctp', reason: 'unknown protocol "sctp"' },
  ];
  for (const { desc, text, reason } of rejected) {
    test(`rejects ${desc}`, () => {
      const result = parseAddress(text);
      expect(result).toBeInstanceOf(Rejected);
      expect((result as Rejected).reason).toContain(reason);
    });
  }
});

describe('parseEndpoint', () => {
  const accepted = [
    'unix:///var/run/docker.sock',
    'tcp://127.0.0.1:2375',
    'tcp://[::1]:2376',
    'http://127.0.0.1:2375',
    'https://docker.internal',
  ];
  for (const text of accepted) {
    test(`accepts ${text}`, () => {
      expect(parseEndpoint(text)).toBe(text);
    });
  }

  const rejected: Array<{ desc: string; text: string; reason: string }> = [
    { desc: 'ssh', text: 'ssh://user@host', reason: 'allowed forms are unix:///PATH' },
    { desc: 'npipe', text: 'npipe:////./pipe/docker_engine', reason: 'allowed forms are unix:///PATH' },
    { desc: 'bare path', text: '/var/run/docker.sock', reason: 'allowed forms are unix:///PATH' },
    { desc: 'relative unix path', text: 'unix://docker.sock', reason: 'must be absolute' },
    { desc: 'unix root only', text: 'unix:///', reason: 'must be absolute' },
    { desc: 'tcp without port', text: 'tcp://127.0.0.1', reason: 'needs a port' },
    { desc: 'tcp port out of range', text: 'tcp://127.0.0.1:99999', reason: 'not a valid URL' },
    { desc: 'empty', text: '', reason: 'allowed forms are unix:///PATH' },
  ];
  for (const { desc, text, reason } of rejected) {
    test(`rejects ${desc}`, () => {
      const result = parseEndpoint(text);
      expect(result).toBeInstanceOf(Rejected);
      expect((result as Rejected).reason).toContain(reason);
    });
  }
});
