// The allocation-free checks in front of the live wire schemas (ingest/live.ts isPlainBatch, src/wire/schemas.ts
// isPlainSampleBatchMsg) must never take what the schemas refuse, must take the messages watches really send, and
// what they pass on must normalise exactly as the schema's output does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLiveNormalizer, isPlainBatch, MAX_RR_PER_SAMPLE, MIN_TIMESTAMP_MS, parseWireBatch, WireBatchSchema } from '../../ingest/live.js';
import { isPlainSampleBatchMsg, SampleBatchMsgSchema } from '../../src/wire/schemas.js';

/** Mostly well-formed values, with every kind of wrong one mixed in. */
const anything = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, 1e300),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.array(fc.double(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const mostly = <T>(good: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: anything, weight: 1 });
const measured = mostly(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(null), fc.constant(undefined)));
const timestamp = mostly(
  fc.oneof(
    fc.integer({ min: MIN_TIMESTAMP_MS - 10, max: 2_000_000_000_000 }),
    fc.constant(undefined),
    fc.constant('2026-12-01T10:00:00Z'),
    fc.constant('2026-12-01T10:00:00'),
  ),
);
/** Samples as watches send them: every field well-formed or missing, timestamps as epoch ms. */
const goodSample = fc.record(
  {
    t: fc.double({ min: 0, max: 1e5, noNaN: true }),
    timestamp: fc.integer({ min: MIN_TIMESTAMP_MS, max: 2_000_000_000_000 }),
    hr: fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constant(null)),
    cadence: fc.double({ min: 0, max: 300, noNaN: true }),
    speed: fc.double({ min: 0, max: 30, noNaN: true }),
    distance: fc.double({ min: 0, max: 1e5, noNaN: true }),
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    rr: fc.array(fc.double({ min: 100, max: 3000, noNaN: true }), { maxLength: 4 }),
    extra: fc.string(),
  },
  { requiredKeys: ['t'] },
);
const sample = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record(
      {
        t: mostly(fc.oneof(fc.double({ min: -1, max: 1e5, noNaN: true }), fc.constant(undefined))),
        timestamp,
        hr: measured,
        cadence: measured,
        speed: measured,
        distance: measured,
        altitude: measured,
        temperature: measured,
        respiration: measured,
        power: measured,
        lat: mostly(fc.double({ min: -95, max: 95, noNaN: true })),
        lon: mostly(fc.double({ min: -185, max: 185, noNaN: true })),
        rr: mostly(fc.oneof(fc.array(fc.double({ min: 200, max: 2000, noNaN: true }), { maxLength: 4 }), fc.constant(new Array(MAX_RR_PER_SAMPLE + 1).fill(500)))),
        extra: anything,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anything },
);
const batch = fc.oneof({ weight: 10, arbitrary: fc.array(sample, { minLength: 0, maxLength: 5 }) }, { weight: 1, arbitrary: anything });

function normalised(b: unknown) {
  const out = createLiveNormalizer({ startMs: 1_800_000_000_000 }).push(b as never);
  return { accepted: out.accepted, dropped: out.droppedTime, implausible: out.implausible, samples: out.samples.slice(0, out.accepted).map((s) => ({ ...s })) };
}

describe('live wire fast path', () => {
  it('takes a batch only where the schema takes it; what it leaves, the schema refuses or has an ISO timestamp', () => {
    fc.assert(
      fc.property(batch, (b) => {
        const zod = WireBatchSchema.safeParse(b);
        if (isPlainBatch(b)) expect(zod.success).toBe(true);
        else if (zod.success) expect((b as Array<{ timestamp?: unknown }>).some((s) => typeof s.timestamp === 'string')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the batches watches send, and they normalise exactly as the schema output does', () => {
    fc.assert(
      fc.property(fc.array(goodSample, { minLength: 1, maxLength: 8 }), (b) => {
        expect(isPlainBatch(b)).toBe(true);
        const zod = WireBatchSchema.parse(b);
        expect(normalised(b)).toEqual(normalised(zod));
        expect(parseWireBatch(b)).toEqual({ ok: true, batch: b });
      }),
      { numRuns: 500 },
    );
  });

  it('takes a samples message exactly where the message schema takes it', () => {
    const runId = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) }, { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 70 }), anything) });
    const seq = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 1e9 }) }, { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -2, max: 0 }), fc.constant(Number.MAX_SAFE_INTEGER + 2), fc.double(), anything) });
    const samples = fc.oneof({ weight: 4, arbitrary: fc.array(fc.anything(), { maxLength: 2 }) }, { weight: 1, arbitrary: anything });
    const msg = fc.record({ runId, seq, samples, more: anything }, { requiredKeys: ['runId', 'seq', 'samples'] });
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 10, arbitrary: msg }, { weight: 1, arbitrary: anything }), (m) => {
        const fast = isPlainSampleBatchMsg(m);
        expect(fast).toBe(SampleBatchMsgSchema.safeParse(m).success);
        if (fast) taken++;
      }),
      { numRuns: 3000 },
    );
    // Both answers came up often.
    expect(taken).toBeGreaterThan(100);
  });
});
