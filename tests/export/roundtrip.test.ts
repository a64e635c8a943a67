/**
 * Exports round-trip: real runs of ../shared/realruns (FIT and GPX, with GPS) and the scenario fixtures, exported
 * as FIT, GPX and CSV and decoded back by the project's own readers (ingest/fit.ts, ingest/gpx.ts, a CSV parse),
 * give the same samples: every recorded column to its format's resolution, the CSV bit for bit.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFitSync } from '../../ingest/fit.js';
import { decodeGpxText } from '../../ingest/gpx.js';
import type { NormalizedRun, SampleColumns } from '../../ingest/sample.js';
import { exportFileName, exportProblem, exportRun, type ExportableRun } from '../../src/export/run.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const REALRUNS = resolve(ROOT, '../shared/realruns');
const SCENARIOS = join(ROOT, 'fixtures', 'scenarios');

type Cols = SampleColumns & { lat?: Float64Array; lon?: Float64Array };

/** Real runs with a GPS track, decoded by the project's readers. */
const REAL_FIT = ['aaron-schroeder__heartandsole/3981100861.fit', 'aaron-schroeder__heartandsole/2019-05-11-144658-UBERDROID6944-216-1.fit'];
const REAL_GPX = ['cdryzun__running_page/464310763.gpx', 'corriporai__runpandas/00978fad-85f8-4f1c-be44-2b7146ccbf76.gpx'];
const haveReal = [...REAL_FIT, ...REAL_GPX].every((f) => existsSync(join(REALRUNS, f)));
if (!haveReal) console.warn('[export] ../shared/realruns is missing: the real-run round trips are skipped');

const exportable = (run: NormalizedRun, name: string | null = null): ExportableRun => ({
  name,
  startTime: run.meta.startTime,
  meta: run.meta,
  samples: run.samples,
  report: null,
});

/** Largest difference between two columns over the rows both have a value in; throws where only one has one. */
function maxDiff(field: string, a: Float64Array | undefined, b: Float64Array | undefined, n: number): number {
  expect(a, `${field} in the original`).toBeDefined();
  expect(b, `${field} decoded back`).toBeDefined();
  let max = 0;
  for (let i = 0; i < n; i++) {
    const x = a![i]!;
    const y = b![i]!;
    if (Number.isNaN(x) !== Number.isNaN(y)) throw new Error(`${field}[${i}]: ${x} became ${y}`);
    if (!Number.isNaN(x)) max = Math.max(max, Math.abs(x - y));
  }
  return max;
}

const hasValues = (col: Float64Array | undefined) => !!col && col.some((v) => !Number.isNaN(v));

/** FIT's resolution per column (the profile's scale): a round trip may move a value by half of it at most. */
const FIT_RESOLUTION: Record<string, number> = {
  t: 0,
  hr: 0.5,
  cadence: 1 / 128,
  speed: 0.0005,
  distance: 0.005,
  altitude: 0.1,
  temperature: 0.5,
  respiration: 0.005,
  power: 0.5,
  lat: 180 / 2 ** 31,
  lon: 180 / 2 ** 31,
};

function expectFitRoundTrip(run: NormalizedRun): void {
  const bytes = exportRun(exportable(run), 'fit').body as Uint8Array;
  const back = decodeFitSync(bytes);
  const a = run.samples as Cols;
  const b = back.samples as Cols;
  expect(b.length).toBe(a.length);
  // FIT times are whole seconds.
  expect(Math.abs(Date.parse(back.meta.startTime!) - Date.parse(run.meta.startTime!))).toBeLessThan(1000);
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a.timestamp[i])) expect(Math.floor(b.timestamp[i]! / 1000)).toBe(Math.floor(a.timestamp[i]! / 1000));
  }
  // A run whose file names no sport is written as running (what crampguard analyses).
  expect(back.meta.sport).toBe(run.meta.sport ?? 'running');
  expect(back.meta.laps.length).toBe(Math.max(1, run.meta.laps.length));
  // FIT records are stamped in whole seconds: a GPX run's fractional seconds move by under one.
  const wholeSeconds = a.t.every((t) => Number.isInteger(t));
  for (const [field, fieldResolution] of Object.entries(FIT_RESOLUTION)) {
    const resolution = field === 't' && !wholeSeconds ? 1 : fieldResolution;
    const col = (a as unknown as Record<string, Float64Array | undefined>)[field];
    if (!hasValues(col)) continue;
    expect(maxDiff(field, col, (b as unknown as Record<string, Float64Array>)[field], a.length), field).toBeLessThanOrEqual(resolution + 1e-9);
  }
}

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\r\n').filter((l) => l.length > 0);
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

describe('exports round-trip', () => {
  it('a scenario run with pauses and laps: FIT back to the same samples, laps and pauses', () => {
    const run = decodeFitSync(new Uint8Array(readFileSync(join(SCENARIOS, 'pause-mid-run.fit'))));
    expect(run.meta.pauses.length).toBeGreaterThan(0);
    expectFitRoundTrip(run);
    const back = decodeFitSync(exportRun(exportable(run), 'fit').body as Uint8Array);
    expect(back.meta.pauses).toEqual(run.meta.pauses);
    expect(back.meta.laps.map((l) => [l.startT, l.endT])).toEqual(run.meta.laps.map((l) => [l.startT, l.endT]));
  });

  it('CSV holds every stored value bit for bit, missing ones as empty cells', () => {
    const run = decodeFitSync(new Uint8Array(readFileSync(join(SCENARIOS, 'easy-hr-dropouts.fit'))));
    const csv = exportRun(exportable(run), 'csv').body as string;
    const { header, rows } = parseCsv(csv);
    expect(header.slice(0, 2)).toEqual(['t', 'time']);
    expect(rows).toHaveLength(run.samples.length);
    const cols = run.samples as unknown as Record<string, Float64Array>;
    let missing = 0;
    for (let c = 2; c < header.length; c++) {
      const col = cols[header[c]!]!;
      for (let i = 0; i < rows.length; i++) {
        const cell = rows[i]![c]!;
        const v = cell === '' ? NaN : Number(cell);
        if (cell === '') missing++;
        if (!Object.is(v, col[i])) throw new Error(`${header[c]}[${i}]: ${col[i]} written as '${cell}'`);
      }
    }
    expect(missing, 'the HR dropouts are empty cells').toBeGreaterThan(0);
    for (let i = 0; i < rows.length; i++) expect(Number(rows[i]![0])).toBe(run.samples.t[i]);
    expect(rows[0]![1]).toBe(run.meta.startTime);
  });

  it('GPX needs positions: a run without a track is refused with a code', () => {
    const run = decodeFitSync(new Uint8Array(readFileSync(join(SCENARIOS, 'treadmill-no-speed.fit'))));
    expect(exportProblem(exportable(run), 'gpx')?.code).toBe('EXPORT_NO_POSITIONS');
    expect(() => exportRun(exportable(run), 'gpx')).toThrow(/positions/);
    expect(exportProblem(exportable(run), 'fit')).toBeNull();
  });

  it('names the download after the run, or its start', () => {
    const run = decodeFitSync(new Uint8Array(readFileSync(join(SCENARIOS, 'tempo-30.fit'))));
    expect(exportFileName(exportable(run, 'Tuesday tempo.fit'), 'gpx')).toBe('Tuesday-tempo.gpx');
    expect(exportFileName(exportable(run), 'json')).toBe(`run-${run.meta.startTime!.slice(0, 19).replace(/[:T]/g, '-')}.report.json`);
  });

  describe.skipIf(!haveReal)('real runs with GPS', () => {
    for (const file of REAL_FIT) {
      it(`${file}: FIT back to the same samples and track; GPX back to the same track and sensors`, () => {
        const run = decodeFitSync(new Uint8Array(readFileSync(join(REALRUNS, file))));
        const s = run.samples as Cols;
        expect(hasValues(s.lat), 'the file has a track').toBe(true);
        expectFitRoundTrip(run);

        const gpx = exportRun(exportable(run, file), 'gpx').body as string;
        const back = decodeGpxText(gpx);
        const b = back.samples as Cols;
        // Every sample with a fix becomes a point.
        let fixes = 0;
        for (let i = 0; i < s.length; i++) if (Number.isFinite(s.lat![i]) && Number.isFinite(s.lon![i])) fixes++;
        expect(b.length).toBe(fixes);
        if (fixes === s.length) {
          expect(maxDiff('t', s.t, b.t, s.length)).toBe(0);
          expect(maxDiff('lat', s.lat, b.lat, s.length)).toBeLessThanOrEqual(5e-8);
          expect(maxDiff('lon', s.lon, b.lon, s.length)).toBeLessThanOrEqual(5e-8);
          expect(maxDiff('hr', s.hr, b.hr, s.length)).toBeLessThanOrEqual(0.5);
          if (hasValues(s.cadence)) expect(maxDiff('cadence', s.cadence, b.cadence, s.length)).toBeLessThanOrEqual(0.1);
          if (hasValues(s.altitude)) expect(maxDiff('altitude', s.altitude, b.altitude, s.length)).toBeLessThanOrEqual(0.005);
        }
        // GPX starts at its first point: the first sample with a fix.
        const first = Array.from(s.lat!).findIndex((v, i) => Number.isFinite(v) && Number.isFinite(s.lon![i]));
        expect(back.meta.startTime).toBe(new Date(s.timestamp[first]!).toISOString());
      });
    }

    for (const file of REAL_GPX) {
      it(`${file}: GPX back to the same points; FIT back to the same samples`, () => {
        const run = decodeGpxText(readFileSync(join(REALRUNS, file), 'utf8'));
        const s = run.samples as Cols;
        const back = decodeGpxText(exportRun(exportable(run), 'gpx').body as string);
        const b = back.samples as Cols;
        expect(b.length).toBe(s.length);
        expect(back.meta.startTime).toBe(run.meta.startTime);
        expect(maxDiff('t', s.t, b.t, s.length)).toBeLessThanOrEqual(1e-3);
        for (const f of ['lat', 'lon'] as const) expect(maxDiff(f, s[f], b[f], s.length)).toBeLessThanOrEqual(5e-8);
        expect(maxDiff('hr', s.hr, b.hr, s.length)).toBeLessThanOrEqual(0.5);
        // GPX distance is derived from the positions: seven decimals of a degree move it by centimetres a point.
        expect(maxDiff('distance', s.distance, b.distance, s.length)).toBeLessThanOrEqual(1);
        if (hasValues(s.altitude)) expect(maxDiff('altitude', s.altitude, b.altitude, s.length)).toBeLessThanOrEqual(0.005);
        expectFitRoundTrip(run);
      });
    }
  });

  it('every scenario fixture survives a FIT round trip', () => {
    for (const f of readdirSync(SCENARIOS).filter((n) => n.endsWith('.fit'))) {
      const run = decodeFitSync(new Uint8Array(readFileSync(join(SCENARIOS, f))));
      try {
        expectFitRoundTrip(run);
      } catch (err) {
        throw new Error(`${f}: ${(err as Error).message}`);
      }
    }
  });
});
