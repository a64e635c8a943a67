/** The packed form of a group commit gives back exactly the batches and results it was made of. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPackedBatches, packBatches, packResults, unpackBatches, unpackResults } from '../../src/store/batch-wire.js';
import type { EncodedChunk } from '../../src/store/codec.js';
import type { SampleBatch, SampleBatchResult } from '../../src/store/types.js';

const encodedBatch = fc.record({
  athleteId: fc.string({ unit: 'binary' }),
  runId: fc.string({ unit: 'binary' }),
  seq: fc.double(),
  samples: fc.record({ rows: fc.double(), firstT: fc.double(), bytes: fc.uint8Array({ maxLength: 64 }) }),
});

describe('packed sample batches', () => {
  it('unpack to the same ids, numbers (NaN and -0 included) and bytes, for any strings', () => {
    fc.assert(
      fc.property(fc.array(encodedBatch, { maxLength: 20 }), (batches) => {
        const packed = packBatches(batches)!;
        // What crosses: a structured clone, as postMessage makes it.
        const crossed = structuredClone(packed);
        expect(isPackedBatches(crossed)).toBe(true);
        const back = unpackBatches(crossed);
        expect(back.map((b) => ({ ...b, samples: { ...b.samples, bytes: new Uint8Array((b.samples as EncodedChunk).bytes) } }))).toEqual(batches);
      }),
    );
  });

  it('are not made when a batch holds columns or a malformed chunk (that call crosses as it is, for the store to judge)', () => {
    const ok: SampleBatch = { athleteId: 'a', runId: 'r', seq: 1, samples: { rows: 1, firstT: 0, bytes: new Uint8Array(20) } };
    expect(packBatches([ok])).not.toBeNull();
    expect(packBatches([ok, { ...ok, samples: { t: new Float64Array(1) } as unknown as SampleBatch['samples'] }])).toBeNull();
    expect(packBatches([ok, { ...ok, samples: { rows: 1, firstT: 0, bytes: [1, 2] } as unknown as SampleBatch['samples'] }])).toBeNull();
    expect(packBatches([{ ...ok, seq: '1' as unknown as number }])).toBeNull();
  });

  it('results come back with their batch run and seq, every status', () => {
    const statuses = ['stored', 'duplicate', 'not_found', 'not_live', 'invalid'] as const;
    const batches: SampleBatch[] = statuses.map((_, i) => ({ athleteId: 'a', runId: `r${i}`, seq: i + 1, samples: { rows: 1, firstT: 0, bytes: new Uint8Array(20) } }));
    const results: SampleBatchResult[] = statuses.map((status, i) => ({ runId: `r${i}`, seq: i + 1, status, contiguousSeq: i * 7 }));
    expect(unpackResults(batches, structuredClone(packResults(results)))).toEqual(results);
    expect(() => unpackResults(batches.slice(1), packResults(results))).toThrow(/expected 4 results, got 5/);
  });
});
