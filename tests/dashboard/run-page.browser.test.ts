/**
 * The run page, the runs list, units, exports, the live view's clock and history, and the phone layout in a real
 * browser (Debian's chromium) against the real server (`crampguard serve`, SQLite in a temp DATA_DIR, no map
 * tiles: MAP_TILE_URL is empty, so the track is drawn alone). Screenshots go to test-artifacts/dashboard/.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFitSync } from '../../ingest/fit.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { PALETTE } from '../../src/dashboard/web/src/palette.js';
import { exportRun } from '../../src/export/run.js';
import { ROOT, browserSkipReason, collectPageErrors, launchBrowser, pixelsInColour, snap, startServer, type RunningServer } from './harness.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`[dashboard run page] ${skipReason}`);

const SLOW_MS = 150_000;
const POLL = { timeout: 20_000 };
const SCENARIOS = join(ROOT, 'fixtures', 'scenarios');
const fixture = (name: string) => readFileSync(join(SCENARIOS, name));

/** A scenario run with a GPS loop laid on it, as FIT: a run whose samples carry lat/lon. */
function withTrack(run: NormalizedRun): Uint8Array {
  const n = run.samples.length;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    lat[i] = 46.948 + 0.012 * Math.sin(a);
    lon[i] = 7.4474 + 0.018 * Math.cos(a);
  }
  return exportRun({ name: null, startTime: run.meta.startTime, meta: run.meta, samples: { ...run.samples, lat, lon }, report: null }, 'fit').body as Uint8Array;
}

/** "5:05" → 305. */
const seconds = (label: string) => label.split(':').reduce((s, part) => s * 60 + Number(part), 0);

describe.skipIf(skipReason !== null)('run page, list, units, exports and live view in chromium', { timeout: SLOW_MS }, () => {
  let server: RunningServer;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let token = '';
  let trackId = '';

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const upload = (bytes: Uint8Array, name = 'run.fit') => {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    return api<{ id: string }>('/api/runs', { method: 'POST', body: form });
  };
  const signedInPage = async (): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/signin`);
    await page.evaluate(`localStorage.setItem('crampguard.token', ${JSON.stringify(token)})`);
    return page;
  };

  beforeAll(async () => {
    server = await startServer({ MAP_TILE_URL: '' });
    ({ context: browser, close: closeBrowser } = await launchBrowser());
    const res = await fetch(`${server.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Map Runner' }) });
    ({ token } = (await res.json()) as { token: string });
    const up = await upload(withTrack(decodeFitSync(new Uint8Array(fixture('progression-run.fit')))), 'progression with track.fit');
    expect(up.status).toBe(201);
    trackId = up.body.id;
  }, SLOW_MS);

  afterAll(async () => {
    await closeBrowser?.();
    await server?.stop();
  }, SLOW_MS);

  it('shows the summary cards, the route map, laps and splits, readable axes, and switches the x axis to distance', async () => {
    const run = (await api<{ summary: Record<string, any>; report: Record<string, any> }>(`/api/runs/${trackId}`)).body;
    const page = await signedInPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(trackId)}`);
    await page.waitForSelector('[data-testid=summary-cards]');
    const card = (key: string) => page.textContent(`[data-card=${key}] dd`);
    const pace = run.summary.avgPaceSPerKm as number;
    expect(await card('pace')).toBe(`${Math.floor(Math.round(pace) / 60)}:${String(Math.round(pace) % 60).padStart(2, '0')} /km`);
    expect(await card('avg-hr')).toBe(`${Math.round(run.summary.avgHr)} bpm`);
    expect(await card('max-hr')).toBe(`${Math.round(run.summary.maxHr)} bpm`);
    expect(await card('cadence')).toBe(`${Math.round(run.summary.avgCadence)} spm`);
    expect(await card('elevation')).toBe(`${Math.round(run.summary.elevationGainM)} m`);
    expect(await card('sport')).toBe('Running');
    expect(await card('device')).toBe(run.summary.device);
    expect(await card('weather')).toMatch(/°C .*%/);
    expect(await card('distance')).toBe(`${(run.report.distanceM / 1000).toFixed(2)} km`);

    // The track on the map, without tiles (none configured), and a line saying so.
    await page.waitForSelector('[data-testid=route-map] path.leaflet-interactive');
    expect(await page.getAttribute('[data-testid=route-map]', 'data-tiles')).toBe('none');
    expect(await page.locator('[data-testid=route-map] img.leaflet-tile').count()).toBe(0);
    expect(await page.textContent('[data-testid=map-note]')).toMatch(/track is drawn alone/);
    const box = (await page.locator('[data-testid=route-map] path.leaflet-interactive').first().boundingBox())!;
    expect(box.width).toBeGreaterThan(100);

    // Per-km splits: one row each, paces as m:ss.
    const rows = page.locator('[data-testid=splits-table] tbody tr');
    expect(await rows.count()).toBe(run.summary.splits.km.length);
    expect(await rows.first().locator('[data-col=pace]').textContent()).toMatch(/^\d+:\d\d \/km$/);

    // Pace ticks a runner reads: m:ss on whole 5-second steps, more than one, none below zero; HR has several.
    await expect.poll(() => page.getAttribute('[data-panel=pace]', 'data-y-ticks'), POLL).toBeTruthy();
    const paceTicks = (await page.getAttribute('[data-panel=pace]', 'data-y-ticks'))!.split('|');
    expect(paceTicks.length, paceTicks.join(' ')).toBeGreaterThanOrEqual(2);
    for (const tick of paceTicks) {
      expect(tick).toMatch(/^\d{1,2}:\d\d$/);
      expect(seconds(tick) % 5, tick).toBe(0);
      expect(seconds(tick)).toBeGreaterThanOrEqual(60);
      expect(seconds(tick)).toBeLessThan(20 * 60);
    }
    const hrTicks = (await page.getAttribute('[data-panel=hr]', 'data-y-ticks'))!.split('|');
    expect(hrTicks.length, hrTicks.join(' ')).toBeGreaterThanOrEqual(3);
    await snap(page, '20-run-summary-map');

    // Distance on the x axis: the window spans the run's kilometres; back to time.
    const timeTo = Number(await page.getAttribute('.chart-stack', 'data-to'));
    await page.click('[data-x=distance]');
    await expect.poll(() => page.getAttribute('.chart-stack', 'data-x-axis'), POLL).toBe('distance');
    expect(Number(await page.getAttribute('.chart-stack', 'data-to'))).toBeCloseTo(run.report.distanceM / 1000, 0);
    await expect.poll(() => pixelsInColour(page, '[data-panel=hr] canvas', PALETTE.hr).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
    await snap(page, '21-run-distance-axis', false);
    await page.click('[data-x=time]');
    await expect.poll(() => page.getAttribute('.chart-stack', 'data-to'), POLL).toBe(String(timeTo));

    // Exports: the FIT download decodes back to the stored samples.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-export=fit]')]);
    const saved = await download.path();
    const back = decodeFitSync(new Uint8Array(readFileSync(saved!)));
    expect(back.samples.length).toBe((await api<{ length: number }>(`/api/runs/${trackId}/samples?fields=t`)).body.length);
    expect(download.suggestedFilename()).toMatch(/\.fit$/);
    const [gpx] = await Promise.all([page.waitForEvent('download'), page.click('[data-export=gpx]')]);
    expect(readFileSync((await gpx.path())!, 'utf8')).toContain('<trkpt lat="');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps km/mi and °C/°F from the profile page, and lists runs by date with sport and pace', async () => {
    const page = await signedInPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/#/profile`);
    await page.check('#units-distance-mi');
    await page.check('#units-temperature-F');
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(trackId)}`);
    await page.waitForSelector('[data-testid=summary-cards]');
    const run = (await api<{ summary: Record<string, any> }>(`/api/runs/${trackId}`)).body;
    expect(await page.textContent('[data-card=pace] dd')).toMatch(/^\d+:\d\d \/mi$/);
    expect(await page.textContent('[data-card=distance] dd')).toBe(`${(run.summary.distanceM / 1609.344).toFixed(2)} mi`);
    expect(await page.textContent('[data-card=weather] dd')).toMatch(/°F/);
    expect(await page.locator('[data-testid=splits-table] tbody tr').count()).toBe(run.summary.splits.mi.length);
    await snap(page, '22-run-miles', false);
    // The upload form asks for the weather in °F too (and sends °C).
    await page.goto(`${server.url}/#/runs`);
    expect(await page.textContent('label[for=temp]')).toBe('Air temperature (°F)');

    // Back to km, then the list: by the runs' own dates whatever the upload order, with sport and pace.
    await page.goto(`${server.url}/#/profile`);
    await page.check('#units-distance-km');
    await page.check('#units-temperature-C');
    for (const f of ['easy-45-cool.fit', 'hot-short-30.fit']) expect((await upload(fixture(f), f)).status).toBe(201);
    const listed = (await api<{ runs: { id: string; startTime: string; paceSPerKm: number }[] }>('/api/runs')).body.runs;
    await page.goto(`${server.url}/#/runs`);
    await page.waitForSelector('tr[data-run-id]');
    const shownIds = await page.$$eval('tr[data-run-id]', (trs) => trs.map((tr) => (tr as unknown as { dataset: { runId: string } }).dataset.runId));
    expect(shownIds).toEqual(listed.map((r) => r.id));
    const starts = listed.map((r) => Date.parse(r.startTime));
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);
    const first = page.locator(`tr[data-run-id="${listed[0]!.id}"]`);
    expect(await first.locator('[data-col=sport]').textContent()).toBe('Running');
    const p = Math.round(listed[0]!.paceSPerKm);
    expect(await first.locator('[data-col=pace]').textContent()).toBe(`${Math.floor(p / 60)}:${String(p % 60).padStart(2, '0')} /km`);
    // The form states the server's limit (UPLOAD_LIMIT_MB, 32 by default).
    expect(await page.textContent('[data-testid=upload-limit]')).toBe('Up to 32 MB a file.');
    // The same activity in other bytes: the page says it is stored and links to it.
    const copy = exportRun({ name: null, ...(() => { const r = decodeFitSync(new Uint8Array(fixture('easy-45-cool.fit'))); return { startTime: r.meta.startTime, meta: r.meta, samples: r.samples }; })(), report: null }, 'fit').body as Uint8Array;
    await page.setInputFiles('#fit-file', { name: 'easy again.fit', mimeType: 'application/octet-stream', buffer: Buffer.from(copy) });
    await page.waitForSelector('[data-testid=duplicate-link]', POLL);
    const dupHref = await page.getAttribute('[data-testid=duplicate-link]', 'href');
    expect(listed.map((r) => `#/runs/${r.id}`)).toContain(dupHref);
    await snap(page, '23-runs-sorted-duplicate', false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the map with the configured tiles, and the track alone when the tiles fail', async () => {
    // A tile server of our own (the test machine has no internet): one 1×1 PNG for every tile.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
    let tilesServed = 0;
    const tiles = createServer((_req, res) => {
      tilesServed++;
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve));
    const tilePort = (tiles.address() as AddressInfo).port;
    const cases = [
      { url: `http://127.0.0.1:${tilePort}/{z}/{x}/{y}.png`, state: 'loaded' },
      // Nothing listens on port 9 (discard): every tile fails.
      { url: 'http://127.0.0.1:9/{z}/{x}/{y}.png', state: 'failed' },
    ];
    try {
      for (const c of cases) {
        const other = await startServer({ MAP_TILE_URL: c.url });
        try {
          const res = await fetch(`${other.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Tiles' }) });
          const { token: t } = (await res.json()) as { token: string };
          const up = await fetch(`${other.url}/api/runs`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/octet-stream' }, body: withTrack(decodeFitSync(new Uint8Array(fixture('tempo-30.fit')))) });
          const { id } = (await up.json()) as { id: string };
          const page = await browser.newPage();
          const errors = collectPageErrors(page);
          await page.goto(`${other.url}/#/signin`);
          await page.evaluate(`localStorage.setItem('crampguard.token', ${JSON.stringify(t)})`);
          await page.goto(`${other.url}/#/runs/${encodeURIComponent(id)}`);
          await page.waitForSelector('[data-testid=route-map] path.leaflet-interactive');
          await expect.poll(() => page.getAttribute('[data-testid=route-map]', 'data-tiles'), POLL).toBe(c.state);
          if (c.state === 'loaded') {
            expect(await page.locator('[data-testid=route-map] img.leaflet-tile-loaded').count()).toBeGreaterThan(0);
            expect(tilesServed).toBeGreaterThan(0);
            expect(await page.textContent('[data-testid=route-map] .leaflet-control-attribution')).toContain('127.0.0.1');
          } else {
            expect(await page.textContent('[data-testid=map-note]')).toMatch(/could not be loaded: the track is drawn alone/);
          }
          await snap(page, `26-map-tiles-${c.state}`, false);
          expect(errors).toEqual([]);
          await page.close();
        } finally {
          await other.stop();
        }
      }
    } finally {
      await new Promise((resolve) => tiles.close(resolve));
    }
  });

  it('on a phone (390 px) the whole top navigation is on screen, and the run page does not scroll sideways', async () => {
    const page = await signedInPage();
    const errors = collectPageErrors(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(trackId)}`);
    await page.waitForSelector('[data-testid=route-map] path.leaflet-interactive');
    const items = page.locator('#nav li');
    const count = await items.count();
    expect(count).toBeGreaterThanOrEqual(6); // the pages and Sign out
    expect(await items.last().textContent()).toBe('Sign out');
    for (let i = 0; i < count; i++) {
      const b = (await items.nth(i).boundingBox())!;
      expect(b.x, await items.nth(i).textContent() ?? '').toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, await items.nth(i).textContent() ?? '').toBeLessThanOrEqual(390);
    }
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await page.click('#nav >> text=Profile');
    await page.waitForURL(/#\/profile$/);
    await snap(page, '24-phone-nav-run');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the live view shows the risk history from before it was opened, a clock that follows the run, and the duration', async () => {
    const stored = (await api<{ columns: Record<string, (number | null)[]> }>(`/api/runs/${trackId}/samples`)).body.columns;
    const watch: Socket = io(`${server.url}/watch`, { transports: ['websocket'], auth: { token } });
    await new Promise<void>((resolve, reject) => {
      watch.once('connect', () => resolve());
      watch.once('connect_error', reject);
    });
    const runId = `live-clock-${Date.now()}`;
    const start = await watch.timeout(10_000).emitWithAck('start', { runId, startTime: new Date(Date.now() - 3600_000).toISOString() });
    expect(start.ok).toBe(true);
    let seq = 0;
    let sent = 0;
    const send = async (rows: number) => {
      const batch = [];
      for (let j = sent; j < Math.min(stored.t!.length, sent + rows); j++) {
        const row: Record<string, number> = { t: stored.t![j]! };
        for (const f of ['hr', 'cadence', 'speed', 'distance', 'altitude']) if (typeof stored[f]?.[j] === 'number') row[f] = stored[f]![j]!;
        batch.push(row);
      }
      sent += batch.length;
      seq++;
      let ack = await watch.timeout(10_000).emitWithAck('samples', { runId, seq, samples: batch });
      for (let tries = 0; !ack.ok && ack.error?.code === 'RATE_LIMITED' && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, ack.retryAfterMs ?? 500));
        ack = await watch.timeout(10_000).emitWithAck('samples', { runId, seq, samples: batch });
      }
      expect(ack.ok, JSON.stringify(ack)).toBe(true);
    };
    // Twenty minutes before anyone looks.
    for (let i = 0; i < 4; i++) await send(300);

    const page = await signedInPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/#/live`);
    // The list gives how long the run has gone (started an hour ago), not a dash.
    await expect.poll(() => page.textContent('[data-testid=live-duration]'), POLL).toMatch(/1:0\d:\d\d so far/);
    await page.click(`a[href="#/live/${encodeURIComponent(start.id)}"]`);
    await page.waitForSelector('[data-testid=live-status]:text("live")');
    // Before any new batch: the risk and fluid charts already hold the twenty minutes.
    await expect.poll(() => pixelsInColour(page, '[data-panel=risk] canvas', PALETTE.risk).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
    await expect.poll(() => pixelsInColour(page, '[data-panel=fluid] canvas', PALETTE.fluid).then(([n]) => n ?? 0), POLL).toBeGreaterThan(150);
    const clockAt = (n: number) => {
      const t = Math.round(stored.t![n - 1]!);
      return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
    };
    await expect.poll(() => page.textContent('[data-testid=watch-clock]'), POLL).toBe(clockAt(sent));
    // The clock moves with every batch, whether or not a prompt is on the face.
    for (let i = 0; i < 3; i++) {
      await send(120);
      await expect.poll(() => page.textContent('[data-testid=watch-clock]'), POLL).toBe(clockAt(sent));
    }
    await snap(page, '25-live-history-clock');
    watch.disconnect();
    expect(errors).toEqual([]);
    await page.close();
  });
});
