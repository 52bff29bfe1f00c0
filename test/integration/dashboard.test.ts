// The dashboard page in a real headless Chromium: it lists routers with their errors and services
// with their servers, and its explain form shows the result for a URL.

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { type BerthProcess, printBerthLogsOnFailure, startBerth, waitUntilRouted } from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { hostRouterLabels } from './harness/labels.js';

const CHROMIUM = '/usr/bin/chromium';
const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;
let browser: Browser | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  berth = await startBerth({ dockerSocket: inject('dockerSocket') });
  const port = await freePort();
  await docker.runHttpContainer({ name: 'dash-good', port, labels: hostRouterLabels('good', 'good.example.test', port) });
  await docker.runHttpContainer({
    name: 'dash-bad',
    port: await freePort(),
    labels: { 'traefik.http.routers.bad.rule': 'Host(`bad.example.test`) && (' },
  });
  await waitUntilRouted(berth, 'good.example.test', 'dash-good');

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await berth?.stop();
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

describe.skipIf(!existsSync(CHROMIUM))('dashboard', () => {
  it('lists routers with their errors', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(`${running().apiUrl}/`);

    expect(new URL(page.url()).pathname).toBe('/dashboard/');
    const good = page.locator('#routers tr[data-name="good@docker"]');
    await good.waitFor();
    expect(await good.locator('td').last().textContent()).toBe('enabled');

    const bad = page.locator('#routers tr[data-name="bad@docker"]');
    expect(await bad.locator('td').last().textContent()).toBe('disabled');
    expect(await bad.locator('.problem').first().textContent()).toContain('dash-bad');
    await page.close();
  });

  it('shows servers with their state', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(`${running().apiUrl}/dashboard/`);

    const service = page.locator('#services tr[data-name="good@docker"]');
    await service.waitFor();
    expect(await service.textContent()).toContain('UP');
    await page.close();
  });

  it('explains a request from the form', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(`${running().apiUrl}/dashboard/`);

    await page.fill('input[name=url]', 'http://good.example.test/x');
    await page.click('#explain button');
    const result = page.locator('#explain-result');
    await expect.poll(async () => result.textContent(), { timeout: 5_000 }).toContain('good@docker');
    await page.close();
  });
});
