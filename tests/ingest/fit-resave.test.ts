/**
 * Two FIT decoding bugs (issue 15), each reproduced by re-encoding a real run with the project's FIT writer
 * (src/export/fit.ts, the encoder behind src/sim/write-fit.ts) and pinned:
 * (a) a GoldenCheetah re-save declares `temperature` (sint8 in the FIT profile) with another base type; other
 *     decoders read it by the declared type (29 °C on every record), fit-file-parser drops it, so the run had none;
 * (b) an Edge 500 file has a record stamped ~2 years ahead after which time carries on normally: the glitch must
 *     go and the records after it stay (before, 1,710 good records after it were dropped as going back in time).
 */
import FitParser from 'fit-file-parser';
import { describe, expect, it } from 'vitest';
import { decodeFit } from '../../ingest/fit.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { encodeFitActivity, type FitChannel } from '../../src/export/fit.js';
import { checkRun, fixture, withValidCrc } from './fit-files.js';

const SOURCE = 'roznet__FitFileParser/running.fit'; // Fenix 5X Plus, 1:53 h, 8 pauses
const TWO_YEARS_S = 2 * 365 * 86_400;

/** The real run written again by the project's writer, with `edit` applied to a copy of its columns first. */
async function reencode(edit: (run: NormalizedRun) => void = () => {}): Promise<{ source: NormalizedRun; bytes: Uint8Array }> {
  const source = await decodeFit(fixture(SOURCE));
  const copy: NormalizedRun = structuredClone(source);
  edit(copy);
  const channels = ['hr', 'cadence', 'speed', 'distance', 'altitude', 'temperature', 'position'] as FitChannel[];
  const bytes = encodeFitActivity({
    startMs: Date.parse(source.meta.startTime!),
    sport: 1,
    subSport: 0,
    sportName: 'Run',
    manufacturer: 255,
    product: 1,
    samples: copy.samples,
    channels,
    laps: [],
    pauses: source.meta.pauses,
    elapsedS: source.meta.elapsedS,
    timerS: source.meta.timerS,
  });
  return { source, bytes };
}

/** Sets the declared base type of `field` in every record (global 20) definition; returns how many it changed. */
function redeclareRecordField(bytes: Uint8Array, field: number, baseType: number): number {
  const headerSize = bytes[0]!;
  const dataEnd = headerSize + new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  const sizes = new Map<number, number>();
  let changed = 0;
  for (let p = headerSize; p < dataEnd; ) {
    const h = bytes[p]!;
    if ((h & 0x80) !== 0) throw new Error('compressed timestamps are not written by the project\'s encoder');
    const local = h & 0x0f;
    if ((h & 0x40) === 0) {
      p += 1 + sizes.get(local)!;
      continue;
    }
    const little = bytes[p + 2] === 0;
    const global = little ? bytes[p + 3]! | (bytes[p + 4]! << 8) : (bytes[p + 3]! << 8) | bytes[p + 4]!;
    const count = bytes[p + 5]!;
    let size = 0;
    for (let f = 0; f < count; f++) {
      const q = p + 6 + f * 3;
      size += bytes[q + 1]!;
      if (global === 20 && bytes[q] === field) {
        bytes[q + 2] = baseType;
        changed++;
      }
    }
    let end = p + 6 + count * 3;
    if ((h & 0x20) !== 0) {
      const dev = bytes[end]!;
      for (let f = 0; f < dev; f++) size += bytes[end + 1 + f * 3 + 1]!;
      end += 1 + dev * 3;
    }
    sizes.set(local, size);
    p = end;
  }
  return changed;
}

describe('(a) temperature declared with another base type (GoldenCheetah re-save)', () => {
  it('is read by its declared type: 29 °C on every record, with a warning', async () => {
    const { source, bytes } = await reencode((r) => r.samples.temperature.fill(29));
    const patched = new Uint8Array(bytes);
    expect(redeclareRecordField(patched, 13, 0x02)).toBeGreaterThan(0); // sint8 (0x01) declared as uint8 (0x02)
    const resaved = withValidCrc(patched);

    // fit-file-parser alone drops the field: this is the bug being worked around.
    const parsed = await new FitParser({ force: true, mode: 'list' }).parseAsync(Buffer.from(resaved) as Buffer<ArrayBuffer>);
    expect((parsed.records ?? []).some((r) => (r as Record<string, unknown>).temperature !== undefined)).toBe(false);

    const run = await decodeFit(resaved);
    checkRun(run);
    expect(run.channels).toContain('temperature');
    expect(run.samples.length).toBe(source.samples.length);
    expect(Array.from(run.samples.temperature).every((v) => v === 29)).toBe(true);
    expect(Array.from(run.samples.hr)).toEqual(Array.from(source.samples.hr));
    expect(run.warnings.map((w) => w.code)).toContain('field_type_mismatch');
  });

  it('the same file as written (sint8 declared) needs no repair', async () => {
    const { bytes } = await reencode((r) => r.samples.temperature.fill(29));
    const run = await decodeFit(bytes);
    expect(Array.from(run.samples.temperature).every((v) => v === 29)).toBe(true);
    expect(run.warnings.map((w) => w.code)).not.toContain('field_type_mismatch');
  });
});

describe('(b) a record stamped ~2 years ahead, then time carries on (Edge 500)', () => {
  it.each([1, 2, 5])('%i glitched record(s) at record 106: dropped, every record after kept', async (glitched) => {
    const { source, bytes } = await reencode((r) => {
      for (let k = 0; k < glitched; k++) r.samples.t[106 + k] = r.samples.t[106 + k]! + TWO_YEARS_S;
    });
    const run = await decodeFit(bytes);
    checkRun(run);
    expect(run.samples.length).toBe(source.samples.length - glitched);
    // The rows after the glitch are the source's rows after it, at their own times.
    expect(run.samples.t[106]).toBe(source.samples.t[106 + glitched]);
    expect(run.samples.t[run.samples.length - 1]).toBe(source.samples.t[source.samples.length - 1]);
    expect(run.meta.elapsedS).toBe(source.meta.elapsedS);
    const jump = run.warnings.find((w) => w.code === 'time_jump');
    expect(jump?.count).toBe(glitched);
    expect(run.warnings.map((w) => w.code)).not.toContain('time_backwards');
  });

  it('a real gap of two years that time does not come back from is kept', async () => {
    const { source, bytes } = await reencode((r) => {
      for (let i = 106; i < r.samples.length; i++) r.samples.t[i] = r.samples.t[i]! + TWO_YEARS_S;
    });
    const run = await decodeFit(bytes);
    expect(run.samples.length).toBe(source.samples.length);
    expect(run.warnings.find((w) => w.code === 'time_jump')?.message).toMatch(/kept a 17520\.0 h gap/);
  });
});
