import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocColumns, SAMPLE_FIELDS } from '../../ingest/sample.js';
import { chunkRows, decodeChunks, encodeChunk } from '../../src/store/codec.js';
import { StoreError } from '../../src/store/types.js';

/** Doubles including NaN, ±0, ±Infinity and subnormals. */
const value = fc.oneof(fc.double(), fc.constant(NaN), fc.constant(-0));

describe('sample chunk codec', () => {
  it('round-trips any columns cut at any boundaries (NaN, -0, ±Infinity kept)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((length) =>
          fc.record({
            length: fc.constant(length),
            fields: fc.array(fc.array(value, { minLength: length, maxLength: length }), {
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

  it('leaves out fields that are NaN throughout a chunk', () => {
    const cols = allocColumns(100);
    cols.t.forEach((_, i) => (cols.t[i] = i));
    cols.hr.fill(150);
    const blob = encodeChunk(cols);
    expect(chunkRows(blob)).toBe(100);
    expect(blob.byteLength).toBe(8 + 2 * 100 * 8); // header + t + hr
  });

  it('reports a corrupt or unknown chunk as a coded error', () => {
    const blob = encodeChunk(allocColumns(3));
    const wrongVersion = Buffer.from(blob);
    wrongVersion[0] = 9;
    const truncated = Buffer.from(encodeChunk(Object.assign(allocColumns(3), { hr: new Float64Array([1, 2, 3]) }))).subarray(0, 20);
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
