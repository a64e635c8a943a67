/**
 * Per-sample cost of the live ingest path: zod validation at the edge, the normaliser (with a reused output),
 * the respiration estimator per beat, and the BLE decoders. Run:
 * `npx vitest bench --run tests/bench/live-ingest.bench.ts`. Samples/s = ops/s × the batch size in the name.
 */
import { bench, describe } from 'vitest';
import { decodeHeartRateMeasurement, decodeRscMeasurement } from '../../ingest/ble.js';
import { createLiveBatchOutput, createLiveNormalizer, parseWireBatch, type WireSample } from '../../ingest/live.js';
import { createRespirationFromRr } from '../../ingest/respiration.js';

const BATCH = 600;
const options = { time: 1000, warmupTime: 200 };

/** A batch of 1 Hz samples starting at `t0`, every channel present, three RR intervals each. */
function batchAt(t0: number): WireSample[] {
  return Array.from({ length: BATCH }, (_, i) => ({
    t: t0 + i,
    hr: 140 + (i % 20),
    cadence: 170 + (i % 7),
    speed: 3.2 + (i % 5) / 10,
    distance: (t0 + i) * 3.3,
    altitude: 120 + (i % 30),
    temperature: 18,
    respiration: null,
    power: 250,
    rr: [410, 415, 420],
  }));
}

describe('live normaliser', () => {
  const raw = JSON.parse(JSON.stringify(batchAt(0))) as unknown;
  bench(`parseWireBatch (zod), ${BATCH} samples`, () => {
    parseWireBatch(raw);
  }, options);

  // Pre-built batches with increasing t, so every push is accepted (a repeated batch would be all drops).
  const batches = Array.from({ length: 64 }, (_, k) => batchAt(k * BATCH));
  let norm = createLiveNormalizer();
  const out = createLiveBatchOutput();
  let k = 0;
  bench(`push, reused output, ${BATCH} samples`, () => {
    if (k === batches.length) {
      norm = createLiveNormalizer();
      k = 0;
    }
    norm.push(batches[k++]!, out);
  }, options);

  let normR = createLiveNormalizer({ respirationFromRr: true });
  let kr = 0;
  const outR = createLiveBatchOutput();
  bench(`push with respiration from RR, ${BATCH} samples (${BATCH * 3} beats)`, () => {
    if (kr === batches.length) {
      normR = createLiveNormalizer({ respirationFromRr: true });
      kr = 0;
    }
    normR.push(batches[kr++]!, outR);
  }, options);
});

describe('respiration estimator', () => {
  const est = createRespirationFromRr();
  let t = 0;
  bench('pushBeat × 1000', () => {
    for (let i = 0; i < 1000; i++) {
      const ms = 400 + 5 * Math.sin(t * 2);
      t += ms / 1000;
      est.pushBeat(t, ms);
    }
  }, options);
});

describe('BLE decoders', () => {
  const hr = Uint8Array.from([0x16, 150, 0x90, 0x01, 0x92, 0x01]);
  const rsc = Uint8Array.from([0x07, 0x80, 0x03, 172, 122, 0, 0x40, 0xe2, 0x01, 0x00]);
  bench('decodeHeartRateMeasurement × 1000', () => {
    for (let i = 0; i < 1000; i++) decodeHeartRateMeasurement(hr);
  }, options);
  bench('decodeRscMeasurement × 1000', () => {
    for (let i = 0; i < 1000; i++) decodeRscMeasurement(rsc);
  }, options);
});
