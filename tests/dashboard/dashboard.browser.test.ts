/**
 * The dashboard in a real browser (Debian's chromium via playwright-core) against the real server
 * (`crampguard serve`, SQLite in a temp DATA_DIR): sign up, upload, read the run page; follow a live run fed
 * by a watch over socket.io; play a stored run on the simulator and compare with `crampguard analyze`.
 * Screenshots go to test-artifacts/dashboard/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_DEFAULTS, resolveProfile } from '../../alerts/profile.js';
import type { Alert, Report } from '../../alerts/types.js';
import { PALETTE } from '../../src/dashboard/web/src/palette.js';
import {
  ROOT,
  browserSkipReason,
  collectPageErrors,
  launchBrowser,
  pixelsInColour,
  snap,
  startServer,
  type RunningServer,
} from './harness.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`[dashboard] ${skipReason}`);

/** Two hours, hot, drifting: eleven prompts of three kinds with the default profile. */
const FIXTURE = join(ROOT, 'fixtures', 'scenarios', 'hot-long-drift.fit');
/** A real watch's run, and a real multisport file whose running legs alone are analysed. */
const RUNNING = join(ROOT, 'fixtures', 'fit', 'roznet__FitFileParser', 'running.fit');
const MULTISPORT = join(ROOT, 'fixtures', 'fit', 'dtcooper__python-fitparse', 'activity-large-fenxi2-multisport.fit');

/** What a prompt list shows, in order: enough to tell two prompts apart. */
type Shown = { t: number; kind: string; message: string };
const shownOf = (alerts: readonly Alert[]): Shown[] => alerts.map((a) => ({ t: a.t, kind: a.kind, message: a.message }));

async function promptsOnPage(page: Page): Promise<Shown[]> {
  // Runs in the page; typed structurally because the test project has no DOM lib.
  type Item = { dataset: Record<string, string | undefined>; querySelector(s: string): { textContent: string | null } | null };
  return page.$$eval('[data-testid=prompts] > li', (items) =>
    (items as unknown as Item[]).map((li) => ({
      t: Number(li.dataset.t),
      kind: String(li.dataset.kind),
      message: li.querySelector('.prompt-message')?.textContent ?? '',
    })),
  );
}

/** Chromium start-up and the analyses take seconds each on a busy 2-core machine running the whole suite. */
const SLOW_MS = 150_000;
const POLL = { timeout: 20_000 };

describe.skipIf(skipReason !== null)('dashboard in chromium', { timeout: SLOW_MS }, () => {
  let server: RunningServer;
  let browser: BrowserContext; // one persistent context: pages share the sign-in, like tabs
  let closeBrowser: () => Promise<void>;
  let token = '';
  let uploadedId = '';
  let uploadedReport: Report;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.ok, `${path} → ${res.status}`).toBe(true);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    server = await startServer();
    ({ context: browser, close: closeBrowser } = await launchBrowser());
  }, SLOW_MS);

  afterAll(async () => {
    await closeBrowser?.();
    await server?.stop();
  }, SLOW_MS);

  it('signs up, uploads a FIT file and shows the run with charts and the report\'s prompts', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(server.url);
    await page.waitForURL(/#\/signin$/);
    await snap(page, '01-signin');

    await page.fill('#name', 'Ada Runner');
    await page.click('text=Create athlete');
    token = (await page.textContent('[data-testid=token]'))!.trim();
    expect(token.length).toBeGreaterThan(10);
    await page.click('text=Continue to my runs');
    await page.waitForSelector('text=No runs yet');
    await snap(page, '02-runs-empty', false);

    // Not a FIT file: the server's one-line reason shows, and the page stays put.
    await page.setInputFiles('#fit-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a fit file at all') });
    await expect.poll(() => page.textContent('.upload .status.error-text'), { timeout: 20_000 }).toMatch(/\w{3,}.*\w{3,}/);
    expect(page.url()).toMatch(/#\/runs$/);

    // Dropped on the drop zone, as from a file manager.
    const dropped = await page.evaluateHandle(
      `(() => { const bin = atob(${JSON.stringify(readFileSync(FIXTURE).toString('base64'))}); const bytes = new Uint8Array(bin.length);
         for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
         const dt = new DataTransfer(); dt.items.add(new File([bytes], 'hot-long-drift.fit')); return dt; })()`,
    );
    await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: dropped });
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: 60_000 });
    uploadedId = decodeURIComponent(page.url().split('#/runs/')[1]!);
    await page.waitForSelector('[data-testid=prompts], [data-testid=prompts-empty]');

    const run = await api<{ report: Report }>(`/api/runs/${encodeURIComponent(uploadedId)}`);
    uploadedReport = run.report;
    expect(await promptsOnPage(page)).toEqual(shownOf(uploadedReport.alerts));
    if (uploadedReport.alerts.length === 0) await page.waitForSelector('[data-testid=prompts-empty]');

    // Each chart draws its series in its own colour: a blank or missing chart has none of it.
    // The fluid-deficit panel draws the report's `fluid` series (the engine's estimate over time).
    expect(uploadedReport.fluid?.length).toBe(uploadedReport.risk.length);
    for (const [panel, colour] of [['hr', PALETTE.hr], ['pace', PALETTE.pace], ['cadence', PALETTE.cadence], ['risk', PALETTE.risk], ['fluid', PALETTE.fluid]] as const) {
      const inked = () => pixelsInColour(page, `[data-panel=${panel}] canvas`, colour).then(([n]) => n ?? 0);
      await expect.poll(inked, { ...POLL, message: `${panel} chart pixels` }).toBeGreaterThan(150);
    }
    // One marker per prompt on the time line; hovering one shows its why.
    expect(await page.locator('.marker-strip .marker').count()).toBe(uploadedReport.alerts.length);
    if (uploadedReport.alerts.length > 0) {
      await page.locator('.marker-strip .marker').first().hover();
      await expect.poll(() => page.textContent('.marker-tip'), POLL).toContain(uploadedReport.alerts[0]!.why);
      // Keyboard: focusing the last marker shows its why too.
      await page.mouse.move(0, 0);
      await page.locator('.marker-strip .marker').last().focus();
      await expect.poll(() => page.textContent('.marker-tip'), POLL).toContain(uploadedReport.alerts.at(-1)!.why);
    }
    for (const key of Object.keys(uploadedReport.metrics)) {
      expect(await page.locator(`[data-metric="${key}"]`).count(), key).toBe(1);
    }
    await snap(page, '03-run');

    // Zoom and pan from the keyboard; a prompt chosen in the list brings its moment into view.
    const range = async () => {
      const [from, to] = await Promise.all([page.getAttribute('.chart-stack', 'data-from'), page.getAttribute('.chart-stack', 'data-to')]);
      return { from: Number(from), to: Number(to) };
    };
    const whole = await range();
    await page.focus('.chart-stack');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    const zoomed = await range();
    expect(zoomed.to - zoomed.from).toBeCloseTo((whole.to - whole.from) / 4, -1);
    await page.keyboard.press('ArrowRight');
    expect((await range()).from).toBeGreaterThan(zoomed.from);
    await page.keyboard.press('0');
    expect(await range()).toEqual(whole);
    if (uploadedReport.alerts.length > 0) {
      const last = uploadedReport.alerts.at(-1)!;
      await page.locator('[data-testid=prompts] .prompt-select').last().press('Enter');
      const around = await range();
      expect(around.to - around.from).toBeLessThan(whole.to - whole.from);
      expect(around.from).toBeLessThanOrEqual(last.t);
      expect(around.to).toBeGreaterThanOrEqual(last.t);
    }

    // The runs list shows the upload with its prompt count and peak risk from the list endpoint alone.
    const runFetches: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/runs\/[^/?]+$/.test(new URL(r.url()).pathname)) runFetches.push(r.url());
    });
    await page.click('text=← Runs');
    const row = page.locator(`tr[data-run-id="${uploadedId}"]`);
    await expect.poll(() => row.locator('[data-col=prompts]').textContent(), POLL).toBe(String(uploadedReport.alerts.length));
    const peak = Math.max(...uploadedReport.risk.map((p) => p.score));
    expect(await row.locator('[data-col=risk]').textContent()).toContain(String(Math.round(peak)));
    expect(runFetches).toEqual([]);
    await snap(page, '04-runs', false);

    // Phone-sized: the run page still lays out without sideways scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(uploadedId)}`);
    await page.waitForSelector('[data-panel=hr] canvas');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await snap(page, '05-run-phone');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows a live run and shows its prompts as the watch receives them', async () => {
    expect(uploadedReport, 'needs the upload test').toBeDefined();
    const samples = await api<{ columns: Record<string, (number | null)[]> }>(`/api/runs/${encodeURIComponent(uploadedId)}/samples`);
    const cols = samples.columns;
    const n = cols.t!.length;
    const watch: Socket = io(`${server.url}/watch`, { transports: ['websocket'], auth: { token } });
    const told: Alert[] = [];
    watch.on('alert', (a: Alert) => told.push(a));
    await new Promise<void>((resolve, reject) => {
      watch.once('connect', () => resolve());
      watch.once('connect_error', reject);
    });
    const runId = `test-live-${Date.now()}`;
    const start = await watch.timeout(10_000).emitWithAck('start', { runId, startTime: uploadedReport.startTime ?? new Date().toISOString() });
    expect(start.ok).toBe(true);

    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/#/live`);
    await page.click(`a[href="#/live/${encodeURIComponent(start.id)}"]`);
    await page.waitForSelector('[data-testid=live-status]:text("live")');

    // The watch streams the run in batches of five minutes, as a companion would after a signal loss.
    let seq = 0;
    for (let i = 0; i < n; i += 300) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + 300); j++) {
        const row: Record<string, number> = { t: cols.t![j]! };
        for (const f of ['hr', 'cadence', 'speed', 'distance', 'altitude', 'temperature']) {
          const v = cols[f]?.[j];
          if (typeof v === 'number') row[f] = v;
        }
        batch.push(row);
      }
      seq++;
      let ack = await watch.timeout(10_000).emitWithAck('samples', { runId, seq, samples: batch });
      // Faster than the server's samples budget (SOCKET_SAMPLES_PER_S): wait as told and resend, as a watch would.
      for (let tries = 0; !ack.ok && ack.error?.code === 'RATE_LIMITED' && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, ack.retryAfterMs ?? 500));
        ack = await watch.timeout(10_000).emitWithAck('samples', { runId, seq, samples: batch });
      }
      expect(ack.ok, JSON.stringify(ack)).toBe(true);
      if (seq === 5) {
        await expect.poll(() => pixelsInColour(page, '[data-panel=hr] canvas', PALETTE.hr).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
        await snap(page, '06-live-midway', false);
      }
    }
    const end = await watch.timeout(60_000).emitWithAck('end', { runId });
    expect(end.ok).toBe(true);
    await page.waitForSelector('[data-testid=live-status]:text("finished")');
    // Every prompt the watch was told appears on the dashboard, in order, and nothing else.
    await expect.poll(async () => (await promptsOnPage(page)).length, { timeout: 10_000 }).toBe(told.length);
    expect(await promptsOnPage(page)).toEqual(shownOf(told));
    const [inked] = await pixelsInColour(page, '[data-panel=hr] canvas', PALETTE.hr);
    expect(inked).toBeGreaterThan(150);
    // Live risk events carry the engine's fluid-deficit estimate: the live view charts it too.
    await expect.poll(() => pixelsInColour(page, '[data-panel=fluid] canvas', PALETTE.fluid).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
    if (told.length > 0) expect(await page.textContent('[data-testid=watch-message]')).toBe(told.at(-1)!.message);
    await snap(page, '07-live-finished');
    watch.disconnect();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('plays a stored run on the simulator and shows the prompts `crampguard analyze` gives for the file', async () => {
    expect(uploadedId, 'needs the upload test').not.toBe('');
    // The athlete has an empty profile, so the upload ran with the engine's defaults, as analyze does.
    const out = execFileSync(process.execPath, [join(ROOT, 'bin', 'crampguard.js'), 'analyze', FIXTURE, '--json'], { encoding: 'utf8' });
    const analyzed = JSON.parse(out.trim().split('\n').at(-1)!) as Report;

    const listedBefore = await api<{ runs: { id: string }[] }>('/api/runs');
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/#/simulator/${encodeURIComponent(uploadedId)}`);
    await page.selectOption('#sim-speed', '1000');
    await page.click('[data-testid=sim-start]');
    // Either the comparison appears or the status says what went wrong (shown in the failure).
    await page.waitForSelector('[data-testid=sim-compare], form .status .error', { timeout: 100_000 });
    expect(await page.locator('form .status .error').count(), (await page.textContent('form .status')) ?? '').toBe(0);
    expect(await promptsOnPage(page)).toEqual(shownOf(analyzed.alerts));
    expect(await page.getAttribute('[data-testid=sim-compare]', 'data-same')).toBe('yes');
    // The play is a replay of the stored run: the runs list does not grow by it.
    expect((await api<{ runs: { id: string }[] }>('/api/runs')).runs.map((r) => r.id)).toEqual(listedBefore.runs.map((r) => r.id));
    await snap(page, '08-simulator');
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'), POLL).toBeLessThanOrEqual(1);
    await snap(page, '08-simulator-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('plays running.fit (hot, as uploaded) and the multisport file for fresh athletes with the same prompts as their reports', { timeout: 2 * SLOW_MS }, async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const cases = [
      // The upload's weather is stored with the run and sent again by the simulator.
      { file: RUNNING, query: '?temp=29&humidity=70', conditions: { tempC: 29, humidity: 70 } },
      // Only the running legs are analysed, and the engine is told the sport: both come from the one feed.
      { file: MULTISPORT, query: '', conditions: null },
    ];
    try {
      for (const { file, query, conditions } of cases) {
        // A fresh athlete per file: the server gives uploads and live runs the athlete's learned profile.
        const created = await fetch(`${server.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Fresh Runner' }) });
        const fresh = ((await created.json()) as { token: string }).token;
        const upload = await fetch(`${server.url}/api/runs${query}`, { method: 'POST', headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/octet-stream' }, body: readFileSync(file) });
        expect(upload.status).toBe(201);
        const { id } = (await upload.json()) as { id: string };
        const asFresh = async <T>(path: string, method = 'GET'): Promise<T> => {
          const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${fresh}` } });
          expect(res.ok, `${method} ${path} → ${res.status}`).toBe(true);
          return (await res.json()) as T;
        };
        const play = async () => {
          await page.goto(server.url);
          await page.evaluate(`localStorage.setItem('crampguard.token', ${JSON.stringify(fresh)})`);
          await page.goto(`${server.url}/#/simulator/${encodeURIComponent(id)}`);
          await page.selectOption('#sim-speed', '1000');
          await page.click('[data-testid=sim-start]');
          await page.waitForSelector('[data-testid=sim-compare], form .status .error', { timeout: 2 * SLOW_MS });
          expect(await page.locator('form .status .error').count(), (await page.textContent('form .status')) ?? '').toBe(0);
        };
        // The upload teaches the athlete's model (one run is enough for some fields), yet the replay is analysed with
        // the settings its report used (the server knows a replay by its start instant), so it plays the same.
        const stored = await asFresh<{ report: Report; conditions: unknown; legs: { running: boolean }[] }>(`/api/runs/${encodeURIComponent(id)}`);
        expect(stored.conditions).toEqual(conditions);
        if (file === MULTISPORT) expect(stored.legs.filter((l) => !l.running).length).toBeGreaterThan(0);
        expect(stored.report.alerts.length).toBeGreaterThan(0);

        await play();
        expect(await promptsOnPage(page), file).toEqual(shownOf(stored.report.alerts));
        expect(await page.getAttribute('[data-testid=sim-compare]', 'data-same'), (await page.textContent('[data-testid=sim-compare]')) ?? '').toBe('yes');
        expect(await page.textContent('[data-testid=sim-compare] h2')).toBe(`Same prompts as the report (${stored.report.alerts.length})`);
      }
    } finally {
      // The other tests go on as the first athlete.
      await page.evaluate(token ? `localStorage.setItem('crampguard.token', ${JSON.stringify(token)})` : `localStorage.removeItem('crampguard.token')`);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the run API\'s laps as dashed lines and its pauses as shaded bands on the charts', async () => {
    expect(token, 'needs the upload test').not.toBe('');
    const post = (file: string) =>
      fetch(`${server.url}/api/runs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: readFileSync(join(ROOT, 'fixtures', 'scenarios', file)) })
        .then((r) => r.json() as Promise<{ id: string }>);
    const paused = await post('pause-mid-run.fit');
    const run = await api<{ laps: unknown[]; pauses: unknown[] }>(`/api/runs/${encodeURIComponent(paused.id)}`);
    expect(run.pauses.length).toBeGreaterThan(0);
    expect(run.laps.length).toBeGreaterThan(1);
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    // Lap-grey pixels (dashed lines) and faint translucent grey ones (the pause band) on the HR chart.
    const overlayPixels = (): Promise<{ lap: number; pause: number }> =>
      page.$eval('[data-panel=hr] canvas', (el) => {
        const canvas = el as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let lap = 0;
        let pause = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
          const grey = Math.abs(r - g) < 6 && Math.abs(g - b) < 6;
          if (grey && a > 90 && Math.abs(r - 0x6b) < 12) lap++; // a 1 px line straddles two pixels
          else if (grey && a >= 25 && a <= 50 && Math.abs(r - 120) < 12) pause++;
        }
        return { lap, pause };
      });
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(paused.id)}`);
    await expect.poll(() => pixelsInColour(page, '[data-panel=hr] canvas', PALETTE.hr).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
    const withOverlays = await overlayPixels();
    // The same kind of run with one lap and no pause: neither overlay.
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(uploadedId)}`);
    await expect.poll(() => pixelsInColour(page, '[data-panel=hr] canvas', PALETTE.hr).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
    const without = await overlayPixels();
    expect(withOverlays.pause).toBeGreaterThan(500);
    expect(without.pause).toBeLessThan(50);
    expect(withOverlays.lap - without.lap, JSON.stringify({ withOverlays, without })).toBeGreaterThan(40);
    expect(errors).toEqual([]);
    await page.close();
  });
  it('shows what the engine assumes for the profile, saves it, and keeps a cramp journal', async () => {
    const res = await fetch(`${server.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bo', profile: { hrMax: 185 } }) });
    const { token } = (await res.json()) as { token: string };
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/#/signin`);
    await page.fill('#token', 'not-a-real-token');
    await page.click('form:has(#token) button[type=submit]');
    await page.waitForSelector('text=That token was not recognised.');
    await page.fill('#token', token);
    await page.click('form:has(#token) button[type=submit]');
    await page.waitForURL(/#\/runs$/);

    await page.click('nav >> text=Profile');
    const before = resolveProfile({ hrMax: 185 }, PROFILE_DEFAULTS).notes;
    const shown = async () => (await page.locator('[data-testid=assumptions] li').allTextContents()).map((t) => t.toLowerCase());
    await expect.poll(shown, POLL).toEqual(before.map((n) => n.toLowerCase()));
    expect(await page.inputValue('#p-hrMax')).toBe('185');
    await page.fill('#p-massKg', '61.5');
    await page.click('text=Save profile');
    const after = resolveProfile({ hrMax: 185, massKg: 61.5 }, PROFILE_DEFAULTS).notes;
    await expect.poll(shown, POLL).toEqual(after.map((n) => n.toLowerCase()));
    expect(after.length).toBe(before.length - 1);
    await snap(page, '09-profile');

    // A cramp in a recorded run links to it, with the time into the run.
    const upload = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: readFileSync(FIXTURE) });
    const { id: runId } = (await upload.json()) as { id: string };
    await page.click('nav >> text=Cramp journal');
    await page.waitForSelector('text=No cramps logged');
    await page.selectOption('#c-muscle', 'hamstring');
    await page.fill('#c-severity', '4');
    await page.selectOption('#c-run', runId);
    await page.fill('#c-minute', '41');
    await page.fill('#c-note', 'last 3 km, hot day');
    await page.click('text=Add to journal');
    const entry = page.locator('[data-testid=journal] li:has-text("hamstring")');
    await entry.waitFor();
    expect(await entry.textContent()).toContain('last 3 km, hot day');
    expect(await entry.locator(`a[href="#/runs/${runId}"]`).textContent()).toContain('41:00');
    await snap(page, '10-journal');
    expect(errors).toEqual([]);
    await page.close();
  });
});

