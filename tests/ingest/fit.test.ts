import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../ingest/errors.js';
import { decodeFit } from '../../ingest/fit.js';
import { fitCrc } from '../../ingest/fit/frame.js';
import { recordsToColumns } from '../../ingest/fit/records.js';
import { WarningLog } from '../../ingest/fit/values.js';
import {
  checkRun,
  EXPECTED_ERRORS,
  EXPECTED_WARNINGS,
  FIXTURES_FIT,
  fixture,
  fixtureFiles,
  manifest,
  SHARED_FIT,
  sharedFiles,
  sharedPresent,
} from './fit-files.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(IngestError);
    const e = err as IngestError;
    expect(e.message).not.toContain('\n');
    expect(e.message.length).toBeGreaterThan(0);
    return e.code;
  }
  return 'decoded';
}

/** Sample counts of the shared files, kept by the per-file tests for the manifest comparison. */
const decodedCounts = new Map<string, number>();

async function checkFile(name: string, bytes: Uint8Array): Promise<void> {
  const expected = EXPECTED_ERRORS[name];
  if (expected) {
    expect(await codeOf(decodeFit(bytes))).toBe(expected);
    return;
  }
  const run = await decodeFit(bytes);
  checkRun(run);
  decodedCounts.set(name, run.samples.length);
  for (const code of EXPECTED_WARNINGS[name] ?? []) expect(run.warnings.map((w) => w.code)).toContain(code);
}

describe('every real FIT file decodes, or fails with its expected code', () => {
  it.each(fixtureFiles)('fixtures/fit/%s', async (name) => {
    await checkFile(name, readFileSync(join(FIXTURES_FIT, name)));
  });

  it.runIf(sharedPresent).each(sharedFiles)('../shared/fit/%s', async (name) => {
    await checkFile(name, readFileSync(join(SHARED_FIT, name)));
  });

  it.runIf(sharedPresent)('keeps about as many records as MANIFEST.tsv counts (another decoder)', () => {
    for (const [name, row] of manifest()) {
      const expected = Number(row.records);
      if (EXPECTED_ERRORS[name] || !(expected > 0)) continue;
      const count = decodedCounts.get(name);
      if (count === undefined) throw new Error(`${name} was not decoded by the per-file test`);
      // The manifest's decoder stops at defects we step over; ours drops records going back in time.
      const slack = Math.max(2, Math.ceil(expected * 0.01));
      if (Math.abs(count - expected) > slack && !EXPECTED_WARNINGS[name]) {
        throw new Error(`${name}: ${count} samples, manifest says ${expected} records`);
      }
    }
  });
});

describe('normalisation of real files', () => {
  it('Fenix 5 run: steps/min = 2 × (cadence + fractional_cadence), °C, enhanced values, RR from hrv', async () => {
    const run = await decodeFit(fixture('dtcooper__python-fitparse/garmin-fenix-5-run.fit'));
    expect(run.meta).toMatchObject({ sport: 'running', manufacturer: 'garmin', product: 'fenix5' });
    expect(run.meta.startTime).toBe('2017-06-11T14:34:09.000Z');
    // Last record: cadence 88 strides/min, fractional 0 → 176 steps/min; 2.865 m/s; 157.56 m; 24 °C; HR 112.
    const last = run.samples.length - 1;
    expect(run.samples.cadence[last]).toBe(176);
    expect(run.samples.speed[last]).toBeCloseTo(2.865, 6);
    expect(run.samples.distance[last]).toBeCloseTo(157.56, 6);
    expect(run.samples.temperature[last]).toBe(24);
    expect(run.samples.hr[last]).toBe(112);
    expect(run.rr).not.toBeNull();
    const rr = run.rr!;
    expect(rr.ms.length).toBeGreaterThan(100);
    for (let i = 0; i < rr.ms.length; i++) {
      expect(rr.ms[i]).toBeGreaterThan(250); // a runner at HR ≤ 112 has RR ≥ 500 ms; 250 is a loose floor
      expect(rr.ms[i]).toBeLessThan(2000);
      if (i > 0) expect(rr.t[i]).toBeGreaterThan(rr.t[i - 1]!);
    }
    // Intervals are in ms and agree with the heart rate: mean RR ≈ 60000 / mean HR (within 15 %).
    const meanRr = rr.ms.reduce((a, b) => a + b, 0) / rr.ms.length;
    let hrSum = 0;
    let hrN = 0;
    for (const v of run.samples.hr) if (!Number.isNaN(v)) (hrSum += v), hrN++;
    expect(meanRr / (60_000 / (hrSum / hrN))).toBeGreaterThan(0.85);
    expect(meanRr / (60_000 / (hrSum / hrN))).toBeLessThan(1.15);
    // The watch keeps logging beats after its last record, so the beat clock may run past elapsedS.
    expect(rr.t[0]).toBeLessThan(5);
  });

  it('pauses: Garmin stop_all/start pairs and Suunto stop/start pairs become pause/resume events', async () => {
    const garmin = await decodeFit(fixture('roznet__FitFileParser/running.fit'));
    // 9 stop_all events; the last ends the run, so 8 pauses.
    expect(garmin.meta.pauses).toHaveLength(8);
    expect(garmin.meta.pauses[0]).toEqual({ startT: 545, endT: 576 }); // 14:55:30 → 14:56:01, start 14:46:25
    expect(garmin.events.filter((e) => e.type === 'pause')).toHaveLength(8);
    expect(garmin.events.filter((e) => e.type === 'resume')).toHaveLength(8);
    const paused = garmin.meta.pauses.reduce((s, p) => s + p.endT - p.startT, 0);
    expect(garmin.meta.timerS).toBeCloseTo(garmin.meta.elapsedS - paused, 6);

    const suunto = await decodeFit(fixture('jimmykane__fit-parser/batt.fit'));
    expect(suunto.meta.manufacturer).toBe('suunto');
    // stop@14:26:49 start@14:27:26 … five stops, the last at the final record.
    expect(suunto.meta.pauses).toHaveLength(4);
    expect(suunto.meta.pauses[0]).toEqual({ startT: 183, endT: 220 });
  });

  it('laps become lap events at each lap end except the run end', async () => {
    const run = await decodeFit(fixture('roznet__FitFileParser/running.fit'));
    expect(run.meta.laps).toHaveLength(12);
    const lapEvents = run.events.filter((e) => e.type === 'lap');
    expect(lapEvents).toHaveLength(11);
    expect(lapEvents.map((e) => e.t)).toEqual(run.meta.laps.slice(0, -1).map((l) => l.endT));
  });

  it('multi-sport in chained files: every leg reported, running legs marked for analysis', async () => {
    const run = await decodeFit(fixture('dtcooper__python-fitparse/sample_mulitple_header.fit'));
    expect(run.meta.sport).toBe('multisport');
    expect(run.meta.legs.map((l) => l.sport)).toEqual(['swimming', 'transition', 'cycling', 'transition', 'running']);
    expect(run.meta.legs.map((l) => l.running)).toEqual([false, false, false, false, true]);
    expect(run.samples.length).toBe(1773); // records of all 4 chained files
  });

  it('Fenix 2 multisport: timer events written after the records still pair up; legs in order', async () => {
    const run = await decodeFit(fixture('dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit'));
    expect(run.meta.legs.filter((l) => l.running)).toHaveLength(2);
    for (let i = 1; i < run.meta.legs.length; i++) expect(run.meta.legs[i]!.startT).toBeGreaterThan(run.meta.legs[i - 1]!.startT);
    // start at 13:11:37 and stop_all at the end: no pause inside the run.
    expect(run.meta.pauses).toEqual([]);
    expect(run.warnings.find((w) => w.code === 'time_backwards')?.count).toBe(2);
  });

  it('a file whose records hold no sport is analysed as a run, with a warning', async () => {
    const run = await decodeFit(fixture('dtcooper__python-fitparse/activity-unexpected-eof.fit'));
    expect(run.meta.legs).toHaveLength(1);
    expect(run.meta.legs[0]!.running).toBe(true);
  });
});

describe('fitCrc', () => {
  it('is CRC-16/ARC: the catalogue check value of "123456789" is 0xBB3D', () => {
    expect(fitCrc(new TextEncoder().encode('123456789'), 0, 9)).toBe(0xbb3d);
  });

  it('equals the bit-by-bit definition on any bytes and any range (four bytes at a time plus a tail)', () => {
    const bitwise = (bytes: Uint8Array, start: number, end: number): number => {
      let crc = 0;
      for (let i = start; i < end; i++) {
        crc ^= bytes[i]!;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
      }
      return crc;
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (b % (bytes.length - start + 1));
        expect(fitCrc(bytes, start, end)).toBe(bitwise(bytes, start, end));
      }),
      { seed: 2026, numRuns: 500 },
    );
  });
});

describe('bad input gives a coded, one-line error', () => {
  const header = (dataSize: number, headerSize = 14): Uint8Array => {
    const h = new Uint8Array(headerSize);
    h[0] = headerSize;
    h[1] = 0x20;
    h[2] = 0x08;
    h[3] = 0x08;
    new DataView(h.buffer).setUint32(4, dataSize, true);
    h.set([0x2e, 0x46, 0x49, 0x54], 8);
    if (headerSize === 14) new DataView(h.buffer).setUint16(12, fitCrc(h, 0, 12), true);
    return h;
  };
  const withCrc = (body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(body.length + 2);
    out.set(body);
    new DataView(out.buffer).setUint16(body.length, fitCrc(body, 0, body.length), true);
    return out;
  };

  it.each([
    ['zero bytes', 'FIT_EMPTY', new Uint8Array(0)],
    ['text', 'FIT_NOT_FIT', new TextEncoder().encode('hello, this is not a FIT file at all')],
    ['a few bytes', 'FIT_NOT_FIT', new Uint8Array([14, 0x10])],
    ['header size 13', 'FIT_BAD_HEADER', (() => { const h = header(0); h[0] = 13; return h; })()],
    ['header CRC wrong', 'FIT_BAD_HEADER', (() => { const h = header(0); h[12] = h[12]! ^ 0xff; return h; })()],
    ['protocol 3', 'FIT_BAD_HEADER', (() => { const h = header(0); h[1] = 0x30; new DataView(h.buffer).setUint16(12, fitCrc(h, 0, 12), true); return h; })()],
    ['header only, data promised', 'FIT_TRUNCATED', header(100)],
    ['no data at all', 'FIT_NO_RECORDS', withCrc(header(0))],
    ['file CRC wrong', 'FIT_CRC_MISMATCH', (() => { const f = withCrc(header(0)); f[f.length - 1] = f[f.length - 1]! ^ 1; return f; })()],
  ] as const)('%s → %s', async (_label, code, bytes) => {
    expect(await codeOf(decodeFit(bytes))).toBe(code);
  });

  it('FIT_TOO_LARGE before decoding anything', async () => {
    expect(await codeOf(decodeFit(fixture('jimmykane__fit-parser/batt.fit'), { maxBytes: 1000 }))).toBe('FIT_TOO_LARGE');
  });

  it('a CRC mismatch can be decoded on request, flagged', async () => {
    const run = await decodeFit(fixture('dtcooper__python-fitparse/activity-filecrc.fit'), { allowBadCrc: true });
    checkRun(run);
    expect(run.warnings.map((w) => w.code)).toContain('crc_mismatch');
  });
});

describe('implausible values and timestamps (recordsToColumns)', () => {
  const T = Date.UTC(2025, 0, 1);
  const rec = (s: number, extra: Record<string, unknown> = {}) => ({ timestamp: new Date(T + s * 1000), ...extra });

  it('HR 0, respiration 0 and FIT sentinels are missing without a warning; out-of-range values are flagged', () => {
    const w = new WarningLog();
    const { samples, channels } = recordsToColumns(
      [
        rec(0, { heart_rate: 0, speed: 3, enhanced_respiration_rate: 0 }),
        rec(1, { heart_rate: 140, speed: 31.5, cadence: 85, fractional_cadence: 0.5 }), // GPS spike
        rec(2, { heart_rate: 300, speed: 3.1, enhanced_speed: 3.2, altitude: 10, enhanced_altitude: 12 }),
      ],
      w,
    );
    expect(Array.from(samples.hr)).toEqual([NaN, 140, NaN]);
    expect(Array.from(samples.speed)).toEqual([3, NaN, 3.2]); // enhanced_speed wins
    expect(samples.altitude[2]).toBe(12);
    expect(samples.cadence[1]).toBe(171);
    expect(Number.isNaN(samples.respiration[0])).toBe(true);
    expect(channels).not.toContain('respiration');
    const codes = Object.fromEntries(w.list().map((x) => [x.code, x.count]));
    expect(codes).toEqual({ speed_spike: 1, implausible_hr: 1 });
  });

  it('drops records going back in time, and a timestamp that jumps days ahead and back', () => {
    const w = new WarningLog();
    const day = 86_400;
    const { samples, rowOf } = recordsToColumns(
      [rec(0), rec(1), rec(3 * day), rec(2), rec(1.5), rec(3), { heart_rate: 100 }, rec(4)],
      w,
    );
    expect(Array.from(samples.t)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(rowOf)).toEqual([0, 1, -1, 2, -1, 3, -1, 4]);
    expect(w.list().map((x) => x.code).sort()).toEqual(['no_timestamp', 'time_backwards', 'time_jump']);
  });

  it("a dropped record's values reach no kept row and its implausible values are not counted", () => {
    const w = new WarningLog();
    const { samples, channels } = recordsToColumns(
      [
        rec(0, { heart_rate: 100, speed: 2.5 }),
        rec(-5, { heart_rate: 300, speed: 3, power: 250 }), // goes back in time: dropped whole
        rec(1, { heart_rate: 120 }),
        { heart_rate: 130, temperature: 20 }, // no timestamp: dropped
        rec(2, { speed: 2.7 }),
      ],
      w,
    );
    expect(samples.length).toBe(3);
    expect(Array.from(samples.hr)).toEqual([100, 120, NaN]);
    expect(Array.from(samples.speed)).toEqual([2.5, NaN, 2.7]);
    expect(channels).toEqual(['hr', 'speed']);
    expect(w.list().map((x) => x.code).sort()).toEqual(['no_timestamp', 'time_backwards']);
  });

  it('keeps a real multi-day gap when the records after it continue from there', () => {
    const w = new WarningLog();
    const day = 86_400;
    const { samples } = recordsToColumns([rec(0), rec(1), rec(2 * day), rec(2 * day + 1)], w);
    expect(Array.from(samples.t)).toEqual([0, 1, 2 * day, 2 * day + 1]);
    expect(w.list()[0]?.code).toBe('time_jump');
  });

  it('accepts timestamps as Date (what fit-file-parser returns) or ISO string (what it declares)', () => {
    const w = new WarningLog();
    const { samples } = recordsToColumns([rec(0), { timestamp: new Date(T + 1000).toISOString() }], w);
    expect(Array.from(samples.timestamp)).toEqual([T, T + 1000]);
  });
});
