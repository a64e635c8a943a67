import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocColumns, SAMPLE_FIELDS } from '../../ingest/sample.js';
import { chunkRows, decodeChunks, encodeChunk } from '../../src/store/codec.js';
import { StoreError } from '../../src/store/types.js';

/** Doubles including NaN, ±0, ±Infinity and subnormals. */
const value = fc.oneof(fc.double(), fc.constant(NaN), fc.constant(-0));

/** A column of `length` values of one of the shapes the codec treats differently. */
const column = (length: number) =>
  fc.oneof(
    fc.array(value, { minLength: length, maxLength: length }), // anything: float64
    fc.array(fc.oneof(fc.integer({ min: -300, max: 300 }), fc.constant(NaN)), { minLength: length, maxLength: length }), // float32
    fc.array(fc.float({ noNaN: false }), { minLength: length, maxLength: length }), // float32, incl. -0 and ±Infinity
    fc.tuple(fc.oneof(fc.double({ noNaN: true }), fc.constant(-0)), fc.oneof(fc.double({ noNaN: true }), fc.constant(1), fc.constant(0.1))).map(
      ([first, step]) => Array.from({ length }, (_, i) => first + i * step), // progression (or near one)
    ),
    fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.constant(0.1)).map(([first, step]) =>
      Array.from({ length }, (_, i) => Math.round((first + i * step) * 10) / 10), // decimal steps: rarely exact
    ),
    fc.array(fc.oneof(fc.integer({ min: -(2 ** 31) + 2, max: 2 ** 31 - 2 }).map((k) => k * (180 / 2 ** 31)), fc.constant(NaN)), { minLength: length, maxLength: length }), // FIT positions
    fc.array(fc.oneof(fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }).map((k) => Number((k / 1e7).toFixed(7))), fc.constant(NaN)), { minLength: length, maxLength: length }), // GPX positions
  );

describe('sample chunk codec', () => {
  it('round-trips any columns cut at any boundaries (NaN, -0, ±Infinity kept)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((length) =>
          fc.record({
            length: fc.constant(length),
            fields: fc.array(column(length), {
              minLength: SAMPLE_FIELDS.length,
              maxLength: SAMPLE_FIELDS.length,
            }),
            cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 5 }),
            allNaN: fc.subarray([...SAMPLE_FIELDS]),
          }),
        ),
        ({ length, fields, cuts, allNaN }) => {
          const cols = allocColumns(length);
          SAMPLE_FIELDS.forEach((field, f) => {
            if (!allNaN.includes(field)) cols[field].set(fields[f]!);
          });
          const bounds = [0, ...cuts.filter((c) => c < length).sort((a, b) => a - b), length];
          const blobs = bounds.slice(1).map((end, i) => encodeChunk(cols, bounds[i], end));
          const back = decodeChunks(blobs);
          expect(back.length).toBe(length);
          for (const field of SAMPLE_FIELDS) {
            for (let i = 0; i < length; i++) expect(Object.is(back[field][i], cols[field][i])).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodes the same bytes into recycled memory: no byte is left as the pool had it', () => {
    const cols = allocColumns(3);
    for (let i = 0; i < 3; i++) {
      cols.t[i] = i;
      cols.hr[i] = 150 + i * 3;
      cols.speed[i] = 3 + i / 7;
    }
    /** Fills the rest of the slab Node's shared pool cuts its next small buffers from, and encodes there. */
    const encodeOver = (fill: number) => {
      // Near a slab's end the chunk would come from the next slab: step past it first.
      let probe = Buffer.allocUnsafe(1);
      while (probe.buffer.byteLength - probe.byteOffset < 256) probe = Buffer.allocUnsafe(1);
      new Uint8Array(probe.buffer, probe.byteOffset).fill(fill);
      const chunk = encodeChunk(cols);
      expect(chunk.buffer).toBe(probe.buffer);
      return Buffer.from(chunk);
    };
    const overZeros = encodeOver(0);
    for (const garbage of [0xff, 0xa5, 0x01]) expect(encodeOver(garbage).equals(overZeros)).toBe(true);
  });

  it('picks the smallest exact encoding per field', () => {
    const cols = allocColumns(100);
    for (let i = 0; i < 100; i++) {
      cols.t[i] = i; // progression: 16 bytes
      cols.timestamp[i] = 1.7e12 + i * 1000; // progression: 16 bytes
      cols.hr[i] = 140 + (i % 7); // integers: float32
      cols.speed[i] = 3 + i / 7; // fractions: float64
    }
    // cadence … power: NaN throughout, left out
    const blob = encodeChunk(cols);
    expect(chunkRows(blob)).toBe(100);
    expect(blob.byteLength).toBe(16 + 16 + 16 + 100 * 4 + 100 * 8);
    expect(decodeChunks([blob]).speed).toEqual(cols.speed);
    cols.t[50] = 50.5; // breaks the progression: float32 then (50.5 is exact in float32)
    expect(encodeChunk(cols).byteLength).toBe(16 + 100 * 4 + 16 + 100 * 4 + 100 * 8);
  });

  it('positions: FIT semicircle degrees and GPX 7-place decimals as int32, anything else as float64', () => {
    const cols = allocColumns(50);
    for (let i = 0; i < 50; i++) {
      cols.t[i] = i;
      cols.lat[i] = (477_123_456 + i * 37) * (180 / 2 ** 31); // what fit-file-parser gives for semicircles
      cols.lon[i] = Number.parseFloat((8.5123456 + i * 1e-7).toFixed(7)); // what a GPX lon="8.5123457" parses to
    }
    cols.lat[7] = NaN;
    cols.lon[7] = NaN;
    const blob = encodeChunk(cols);
    expect(blob[0]).toBe(3);
    expect(blob.byteLength).toBe(16 + 16 + 50 * 4 + 50 * 4);
    const back = decodeChunks([blob]);
    for (const f of ['lat', 'lon'] as const) for (let i = 0; i < 50; i++) expect(Object.is(back[f][i], cols[f][i])).toBe(true);
    cols.lon[3] = 8.512345678912345; // gpxpy writes 15 digits: no int32 is exact
    expect(encodeChunk(cols).byteLength).toBe(16 + 16 + 50 * 4 + 50 * 8);
  });

  it('still reads version-2 chunks (no position fields: they come back NaN)', () => {
    const v2 = Buffer.alloc(16 + 16 + 3 * 4);
    v2[0] = 2;
    v2.writeUInt16LE(0b101, 2); // t (progression) and hr (float32)
    v2.writeUInt32LE(3, 4);
    v2.writeUInt16LE(0b100, 8);
    v2.writeUInt16LE(0b001, 10);
    v2.writeDoubleLE(0, 16);
    v2.writeDoubleLE(1, 24);
    [150, NaN, 152].forEach((v, i) => v2.writeFloatLE(v, 32 + i * 4));
    const back = decodeChunks([v2]);
    expect(Array.from(back.t)).toEqual([0, 1, 2]);
    expect(Array.from(back.hr)).toEqual([150, NaN, 152]);
    expect(Array.from(back.lat)).toEqual([NaN, NaN, NaN]);
  });

  it('still reads version-1 chunks (float64 columns, 8-byte header)', () => {
    const v1 = Buffer.alloc(8 + 2 * 3 * 8);
    v1[0] = 1;
    v1.writeUInt16LE(0b101, 2); // t and hr
    v1.writeUInt32LE(3, 4);
    [0, 1, 2, 150, NaN, 152].forEach((v, i) => v1.writeDoubleLE(v, 8 + i * 8));
    const back = decodeChunks([v1]);
    expect(Array.from(back.t)).toEqual([0, 1, 2]);
    expect(Array.from(back.hr)).toEqual([150, NaN, 152]);
    expect(Number.isNaN(back.timestamp[0])).toBe(true);
  });

  it('reports a corrupt or unknown chunk as a coded error', () => {
    const blob = encodeChunk(allocColumns(3));
    const wrongVersion = Buffer.from(blob);
    wrongVersion[0] = 9;
    const truncated = Buffer.from(encodeChunk(Object.assign(allocColumns(3), { hr: new Float64Array([1.5, 2, 7]) }))).subarray(0, 20);
    for (const bad of [wrongVersion, truncated, Buffer.alloc(3)]) {
      const error = (() => {
        try {
          decodeChunks([bad]);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
    }
  });
});
