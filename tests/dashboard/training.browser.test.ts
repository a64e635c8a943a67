/**
 * The athlete model in the dashboard, in a real browser against the real server: the profile page says where
 * each value comes from and re-analyses the runs on a click; the Training view draws its five charts.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/simulate.js';
import { writeFit } from '../../src/sim/write-fit.js';
import { historyConfigs } from '../athlete/history.js';
import { browserSkipReason, collectPageErrors, launchBrowser, snap, startServer, type RunningServer } from './harness.js';

const skipReason = browserSkipReason();
const SLOW_MS = 150_000;
const POLL = { timeout: 30_000 };

describe.skipIf(skipReason !== null)('athlete model in the dashboard', { timeout: SLOW_MS }, () => {
  let server: RunningServer;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let token = '';
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    server = await startServer();
    const created = await fetch(`${server.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Trainee', profile: { massKg: 68 } }) });
    token = ((await created.json()) as { token: string }).token;
    let longRun = '';
    for (const h of historyConfigs(3)) {
      const r = await fetch(`${server.url}/api/runs?temp=12&humidity=60`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: writeFit(simulate(h.config)) });
      expect(r.status).toBe(201);
      if (h.kind === 'long') longRun = ((await r.json()) as { id: string }).id;
    }
    await fetch(`${server.url}/api/cramps`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ runId: longRun, t: 5400, muscle: 'calf', severity: 3 }) });
    ({ context: browser, close: closeBrowser } = await launchBrowser());
    page = await browser.newPage();
    errors = collectPageErrors(page);
    await page.goto(server.url);
    // Runs in the page; typed structurally because the test project has no DOM lib.
    await page.evaluate((t) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('crampguard.token', t), token);
  }, SLOW_MS);

  afterAll(async () => {
    await closeBrowser?.();
    await server?.stop();
  });

  it('the profile page shows each value with its source, and re-analyses on a click', async () => {
    await page.goto(`${server.url}/#/profile`);
    const learned = page.locator('[data-testid=learned]');
    await learned.locator('tr[data-field=usualLongRunMin] .source').waitFor(POLL);
    expect(await learned.locator('tr[data-field=usualLongRunMin] .source').textContent()).toMatch(/^learned from [34] runs since \d+ Aug$/);
    expect(await learned.locator('tr[data-field=massKg] .source').textContent()).toBe('typed');
    expect(await learned.locator('tr[data-field=sweatRateMlPerH] .source').textContent()).toBe('assumed');
    await learned.locator('[data-testid=reanalyze]').click();
    type Doc = { document: { querySelector(s: string): { textContent: string | null } | null } };
    await page.waitForFunction(() => /^Done: 12 runs analysed again/.test((globalThis as unknown as Doc).document.querySelector('[data-testid=learned] .actions [role=status]')?.textContent ?? ''), undefined, POLL);
    await snap(page, 'athlete-profile');
    expect(errors).toEqual([]);
  });

  it('the Training view draws weekly volume, long runs, load ratio, decoupling and cramps', async () => {
    await page.goto(`${server.url}/#/training`);
    await page.locator('[data-testid=training] [data-chart=cramps] canvas').waitFor(POLL);
    for (const id of ['volume', 'long-runs', 'load-ratio', 'decoupling', 'cramps']) {
      expect(await page.locator(`[data-chart=${id}] canvas`).count(), id).toBeGreaterThan(0);
    }
    expect(await page.locator('nav a[href="#/training"][aria-current=page]').count()).toBe(1);
    await snap(page, 'training');
    expect(errors).toEqual([]);
  });
});
