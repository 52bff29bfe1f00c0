import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { FileProviderConfig } from '../../../src/config/types.js';
import type { ProviderConfig } from '../../../src/dynamic/model.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FileProvider } from '../../../src/providers/file/provider.js';
import { MemoryCertificateStore } from '../../../src/tls/store.js';
import { CertificateDirectory } from '../../tls/openssl.js';

const ROUTER_A = 'http:\n  routers:\n    a:\n      rule: Host(`a.test`)\n      service: s\n';
const ROUTER_B = 'http:\n  routers:\n    b:\n      rule: Host(`b.test`)\n      service: s\n';

let directory: string;
const providers: FileProvider[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'berth-file-provider-'));
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.stop()));
  rmSync(directory, { recursive: true, force: true });
});

interface Started {
  provider: FileProvider;
  configs: ProviderConfig[];
  /** Waits until `count` configurations have arrived in total and returns the last of them. */
  waitFor(count: number): Promise<ProviderConfig>;
}

async function startProvider(config: FileProviderConfig, certificates?: MemoryCertificateStore, logger: Logger = silentLogger()): Promise<Started> {
  const configs: ProviderConfig[] = [];
  const provider = new FileProvider({ config, logger, onConfig: (item) => configs.push(item), debounceMs: 20, ...(certificates ? { certificates } : {}) });
  providers.push(provider);
  await provider.start();
  const waitFor = async (count: number): Promise<ProviderConfig> => {
    for (let waited = 0; waited < 5_000; waited += 20) {
      const config = configs[count - 1];
      if (config !== undefined) return config;
      await sleep(20);
    }
    throw new Error(`expected ${count} configurations within 5 s, got ${configs.length}`);
  };
  return { provider, configs, waitFor };
}

/** Creates a logger that collects its JSON lines in `lines`. */
function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** Waits until the provider reports an error that contains `text`, so a reload started by the watcher has finished. */
async function waitForError(provider: FileProvider, text: string): Promise<void> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    if (provider.status().errors.some((error) => error.includes(text))) return;
    await sleep(20);
  }
  throw new Error(`expected an error containing ${JSON.stringify(text)} within 5 s, got ${JSON.stringify(provider.status().errors)}`);
}

describe('file provider with one file', () => {
  it('reads the file at start', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { configs, provider } = await startProvider({ filename: file, watch: false });
    expect(configs).toHaveLength(1);
    expect(Object.keys(configs[0]?.routers ?? {})).toEqual(['a']);
    expect(provider.status()).toMatchObject({ path: file, watch: false, files: [file], errors: [] });
  });

  it('reads a changed file again', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { waitFor } = await startProvider({ filename: file, watch: true });
    writeFileSync(file, ROUTER_B);
    expect(Object.keys((await waitFor(2)).routers)).toEqual(['b']);
  });

  it('follows an editor that renames a new file over the old one', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { waitFor } = await startProvider({ filename: file, watch: true });
    const temporary = join(directory, '.dynamic.yml.swp');
    writeFileSync(temporary, ROUTER_B);
    renameSync(temporary, file);
    expect(Object.keys((await waitFor(2)).routers)).toEqual(['b']);

    // The watch still works after the rename.
    writeFileSync(file, ROUTER_A);
    expect(Object.keys((await waitFor(3)).routers)).toEqual(['a']);
  });

  it('keeps the last good configuration while the file is invalid', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { provider, configs, waitFor } = await startProvider({ filename: file, watch: false });

    writeFileSync(file, 'http:\n  routers: [\n');
    await provider.reload();
    expect(configs).toHaveLength(1);
    expect(provider.status().errors).toHaveLength(1);
    expect(provider.status().errors[0]).toMatch(/is not valid YAML at line \d+.*; the configuration read from it before stays in use$/);

    writeFileSync(file, ROUTER_B);
    await provider.reload();
    expect(Object.keys((await waitFor(2)).routers)).toEqual(['b']);
    expect(provider.status().errors).toEqual([]);
  });

  it('keeps routers when a section has the wrong type', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { logger, lines } = memoryLogger();
    const { provider, configs, waitFor } = await startProvider({ filename: file, watch: true }, undefined, logger);

    const cases = [
      { yaml: 'http:\n  routers: 5\n', error: '"http.routers" (line 2) must be a mapping of router names to routers, not a single value' },
      { yaml: 'http: [1,2]\n', error: '"http" (line 1) must be a mapping with routers, services and middlewares, not a list' },
      { yaml: 'tls: "x"\n', error: '"tls" (line 1) must be a mapping with certificates, options and stores, not a single value' },
      { yaml: 'htttp:\n  routers: {}\n', error: 'unknown key "htttp" (line 1); did you mean "http"?' },
    ];
    for (const { yaml, error } of cases) {
      writeFileSync(file, yaml);
      await waitForError(provider, error);
      const expected = `file ${file} has an invalid structure: ${error}; the configuration read from it before stays in use`;
      expect(provider.status().errors).toEqual([expected]);
      expect(lines.filter((line) => line.level === 50).map((line) => line.problem)).toContain(expected);
      expect(configs).toHaveLength(1);
    }

    writeFileSync(file, ROUTER_B);
    expect(Object.keys((await waitFor(2)).routers)).toEqual(['b']);
    expect(provider.status().errors).toEqual([]);
  });

  it('starts with a section of the wrong type', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, 'http:\n  routers: 5\n');
    const { provider, configs } = await startProvider({ filename: file, watch: false });
    expect(configs[0]?.routers).toEqual({});
    expect(provider.status().errors).toEqual([`file ${file} has an invalid structure: "http.routers" (line 2) must be a mapping of router names to routers, not a single value`]);
  });

  it('does not apply a configuration that did not change', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { provider, configs } = await startProvider({ filename: file, watch: false });
    writeFileSync(file, `# a comment\n${ROUTER_A}`);
    await provider.reload();
    expect(configs).toHaveLength(1);
  });

  it('reports a missing file and applies an empty configuration', async () => {
    const file = join(directory, 'missing.yml');
    const { provider, configs } = await startProvider({ filename: file, watch: true });
    expect(configs[0]?.routers).toEqual({});
    expect(provider.status().errors).toEqual([`file ${file} cannot be read: it does not exist`]);
  });

  it('reads the file again on SIGHUP', async () => {
    const file = join(directory, 'dynamic.yml');
    writeFileSync(file, ROUTER_A);
    const { waitFor } = await startProvider({ filename: file, watch: false });
    writeFileSync(file, ROUTER_B);
    process.emit('SIGHUP');
    expect(Object.keys((await waitFor(2)).routers)).toEqual(['b']);
  });
});

describe('file provider with a directory', () => {
  it('reads YAML files of subdirectories and skips hidden ones', async () => {
    mkdirSync(join(directory, 'sub'));
    mkdirSync(join(directory, '..data'));
    writeFileSync(join(directory, 'a.yml'), ROUTER_A);
    writeFileSync(join(directory, 'sub', 'b.yaml'), ROUTER_B);
    writeFileSync(join(directory, '..data', 'a.yml'), ROUTER_A);
    writeFileSync(join(directory, 'notes.txt'), 'not configuration');
    writeFileSync(join(directory, 'old.toml'), '[http]');
    const { configs, provider } = await startProvider({ directory, watch: false });
    expect(Object.keys(configs[0]?.routers ?? {}).sort()).toEqual(['a', 'b']);
    expect(provider.status().files).toEqual([join(directory, 'a.yml'), join(directory, 'sub', 'b.yaml')]);
    expect(provider.status().warnings).toEqual([`file ${join(directory, 'old.toml')} is ignored: Berth reads YAML only; convert it to .yaml, whose keys are the same`]);
  });

  it('adds and removes files while watching', async () => {
    writeFileSync(join(directory, 'a.yml'), ROUTER_A);
    const { waitFor } = await startProvider({ directory, watch: true });
    writeFileSync(join(directory, 'b.yml'), ROUTER_B);
    expect(Object.keys((await waitFor(2)).routers).sort()).toEqual(['a', 'b']);
    unlinkSync(join(directory, 'a.yml'));
    expect(Object.keys((await waitFor(3)).routers)).toEqual(['b']);
  });

  it('keeps the items of an invalid file and serves the others', async () => {
    writeFileSync(join(directory, 'a.yml'), ROUTER_A);
    writeFileSync(join(directory, 'b.yml'), ROUTER_B);
    const { provider, waitFor } = await startProvider({ directory, watch: false });
    writeFileSync(join(directory, 'a.yml'), 'http: [\n');
    writeFileSync(join(directory, 'c.yml'), 'http:\n  routers:\n    c:\n      rule: Host(`c.test`)\n      service: s\n');
    await provider.reload();
    expect(Object.keys((await waitFor(2)).routers).sort()).toEqual(['a', 'b', 'c']);
    expect(provider.status().errors).toHaveLength(1);
  });

  it('keeps items of a file with a wrong section', async () => {
    writeFileSync(join(directory, 'a.yml'), ROUTER_A);
    writeFileSync(join(directory, 'b.yml'), ROUTER_B);
    const { provider, configs, waitFor } = await startProvider({ directory, watch: true });

    writeFileSync(join(directory, 'a.yml'), 'http:\n  routers: 5\n');
    await waitForError(provider, join(directory, 'a.yml'));
    expect(provider.status().errors).toEqual([
      `file ${join(directory, 'a.yml')} has an invalid structure: "http.routers" (line 2) must be a mapping of router names to routers, not a single value; the configuration read from it before stays in use`,
    ]);
    expect(configs).toHaveLength(1);

    // A change in another file still applies, and the broken file keeps its last good routers.
    writeFileSync(join(directory, 'c.yml'), 'http:\n  routers:\n    c:\n      rule: Host(`c.test`)\n      service: s\n');
    expect(Object.keys((await waitFor(2)).routers).sort()).toEqual(['a', 'b', 'c']);
  });

  it('starts with the files that are valid', async () => {
    writeFileSync(join(directory, 'a.yml'), 'tls: "x"\n');
    writeFileSync(join(directory, 'b.yml'), ROUTER_B);
    const { logger, lines } = memoryLogger();
    const { provider, configs } = await startProvider({ directory, watch: false }, undefined, logger);
    const expected = `file ${join(directory, 'a.yml')} has an invalid structure: "tls" (line 1) must be a mapping with certificates, options and stores, not a single value`;
    expect(Object.keys(configs[0]?.routers ?? {})).toEqual(['b']);
    expect(provider.status().errors).toEqual([expected]);
    expect(lines.filter((line) => line.level === 50).map((line) => line.problem)).toEqual([expected]);
  });

  it('reports a missing directory', async () => {
    const missing = join(directory, 'nope');
    const { provider } = await startProvider({ directory: missing, watch: false });
    expect(provider.status().errors[0]).toBe(`directory ${missing} cannot be read: it does not exist; the configuration read from it before stays in use`);
  });
});

describe('file provider certificates', () => {
  const certificates = new CertificateDirectory();
  afterAll(() => certificates.remove());

  it('serves valid certificates and reports invalid ones', async () => {
    const good = certificates.create({ commonName: 'good.example.test' });
    const other = certificates.create({ commonName: 'other.example.test' });
    const file = join(directory, 'tls.yml');
    writeFileSync(
      file,
      [
        'tls:',
        '  certificates:',
        `    - certFile: ${good.certFile}`,
        `      keyFile: ${good.keyFile}`,
        `    - certFile: ${other.certFile}`,
        `      keyFile: ${good.keyFile}`,
      ].join('\n'),
    );
    const store = await MemoryCertificateStore.create();
    const { provider } = await startProvider({ filename: file, watch: false }, store);
    expect(store.covers('good.example.test')).toBe(true);
    expect(store.covers('other.example.test')).toBe(false);
    expect(store.list().filter((info) => info.source === 'file').map((info) => info.sans)).toEqual([['good.example.test']]);
    expect(provider.status().errors).toEqual([
      `file ${file}: tls.certificates certificate ${other.certFile} is not served, because the private key in keyFile does not belong to the first certificate in certFile; check that the files are a pair and that the chain starts with the server certificate`,
    ]);
  });

  it('keeps the last good certificate while its file is broken', async () => {
    const good = certificates.create({ commonName: 'rotate.example.test' });
    const copy = join(directory, 'rotate.crt');
    writeFileSync(copy, good.certPem);
    const file = join(directory, 'tls.yml');
    writeFileSync(file, `tls:\n  certificates:\n    - certFile: ${copy}\n      keyFile: ${good.keyFile}\n`);
    const store = await MemoryCertificateStore.create();
    const { provider } = await startProvider({ filename: file, watch: false }, store);

    writeFileSync(copy, '-----BEGIN CERTIFICATE-----\nhalf written');
    await provider.reload();
    expect(store.covers('rotate.example.test')).toBe(true);
    expect(provider.status().errors[0]).toContain('the version loaded before stays in use');
  });

  it('replaces the default certificate and restores the generated one', async () => {
    const fallback = certificates.create({ commonName: 'fallback.example.test' });
    const file = join(directory, 'tls.yml');
    writeFileSync(file, `tls:\n  stores:\n    default:\n      defaultCertificate:\n        certFile: ${fallback.certFile}\n        keyFile: ${fallback.keyFile}\n`);
    const store = await MemoryCertificateStore.create();
    const generated = store.defaultCertificate.entry.certPem;
    const { provider } = await startProvider({ filename: file, watch: false }, store);
    expect(store.defaultCertificate.entry.certPem).toBe(fallback.certPem);

    writeFileSync(file, '');
    await provider.reload();
    expect(store.defaultCertificate.entry.certPem).toBe(generated);
  });

  it('inline PEM in the file', async () => {
    const inline = certificates.create({ commonName: 'inline.example.test' });
    const indent = (pem: string) => pem.trim().split('\n').map((line) => `          ${line}`).join('\n');
    const file = join(directory, 'tls.yml');
    writeFileSync(file, `tls:\n  certificates:\n    - certFile: |\n${indent(inline.certPem)}\n      keyFile: |\n${indent(inline.keyPem)}\n`);
    const store = await MemoryCertificateStore.create();
    const { provider } = await startProvider({ filename: file, watch: false }, store);
    expect(provider.status().errors).toEqual([]);
    expect(store.covers('inline.example.test')).toBe(true);
  });

  it('reads a renewed certificate when its file changes', async () => {
    const first = certificates.create({ commonName: 'renew.example.test' });
    const second = certificates.create({ commonName: 'renewed.example.test' });
    const certFile = join(directory, 'certs', 'site.crt');
    const keyFile = join(directory, 'certs', 'site.key');
    mkdirSync(join(directory, 'certs'));
    writeFileSync(certFile, first.certPem);
    writeFileSync(keyFile, first.keyPem);
    const file = join(directory, 'conf', 'tls.yml');
    mkdirSync(join(directory, 'conf'));
    writeFileSync(file, `tls:\n  certificates:\n    - certFile: ${certFile}\n      keyFile: ${keyFile}\n`);
    const store = await MemoryCertificateStore.create();
    await startProvider({ filename: file, watch: true }, store);
    expect(store.covers('renew.example.test')).toBe(true);

    writeFileSync(keyFile, second.keyPem);
    writeFileSync(certFile, second.certPem);
    for (let waited = 0; waited < 5_000 && !store.covers('renewed.example.test'); waited += 20) await sleep(20);
    expect(store.covers('renewed.example.test')).toBe(true);
    expect(store.covers('renew.example.test')).toBe(false);
  });
});
