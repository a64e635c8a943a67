/**
 * The promise that makes live and uploaded runs interchangeable: the same run, sent sample by sample as a watch
 * would (in any batching, with restarts), gives exactly the Samples that decoding its FIT file gives.
 * FIT path: decodeFit (ingest/fit.ts). Live path: parseWireBatch + createLiveNormalizer. The wire samples are
 * built from fit-file-parser's raw records the way a companion app would send them (raw device values, cadence
 * converted to steps/min), not from decodeFit's output, so the plausibility rules of both paths are compared.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import FitParser from 'fit-file-parser';
import { describe, expect, it } from 'vitest';
import { decodeFit } from '../../ingest/fit.js';
import { createLiveBatchOutput, createLiveNormalizer, MAX_BATCH_SAMPLES, parseWireBatch, type WireSample } from '../../ingest/live.js';
import { readRow, emptySample, SAMPLE_FIELDS, type Sample, type SampleColumns } from '../../ingest/sample.js';

// The project's own copies (fixtures/README.md gives each one's source), so this runs on any clone.
const FIT_DIR = new URL('../../fixtures/fit/', import.meta.url);

type RawRecord = Record<string, unknown>;

async function rawRecords(bytes: Buffer): Promise<RawRecord[]> {
  const parser = new FitParser({ force: true, mode: 'list', speedUnit: 'm/s', lengthUnit: 'm', temperatureUnit: 'celsius' });
  const parsed = await parser.parseAsync(Buffer.from(bytes) as Buffer<ArrayBuffer>);
  return (parsed.records ?? []) as RawRecord[];
}

const value = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** What a companion app sends for one watch record: raw values, cadence as steps/min (both legs). */
function toWire(r: RawRecord): WireSample | null {
  if (!(r.timestamp instanceof Date)) return null;
  const strides = value(r.cadence);
  return {
    timestamp: r.timestamp.getTime(),
    hr: value(r.heart_rate),
    cadence: strides === null ? null : 2 * (strides + (value(r.fractional_cadence) ?? 0)),
    speed: value(r.enhanced_speed) ?? value(r.speed),
    distance: value(r.distance),
    altitude: value(r.enhanced_altitude) ?? value(r.altitude),
    temperature: value(r.temperature),
    respiration: value(r.enhanced_respiration_rate) ?? value(r.respiration_rate),
    power: value(r.power),
    lat: value(r.position_lat), // degrees: fit-file-parser converts the semicircles
    lon: value(r.position_long),
  };
}

function rows(cols: SampleColumns): Sample[] {
  return Array.from({ length: cols.length }, (_, i) => readRow(cols, i, emptySample()));
}

/** Sends `wire` in batches of the given sizes (cycled), restarting from saved state before batch `restartAt`. */
function sendLive(wire: WireSample[], sizes: number[], restartAt: number): Sample[] {
  let norm = createLiveNormalizer();
  const out = createLiveBatchOutput();
  const got: Sample[] = [];
  for (let i = 0, b = 0; i < wire.length; b++) {
    const size = sizes[b % sizes.length]!;
    const parsed = parseWireBatch(JSON.parse(JSON.stringify(wire.slice(i, i + size)))); // over the wire: JSON
    if (!parsed.ok) throw new Error(`${parsed.error.code}: ${parsed.error.message}`);
    if (b === restartAt) norm = createLiveNormalizer(JSON.parse(JSON.stringify(norm.state())));
    norm.push(parsed.batch, out);
    for (const s of out.samples) got.push({ ...s });
    i += size;
  }
  return got;
}

/** The first row and field where two sample streams differ (Object.is: NaN equals NaN), or null. Much faster than
 * a deep toEqual on thousands of rows, and says where. */
function firstDifference(a: Sample[], b: Sample[]): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    for (const f of SAMPLE_FIELDS) {
      if (!Object.is(a[i]![f], b[i]![f])) return `row ${i} (t=${b[i]!.t}) ${f}: ${a[i]![f]} vs ${b[i]![f]}`;
    }
  }
  return null;
}

const batchSizes = fc.array(fc.integer({ min: 1, max: MAX_BATCH_SAMPLES }), { minLength: 1, maxLength: 8 });

describe('live path = FIT path on real running files', () => {
  it.each([
    'jimmykane__fit-parser/garmin-stamina.fit', // Garmin, power, fractional cadence
    'dtcooper__python-fitparse/activity-small-fenix2-run.fit', // Fenix 2, temperature
    'dtcooper__python-fitparse/garmin-fenix-5-run.fit', // Fenix 5, RR intervals
    'jimmykane__fit-parser/running-with-developer-data.fit', // developer fields beside the native ones
  ])('%s: identical Samples in any batching, with a restart anywhere', async (file) => {
    const bytes = readFileSync(new URL(file, FIT_DIR));
    const fit = rows((await decodeFit(bytes)).samples);
    const wire = (await rawRecords(bytes)).map(toWire).filter((w): w is WireSample => w !== null);
    expect(fit.length).toBeGreaterThan(10);
    fc.assert(
      fc.property(batchSizes, fc.nat(20), (sizes, restartAt) => {
        expect(firstDifference(sendLive(wire, sizes, restartAt), fit)).toBeNull();
      }),
      { numRuns: 3 },
    );
  });

  it('implausible values are dropped identically: the same file with spikes injected', async () => {
    const bytes = readFileSync(new URL('dtcooper__python-fitparse/activity-small-fenix2-run.fit', FIT_DIR));
    const wire = (await rawRecords(bytes)).map(toWire).filter((w): w is WireSample => w !== null);
    // The FIT path read these values from the same file, so to compare rules we push both through the same
    // values: spike the wire copy and check the live path drops exactly the spiked ones.
    const spiked = wire.map((w, i) => (i % 97 === 5 ? { ...w, hr: 300, speed: 25, cadence: 400 } : w));
    const fit = rows((await decodeFit(bytes)).samples);
    const live = sendLive(spiked, [137], -1);
    expect(live).toHaveLength(fit.length);
    const spikedRows = live.filter((_, i) => i % 97 === 5);
    expect(spikedRows.every((s) => [s.hr, s.speed, s.cadence].every(Number.isNaN))).toBe(true);
    const blank = (s: Sample, i: number): Sample => (i % 97 === 5 ? { ...s, hr: NaN, speed: NaN, cadence: NaN } : s);
    expect(firstDifference(live, fit.map(blank))).toBeNull();
  });

  it('known difference: a repeated timestamp is kept by the FIT path and dropped live (a resend)', async () => {
    // Forerunner 110 file with 7 records that repeat the previous record's timestamp.
    const bytes = readFileSync(new URL('dtcooper__python-fitparse/2013-02-06-12-11-14.fit', FIT_DIR));
    const fit = rows((await decodeFit(bytes)).samples);
    const wire = (await rawRecords(bytes)).map(toWire).filter((w): w is WireSample => w !== null);
    const live = sendLive(wire, [60], -1);
    const repeats = fit.filter((s, i) => i > 0 && s.t === fit[i - 1]!.t).length;
    expect(repeats).toBeGreaterThan(0);
    expect(live).toHaveLength(fit.length - repeats);
    expect(firstDifference(live, fit.filter((s, i) => !(i > 0 && s.t === fit[i - 1]!.t)))).toBeNull();
    for (const f of SAMPLE_FIELDS) expect(live.every((s) => typeof s[f] === 'number')).toBe(true);
  });
});
