import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { StorageFile, writeAtomically } from '../../../src/tls/acme/storage.js';

function directory(): string {
  return mkdtempSync(join(tmpdir(), 'berth-storage-'));
}

describe('ACME storage file', () => {
  test('missing file is empty', async () => {
    const storage = new StorageFile(join(directory(), 'acme.json'));
    await storage.load();
    expect(storage.problem).toBeUndefined();
    expect(storage.section('le')).toEqual({ Account: null, Certificates: null });
  });

  test('written with mode 0600 in Traefik layout', async () => {
    const path = join(directory(), 'nested', 'acme.json');
    const storage = new StorageFile(path);
    await storage.load();
    await storage.update('le', (section) => {
      section.Certificates = [{ domain: { main: 'a.example.test' }, certificate: 'Y2VydA==', key: 'a2V5', Store: 'default' }];
    });

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      le: { Account: null, Certificates: [{ domain: { main: 'a.example.test' }, certificate: 'Y2VydA==', key: 'a2V5', Store: 'default' }] },
    });
    // No temporary file is left next to it.
    expect(readdirSync(join(path, '..'))).toEqual(['acme.json']);
  });

  // Before, section('constructor') found Object's constructor function and structuredClone threw.
  test('resolver named constructor starts empty', async () => {
    const path = join(directory(), 'acme.json');
    const storage = new StorageFile(path);
    await storage.load();
    expect(storage.section('constructor')).toEqual({ Account: null, Certificates: null });

    await storage.update('constructor', (section) => {
      section.Certificates = [];
    });
    await storage.update('__proto__', (section) => {
      section.Certificates = [];
    });
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written)).toEqual(['constructor', '__proto__']);
  });

  test('other resolvers and unknown keys kept', async () => {
    const path = join(directory(), 'acme.json');
    writeFileSync(path, JSON.stringify({ other: { Account: null, Certificates: [], Extra: 1 } }), { mode: 0o600 });
    const storage = new StorageFile(path);
    await storage.load();
    await storage.update('le', (section) => {
      section.Certificates = [];
    });
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(written.other).toEqual({ Account: null, Certificates: [], Extra: 1 });
  });

  test('concurrent updates all applied', async () => {
    const path = join(directory(), 'acme.json');
    const storage = new StorageFile(path);
    await storage.load();
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        storage.update('le', (section) => {
          section.BerthDnsRecords = [...(section.BerthDnsRecords ?? []), { provider: 'cloudflare', zoneId: 'z', recordId: String(index), name: 'n' }];
        }),
      ),
    );
    const written = JSON.parse(readFileSync(path, 'utf8')) as { le: { BerthDnsRecords: unknown[] } };
    expect(written.le.BerthDnsRecords).toHaveLength(10);
  });

  test('unusable files reported and never written', async () => {
    const root = directory();
    const wide = join(root, 'wide.json');
    writeFileSync(wide, JSON.stringify({ le: { Account: null, Certificates: [] } }));
    chmodSync(wide, 0o644);
    const invalid = join(root, 'invalid.json');
    writeFileSync(invalid, '{ not json', { mode: 0o600 });
    const folder = join(root, 'folder.json');
    mkdirSync(folder);

    const cases: Array<[string, string, boolean]> = [
      [wide, 'has mode 0644', true],
      [invalid, 'is not valid JSON', false],
      [folder, 'is a directory', false],
    ];
    for (const [path, message, readable] of cases) {
      const storage = new StorageFile(path);
      await storage.load();
      expect(storage.problem?.message, path).toContain(message);
      expect(storage.problem?.readable, path).toBe(readable);
      await expect(storage.update('le', () => undefined), path).rejects.toThrow(message);
    }
    expect(readFileSync(invalid, 'utf8')).toBe('{ not json');
    expect(statSync(wide).mode & 0o777).toBe(0o644);
  });

  test('wide file still readable', async () => {
    const path = join(directory(), 'acme.json');
    writeFileSync(path, JSON.stringify({ le: { Account: null, Certificates: [{ domain: { main: 'x.example.test' }, certificate: '', key: '', Store: 'default' }] } }));
    chmodSync(path, 0o640);
    const storage = new StorageFile(path);
    await storage.load();
    expect(storage.section('le').Certificates).toHaveLength(1);
  });

  test('atomic write replaces whole content', async () => {
    const path = join(directory(), 'file.json');
    writeFileSync(path, 'old content that is longer than the new one');
    await writeAtomically(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
