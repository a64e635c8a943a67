/**
 * Engine throughput: a 4-hour run at 1 Hz (14,400 samples, every channel incl. respiration, so all nine
 * detectors step) pushed through a fresh engine, as analyzeRun does after decoding. Target: ≥ 3 M samples/s,
 * i.e. a 4-hour run in under 5 ms. samples/s = hz × 14,400.
 * Run: `npx vitest bench --run tests/bench/engine.bench.ts`. Allocation is checked by tests/alerts/allocation.test.ts.
 */
import { bench, describe } from 'vitest';
import { createEngine } from '../../alerts/engine.js';
import { emptySample, readRow, type Sample } from '../../ingest/sample.js';
import { prng, steadyPoint, synthRun } from '../alerts/helpers.js';

const rand = prng(11);
const run = synthRun(4 * 3600, (t) => ({ ...steadyPoint(rand, t), respiration: 30 + rand() * 2 }));
const samples: Sample[] = [];
for (let i = 0; i < run.samples.length; i++) samples.push(readRow(run.samples, i, emptySample()));
const options = {
  profile: { massKg: 68, hrRest: 50, hrMax: 188 },
  conditions: { tempC: 18, humidity: 50 },
  channels: run.channels,
};
const sink = { alert: () => {}, risk: () => {}, reuseRiskPoint: true };

describe(`engine: one 4-hour run at 1 Hz (${samples.length} samples)`, () => {
  bench(
    'push every sample into a fresh engine',
    () => {
      const engine = createEngine(options, sink);
      for (let i = 0; i < samples.length; i++) engine.push(samples[i]!);
    },
    { time: 2000, warmupTime: 500 },
  );
});
