/**
 * fit-file-parser pitfalls, each pinned on a real file: what the library does, and what decodeFit
 * does instead. Plus the truncation promise: a file cut short keeps every complete record.
 */
import FitParser from 'fit-file-parser';
import { FitMessageReaderError, readFitMessages } from 'fit-file-parser/raw';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../ingest/errors.js';
import { decodeFit, parseSegment } from '../../ingest/fit.js';
import { fitCrc } from '../../ingest/fit/frame.js';
import { fixture } from './fit-files.js';

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/** The same bytes with a fresh file CRC (after an in-place edit). */
function recrc(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  const dataEnd = out[0]! + new DataView(out.buffer).getUint32(4, true);
  new DataView(out.buffer).setUint16(dataEnd, fitCrc(out, 0, dataEnd), true);
  return out;
}

/**
 * Independent count of the record messages wholly inside bytes[0, cut): the largest prefix that
 * fit-file-parser's strict raw reader accepts as a complete FIT file (header size and CRC patched).
 */
function completeRecordsBefore(bytes: Uint8Array, cut: number): number {
  const headerSize = bytes[0]!;
  for (let end = cut; end > headerSize; end--) {
    const candidate = new Uint8Array(end + 2);
    candidate.set(bytes.subarray(0, end));
    const view = new DataView(candidate.buffer);
    view.setUint32(4, end - headerSize, true);
    if (headerSize === 14) view.setUint16(12, 0, true); // 0 = no header CRC
    view.setUint16(end, fitCrc(candidate, 0, end), true);
    try {
      return readFitMessages(candidate, { messageNumbers: [20] }).messages.length;
    } catch (err) {
      if (!(err instanceof FitMessageReaderError)) throw err;
    }
  }
  return 0;
}

describe('a file cut short keeps every complete record before the cut', () => {
  const name = 'stadelmanma__fitparse-rs/hrv-activity.fit';
  const whole = fixture(name);

  it.each([0.5, 0.9])('cut at %d of its bytes', async (fraction) => {
    const full = await decodeFit(whole);
    const cut = Math.floor(whole.length * fraction);
    const run = await decodeFit(whole.subarray(0, cut));
    expect(run.warnings.map((w) => w.code)).toContain('truncated');
    const expected = completeRecordsBefore(whole, cut);
    expect(expected).toBeGreaterThan(full.samples.length * fraction * 0.8);
    expect(run.samples.length).toBe(expected);
    // The kept samples are exactly the full file's first ones.
    for (const f of ['timestamp', 'hr', 'cadence', 'speed', 'distance', 'power', 'respiration'] as const) {
      expect(Array.from(run.samples[f])).toEqual(Array.from(full.samples[f].subarray(0, expected)));
    }
  });

  it('fit-file-parser itself rejects the cut file (with a plain string, not an Error)', async () => {
    const rejection = await new FitParser().parseAsync(arrayBuffer(whole.subarray(0, whole.length >> 1))).catch((e: unknown) => e);
    expect(typeof rejection).toBe('string');
  });
});

describe('fit-file-parser pitfalls', () => {
  it('a developer field named like a native one (`distance`) does not replace the native value', async () => {
    // developer-types-sample.fit carries a Stryd developer field "Distance"; renaming it "distance"
    // (same length, CRC recomputed) reproduces a Connect IQ field colliding with the native name.
    const original = fixture('dtcooper__python-fitparse/developer-types-sample.fit');
    const text = Buffer.from(original).toString('latin1');
    const at = text.indexOf('Distance\0');
    expect(at).toBeGreaterThan(0);
    const patched = original.slice();
    patched[at] = 'd'.charCodeAt(0);
    const colliding = recrc(patched);

    const library = await new FitParser({ force: false }).parseAsync(arrayBuffer(colliding));
    const libraryDistance = (library.records![100] as Record<string, unknown>).distance;
    const before = await decodeFit(original);
    const after = await decodeFit(colliding);
    expect(libraryDistance).not.toBeCloseTo(before.samples.distance[100]!, 1); // the library shows the dev value
    expect(Array.from(after.samples.distance)).toEqual(Array.from(before.samples.distance));
    expect(after.warnings.map((w) => w.code)).toContain('developer_field_collision');
  });

  it('compressed speed/distance (FR70) is decoded, not left as raw bytes', async () => {
    const bytes = fixture('dtcooper__python-fitparse/compressed-speed-distance.fit');
    const library = parseSegment(bytes);
    expect(Array.isArray((library.records![1] as Record<string, unknown>).compressed_speed_distance)).toBe(true);
    const run = await decodeFit(bytes);
    expect(run.channels).toEqual(expect.arrayContaining(['speed', 'distance']));
    const d = run.samples.distance;
    for (let i = 1; i < d.length; i++) if (d[i]! < d[i - 1]!) throw new Error(`distance goes back at ${i}`);
    // The accumulated distance ends at the session's total (whole-file lap sum), within 1 %.
    const total = (library.sessions![0] as Record<string, unknown>).total_distance as number;
    expect(d[d.length - 1]! / total).toBeGreaterThan(0.99);
    expect(d[d.length - 1]! / total).toBeLessThan(1.01);
  });

  it('every file of a chained FIT is decoded (fit-file-parser stops after the first)', async () => {
    // A chained FIT is FIT files back to back: a 2017 run followed by a 2019 ride, both real.
    const run1 = fixture('dtcooper__python-fitparse/garmin-fenix-5-run.fit');
    const ride = fixture('stadelmanma__fitparse-rs/hrv-activity.fit');
    const chained = new Uint8Array(run1.length + ride.length);
    chained.set(run1);
    chained.set(ride, run1.length);
    const library = await new FitParser().parseAsync(arrayBuffer(chained));
    const [first, second, both] = await Promise.all([decodeFit(run1), decodeFit(ride), decodeFit(chained)]);
    expect(library.records).toHaveLength(first.samples.length);
    expect(both.samples.length).toBe(first.samples.length + second.samples.length);
    expect(both.meta.legs.map((l) => l.sport)).toEqual(['running', 'cycling']);
    expect(both.meta.sport).toBe('multisport');
    expect(both.rr!.ms.length).toBe(first.rr!.ms.length + second.rr!.ms.length);
  });

  it('CRCs are checked (fit-file-parser\'s default force: true accepts a corrupt file)', async () => {
    const bytes = fixture('dtcooper__python-fitparse/activity-filecrc.fit');
    await expect(new FitParser().parseAsync(arrayBuffer(bytes))).resolves.toBeDefined();
    await expect(decodeFit(bytes)).rejects.toMatchObject({ code: 'FIT_CRC_MISMATCH' });
  });

  it('altitude stays in metres (fit-file-parser\'s lengthUnit also scales altitude)', async () => {
    const bytes = fixture('dtcooper__python-fitparse/garmin-fenix-5-run.fit');
    const km = await new FitParser({ lengthUnit: 'km' }).parseAsync(arrayBuffer(bytes));
    const run = await decodeFit(bytes);
    const last = run.samples.length - 1;
    expect(run.samples.altitude[last]).toBeCloseTo(4.2, 6); // enhanced_altitude 4.2 m
    expect((km.records![last] as Record<string, unknown>).altitude).toBeCloseTo(0.0042, 6);
  });

  it('timestamps are Date objects at run time although typed string; ours are epoch ms', async () => {
    const bytes = fixture('dtcooper__python-fitparse/garmin-fenix-5-run.fit');
    const library = await new FitParser().parseAsync(arrayBuffer(bytes));
    expect(library.records![0]!.timestamp).toBeInstanceOf(Date);
    const run = await decodeFit(bytes);
    expect(run.samples.timestamp[0]).toBe(Date.parse('2017-06-11T14:34:09Z'));
  });

  it('errors fit-file-parser throws (Error) or reports (plain string) both become IngestError', () => {
    const header = [14, 0x10, 0, 0, 24, 0, 0, 0, 0x2e, 0x46, 0x49, 0x54, 0, 0];
    const thrown = new Uint8Array(40).fill(0x30); // record header with reserved bits: thrown Error
    thrown.set(header);
    const reported = new Uint8Array(thrown);
    reported[9] = 0x58; // ".XIT": reported through the callback as a string
    for (const bytes of [thrown, reported]) {
      let caught: unknown;
      try {
        parseSegment(bytes);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(IngestError);
      expect((caught as IngestError).code).toBe('FIT_DECODE_FAILED');
      expect((caught as IngestError).message).toMatch(/^could not decode FIT data: \S/);
    }
  });
});
