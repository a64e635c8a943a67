/**
 * The phone companion in real Chromium against the real built server: Bluetooth through Chromium's own
 * emulation (CDP BluetoothEmulation: a powered adapter, a heart-rate strap and a foot pod with their services,
 * measurement characteristics and notification descriptors; the page pairs them through the real device chooser
 * and subscribes), the position through Chromium's geolocation override, time through Playwright's clock.
 *
 * Where Chromium cannot go: its emulation has no command to push a notification value from a peripheral, and
 * both measurements are notify-only on real sensors. So once the page has subscribed through the emulated GATT,
 * the test delivers each recorded second's bytes at the page's own boundary: it sets the subscribed
 * characteristic's `value` to the encoded bytes and dispatches `characteristicvaluechanged` on it, exactly what
 * the browser does for a notification. Everything after that (decoding with ingest/ble.ts, samples, the outbox,
 * HTTP, the server's engine, the prompts on screen) is the product's own path.
 *
 * Nothing here asserts a time: every wait is for a condition, with generous limits for a busy machine.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import type { EngineOptions } from '../../alerts/types.js';
import { decodeFit } from '../../ingest/fit.js';
import { allocColumns, type RunEvent } from '../../ingest/sample.js';
import { liveRunToNormalized } from '../../src/live/finished-run.js';
import { chromiumPath, ROOT, startServer, type RunningServer } from '../dashboard/harness.js';

// Page functions run in the browser; the test project has no DOM library, so these are typed for what they use.
declare const window: unknown;
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const speechSynthesis: { speak(u: { text: string }): void };
declare const navigator: { vibrate(pattern?: unknown): boolean };
declare const caches: {
  keys(): Promise<string[]>;
  open(name: string): Promise<{ keys(): Promise<Array<{ url: string }>> }>;
};
declare const Navigator: { prototype: object };
type SpeechSynthesisUtterance = { text: string };
type HTMLElement = { dataset: Record<string, string | undefined> };

const ARTIFACTS = join(ROOT, 'test-artifacts', 'companion');
const PROFILE = { massKg: 68, hrRest: 50, hrMax: 188 };
const CONDITIONS = { tempC: 28, humidity: 60 };
/** Twenty minutes of a recorded run (a FIT file in the repository). */
const RUN_FILE = join(ROOT, 'fixtures', 'scenarios', 'fast-start-easy.fit');
const SECONDS = 1200;
/** Taps during the run: a drink at 10:00 and a calf cramp at 15:00. */
const DRINK_AT = 600;
const CRAMP_AT = 900;
/** The network is cut from here to there (the page keeps recording). */
const CUT_FROM = 420;
const CUT_TO = 540;
/** In the middle of the cut the page is reloaded (from the service worker's cache: there is no network). */
const RELOAD_AT = 480;
const T0 = Date.parse('2026-06-01T07:00:00Z');

const uuid = (short: number) => `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
const HR_SERVICE = uuid(0x180d);
const HR_MEASUREMENT = uuid(0x2a37);
const RSC_SERVICE = uuid(0x1814);
const RSC_MEASUREMENT = uuid(0x2a53);
const CCCD = uuid(0x2902);

function skipReason(): string | null {
  if (!chromiumPath()) return 'chromium is not installed (apt-get install -y chromium); companion browser tests skipped';
  if (!existsSync(join(ROOT, 'dist', 'companion', 'index.html'))) return 'dist/companion is not built (npm run build:web); companion browser tests skipped';
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) return 'dist/src is not built (npm run build); companion browser tests skipped';
  return null;
}
const skip = skipReason();
if (skip) console.log(`tests/companion/companion.browser: ${skip}`);

/** 0x2A37: flags (contact supported and detected), uint8 heart rate. */
function hrBytes(hr: number): number[] {
  return [0x06, hr];
}
/** 0x2A53: flags (total distance present, running), speed 1/256 m/s, cadence, total distance 1/10 m. */
function rscBytes(speedMps: number, cadence: number, totalDm: number): number[] {
  const s = Math.round(speedMps * 256);
  return [0x06, s & 0xff, s >> 8, cadence, totalDm & 0xff, (totalDm >> 8) & 0xff, (totalDm >> 16) & 0xff, (totalDm >>> 24) & 0xff];
}

interface Peripheral {
  address: string;
  characteristicId: string;
  descriptorId: string;
}

/** A simulated peripheral with one service, one notifying characteristic and its CCCD. */
async function addPeripheral(cdp: CDPSession, address: string, name: string, service: string, characteristic: string): Promise<Peripheral> {
  await cdp.send('BluetoothEmulation.simulatePreconnectedPeripheral', { address, name, manufacturerData: [], knownServiceUuids: [service] });
  const { serviceId } = await cdp.send('BluetoothEmulation.addService', { address, serviceUuid: service });
  const { characteristicId } = await cdp.send('BluetoothEmulation.addCharacteristic', {
    serviceId,
    characteristicUuid: characteristic,
    properties: { notify: true, read: true },
  });
  const { descriptorId } = await cdp.send('BluetoothEmulation.addDescriptor', { characteristicId, descriptorUuid: CCCD });
  return { address, characteristicId, descriptorId };
}

/** Pairs a sensor through the page's button and the browser's chooser (answered once, when it lists a device). */
async function pair(page: Page, pageCdp: CDPSession, kind: 'hr' | 'pod', address: string): Promise<void> {
  let answered = false;
  const onPrompt = (e: { id: string; devices: Array<{ id: string; name: string }> }) => {
    // The chooser lists devices by address (this Chromium leaves their names empty).
    const device = e.devices.find((d) => d.id === address);
    if (answered || !device) return;
    answered = true;
    void pageCdp.send('DeviceAccess.selectPrompt', { id: e.id, deviceId: device.id });
  };
  pageCdp.on('DeviceAccess.deviceRequestPrompted', onPrompt);
  await page.click(`[data-testid=pair-${kind}]`);
  await page.waitForSelector(`[data-testid=${kind}-state][data-state=connected]`, { timeout: 60_000 }).catch(async (err: unknown) => {
    throw new Error(`${kind} did not connect: ${await page.textContent(`[data-testid=${kind}-state]`)}; ${await page.textContent('[data-testid=note]')}; chooser answered: ${answered}`, { cause: err });
  });
  pageCdp.off('DeviceAccess.deviceRequestPrompted', onPrompt);
}

async function snap(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const alertKey = (a: { t: number; kind: string; cause: string }) => `${a.t}|${a.kind}|${a.cause}`;

describe.skipIf(skip !== null)('phone companion in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let token: string;

  beforeAll(async () => {
    server = await startServer();
    const res = await fetch(`${server.url}/api/athletes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Runner', profile: PROFILE }),
    });
    expect(res.status).toBe(201);
    token = ((await res.json()) as { token: string }).token;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath()!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--enable-features=WebBluetooth'],
    });
    // A phone: 390 px wide, touch, location allowed and set near a track.
    context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      permissions: ['geolocation'],
      geolocation: { latitude: 48.1372, longitude: 11.5756, accuracy: 5 },
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  it('pairs a strap and a foot pod, streams a 20-minute recorded run through a network cut and a reload, and shows the prompts `analyze` raises', async () => {
    const recorded = await decodeFit(readFileSync(RUN_FILE));
    expect(recorded.samples.length).toBeGreaterThanOrEqual(SECONDS);
    // What the sensors send, second by second, as their wire formats carry it.
    const seconds = Array.from({ length: SECONDS }, (_, i) => {
      const c = recorded.samples;
      const hr = Math.round(c.hr[i]!);
      const speed = c.speed[i]!;
      const cadence = Math.round(c.cadence[i]!);
      const totalDm = Math.round((c.distance[i]! + 1234.5) * 10); // the pod was on before the run
      expect([hr, speed, cadence, totalDm].every(Number.isFinite)).toBe(true);
      return { hr, speed, cadence, totalDm };
    });

    // The expectation: the engine's analyzeRun on the same samples (as the sensors' formats carry them) and the
    // same taps, as `crampguard analyze` would on a file of them.
    const cols = allocColumns(SECONDS);
    seconds.forEach((s, i) => {
      cols.t[i] = i;
      cols.timestamp[i] = T0 + i * 1000;
      cols.hr[i] = s.hr;
      cols.speed[i] = Math.round(s.speed * 256) / 256;
      cols.cadence[i] = s.cadence;
      cols.distance[i] = s.totalDm / 10 - seconds[0]!.totalDm / 10;
    });
    const events: RunEvent[] = [
      { type: 'drink', t: DRINK_AT, ml: 250 },
      { type: 'cramp', t: CRAMP_AT, muscle: 'calf', severity: 3 },
    ];
    const options: EngineOptions = { profile: PROFILE, conditions: CONDITIONS };
    const expected = analyzeRun(liveRunToNormalized(cols, events, new Date(T0).toISOString(), null), options).alerts.map(alertKey);
    expect(expected.length).toBeGreaterThanOrEqual(2);

    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Count what the page speaks and how it buzzes (headless Chromium has no voice or motor).
    await page.addInitScript(() => {
      const w = window as unknown as { spoken: string[]; buzzes: number };
      w.spoken = [];
      w.buzzes = 0;
      speechSynthesis.speak = (u: SpeechSynthesisUtterance) => void w.spoken.push(u.text);
      navigator.vibrate = () => {
        w.buzzes++;
        return true;
      };
    });

    // Bluetooth: a powered adapter with two peripherals; the test answers the GATT work the page asks for.
    const cdp = await browser.newBrowserCDPSession();
    const emulate = async () => {
      await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
      return {
        strap: await addPeripheral(cdp, '09:09:09:09:09:01', 'Strap HR', HR_SERVICE, HR_MEASUREMENT),
        footPod: await addPeripheral(cdp, '09:09:09:09:09:02', 'Pod RSC', RSC_SERVICE, RSC_MEASUREMENT),
      };
    };
    let { strap, footPod } = await emulate();
    cdp.on('BluetoothEmulation.gattOperationReceived', (e) => {
      void cdp.send('BluetoothEmulation.simulateGATTOperationResponse', { address: e.address, type: e.type, code: 0 });
    });
    cdp.on('BluetoothEmulation.characteristicOperationReceived', (e) => {
      void cdp.send('BluetoothEmulation.simulateCharacteristicOperationResponse', { characteristicId: e.characteristicId, type: e.type, code: 0 });
    });
    cdp.on('BluetoothEmulation.descriptorOperationReceived', (e) => {
      void cdp.send('BluetoothEmulation.simulateDescriptorOperationResponse', {
        descriptorId: e.descriptorId,
        type: e.type,
        code: 0,
        ...(e.type === 'read' ? { data: Buffer.from([0, 0]).toString('base64') } : {}),
      });
    });
    expect([strap.characteristicId, footPod.characteristicId].every(Boolean)).toBe(true);

    await page.clock.setFixedTime(T0 - 60_000);
    await page.goto(`${server.url}/companion/`);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=start]', { timeout: 60_000 });
    const pageCdp = await context.newCDPSession(page);
    await pageCdp.send('DeviceAccess.enable');
    await pair(page, pageCdp, 'hr', strap.address);
    await pair(page, pageCdp, 'pod', footPod.address);
    await page.fill('#tempC', String(CONDITIONS.tempC));
    await page.fill('#humidity', String(CONDITIONS.humidity));
    await snap(page, 'setup-paired');

    await page.clock.setFixedTime(T0);
    await page.click('[data-testid=start]');
    await page.waitForSelector('[data-testid=end]', { timeout: 60_000 });

    const feed = (i: number) =>
      page.evaluate(
        ({ hr, rsc }) => {
          const { sensors } = (window as unknown as { crampguardCompanion: { sensors: Record<'hr' | 'pod', { characteristic: EventTarget | null }> } })
            .crampguardCompanion;
          for (const [ch, bytes] of [
            [sensors.hr.characteristic, hr],
            [sensors.pod.characteristic, rsc],
          ] as const) {
            if (!ch) throw new Error('a sensor is not subscribed');
            // What Chromium does on a notification: the characteristic's value is the new bytes, then the event.
            Object.defineProperty(ch, 'value', { value: new DataView(Uint8Array.from(bytes).buffer), configurable: true });
            ch.dispatchEvent(new Event('characteristicvaluechanged'));
          }
        },
        { hr: hrBytes(seconds[i]!.hr), rsc: rscBytes(seconds[i]!.speed, seconds[i]!.cadence, seconds[i]!.totalDm) },
      );

    let unsentDuringCut = 0;
    for (let i = 0; i < SECONDS; i++) {
      await page.clock.setFixedTime(T0 + i * 1000 + 250);
      if (i === CUT_FROM) await context.setOffline(true);
      if (i === DRINK_AT) await page.click('[data-testid=drink-250]');
      if (i === CRAMP_AT) {
        await page.click('[data-testid=cramp]');
        await page.click('[data-testid=cramp-calf]');
      }
      if (i === RELOAD_AT) {
        await page.reload();
        await page.waitForSelector('[data-testid=end]', { timeout: 60_000 });
        await pageCdp.send('DeviceAccess.enable');
        // This Chromium drops the emulated adapter with the document that used it: set it up again, as the
        // same sensors still being there.
        await cdp.send('BluetoothEmulation.disable').catch(() => {});
        ({ strap, footPod } = await emulate());
        // The run is back from IndexedDB; sensors pair again with a tap each (Web Bluetooth forgets them).
        await pair(page, pageCdp, 'hr', strap.address);
        await pair(page, pageCdp, 'pod', footPod.address);
        await snap(page, 'reloaded-offline');
        // Still offline, the prompts shown before the cut are listed again at once (from IndexedDB).
        const listed = await page.$$eval('[data-testid=prompts] li', (lis) => lis.length);
        expect(listed).toBe(expected.filter((k) => Number(k.split('|')[0]) < CUT_FROM).length);
      }
      await feed(i);
      if (i === CUT_TO) {
        // Two minutes recorded without a network: the page says so and keeps the batches.
        await page.waitForSelector('[data-testid=link][data-state=offline]', { timeout: 60_000 });
        unsentDuringCut = Number(await page.textContent('[data-testid=unsent]'));
        await snap(page, 'offline');
        await context.setOffline(false);
      }
    }
    expect(unsentDuringCut).toBeGreaterThanOrEqual((CUT_TO - CUT_FROM) / 10 - 2);
    await page.clock.setFixedTime(T0 + SECONDS * 1000 + 250);
    await page.waitForFunction(() => document.querySelector('[data-testid=unsent]')?.textContent === '0', null, { timeout: 120_000 });
    await snap(page, 'running');
    await page.click('[data-testid=end]');
    await page.click('[data-testid=end]');
    await page.waitForSelector('[data-testid=done]', { timeout: 120_000 });
    await snap(page, 'done');

    // The prompts the page showed, oldest first, are those.
    const shown = await page.$$eval('[data-testid=prompts] li', (lis) =>
      lis.map((li) => `${(li as HTMLElement).dataset.t}|${(li as HTMLElement).dataset.kind}|${(li as HTMLElement).dataset.cause}`).reverse(),
    );
    expect(shown).toEqual(expected);
    const { spoken, buzzes } = await page.evaluate(() => {
      const w = window as unknown as { spoken: string[]; buzzes: number };
      return { spoken: w.spoken, buzzes: w.buzzes };
    });
    // Spoken and buzzed once each: the ones before the reload by the first page, the rest by the reloaded one
    // (which lists the earlier ones again without a word).
    const afterReload = expected.filter((k) => Number(k.split('|')[0]) >= RELOAD_AT).length;
    expect(expected.length - afterReload).toBeGreaterThan(0);
    expect(spoken.length).toBe(afterReload);
    expect(buzzes).toBe(afterReload);

    // Nothing lost or doubled through the cut: the server stored every second once, as the sensors sent it.
    const runs = (await (await fetch(`${server.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).json()) as { runs: Array<{ id: string; source: string }> };
    const live = runs.runs.filter((r) => r.source === 'live');
    expect(live).toHaveLength(1);
    const got = (await (
      await fetch(`${server.url}/api/runs/${live[0]!.id}/samples?fields=t,hr,speed,cadence,distance`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { columns: Record<string, number[]> };
    expect(got.columns.t).toEqual(Array.from(cols.t));
    expect(got.columns.hr).toEqual(Array.from(cols.hr));
    expect(got.columns.speed).toEqual(Array.from(cols.speed));
    expect(got.columns.cadence).toEqual(Array.from(cols.cadence));
    expect(got.columns.distance).toEqual(Array.from(cols.distance));
    const run = (await (await fetch(`${server.url}/api/runs/${live[0]!.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      status: string;
      report: { alerts: Array<{ t: number; kind: string; cause: string }> };
    };
    expect(run.status).toBe('ended');
    expect(run.report.alerts.map(alertKey)).toEqual(expected);
    // The service worker kept the app (what the offline reload came from) and nothing of the API.
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
      return urls;
    });
    expect(cached.some((u) => /^\/companion\/assets\/index-.+\.js$/.test(u))).toBe(true);
    expect(cached.filter((u) => !u.startsWith('/companion/'))).toEqual([]);
    expect(errors).toEqual([]);
  }, 600_000);

  it('without Bluetooth (as on an iPhone) says so, and takes pace and distance from the phone position, dropping a GPS jump', async () => {
    // Another phone (its own storage), no Bluetooth: a runner heading north at 3 m/s from a start line.
    const LAT0 = 48.15;
    const LON = 11.58;
    const STEP = 3 / 111_195; // 3 m of latitude, in degrees (the recorder's own haversine decides)
    const N = 90;
    const JUMP_AT = 40;
    const position = (i: number) => ({ latitude: LAT0 + i * STEP + (i === JUMP_AT ? 0.01 : 0), longitude: LON, accuracy: 5 });
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
      permissions: ['geolocation'],
      geolocation: position(0),
    });
    try {
      const page = await phone.newPage();
      // A browser without Web Bluetooth, as every iOS browser is.
      await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'bluetooth', { get: () => undefined, configurable: true }));
      const T1 = T0 + 86_400_000;
      await page.clock.setFixedTime(T1 - 60_000);
      await page.goto(`${server.url}/companion/`);
      await page.fill('#token', token);
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid=start]', { timeout: 60_000 });
      expect(await page.textContent('[data-testid=no-bluetooth]')).toMatch(/iOS.*Chrome on Android/);
      await snap(page, 'no-bluetooth');
      await page.clock.setFixedTime(T1 + 250);
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=end]', { timeout: 60_000 });
      const fixesAtLeast = (n: number) =>
        page.waitForFunction((k) => Number((document.querySelector('[data-testid=gps]') as unknown as HTMLElement).dataset.fixes) >= k, n, { timeout: 30_000 });
      await fixesAtLeast(1);
      for (let i = 1; i < N; i++) {
        await page.clock.setFixedTime(T1 + i * 1000 + 250);
        await phone.setGeolocation(position(i));
        // Chromium may send an empty error between fixes; wait for this second's fix to be in.
        await fixesAtLeast(i + 1);
      }
      await snap(page, 'gps-run');
      await page.click('[data-testid=end]');
      await page.click('[data-testid=end]');
      await page.waitForSelector('[data-testid=done]', { timeout: 120_000 });

      const runs = (await (await fetch(`${server.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        runs: Array<{ id: string; source: string; startTime: string }>;
      };
      const run = runs.runs.find((r) => r.source === 'live' && Date.parse(r.startTime) === T1 + 250)!;
      expect(run).toBeTruthy();
      const got = (await (
        await fetch(`${server.url}/api/runs/${run.id}/samples?fields=t,speed,distance,hr`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { columns: { t: number[]; speed: Array<number | null>; distance: Array<number | null>; hr: Array<number | null> } };
      expect(got.columns.t).toEqual(Array.from({ length: N }, (_, i) => i));
      // The first fix has nothing to measure from; every later second runs at 3 m/s, the jump included (it was
      // dropped, and the next fix measured from the last good one).
      const speeds = got.columns.speed.slice(1);
      expect(speeds.every((v) => v !== null && Math.abs(v - 3) < 0.05)).toBe(true);
      expect(got.columns.distance.at(-1)!).toBeCloseTo(3 * (N - 1), 0);
      expect(got.columns.hr.every((v) => v === null)).toBe(true);
    } finally {
      await phone.close();
    }
  }, 300_000);
});
