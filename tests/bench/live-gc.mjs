// Allocation check for the live ingest hot paths: counts young-generation GCs (scavenges) while normalising
// millions of samples with a reused output, and while feeding the respiration estimator a million beats, after
// a warm-up so the code is optimised. Steady state should be 0 for the normaliser. Run after a build:
//   npx tsc -p tsconfig.build.json && node tests/bench/live-gc.mjs
import { PerformanceObserver, constants } from 'node:perf_hooks';

const { createLiveBatchOutput, createLiveNormalizer } = await import('../../dist/ingest/live.js');
const { createRespirationFromRr } = await import('../../dist/ingest/respiration.js');

let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

const BATCH = 600;
const BATCHES = 100;
const shapes = {
  'integers, t': (t) => ({ t, hr: 140, cadence: 170, speed: 3, distance: t * 3, altitude: 120, temperature: 18, power: 250 }),
  'fractions, t': (t) => ({ t: t + 0.25, hr: 140.5, cadence: 170.5, speed: 3.25, distance: t * 3.3, altitude: 120.2, temperature: 18.5, power: 250 }),
  'fractions, timestamp': (t) => ({ timestamp: 1.7e12 + t * 1000 + 250, hr: 140.5, speed: 3.25, distance: t * 3.3 }),
  'fractions + 3 RR': (t) => ({ t, hr: 140.5, speed: 3.25, rr: [410, 415, 420] }),
};

for (const [name, make] of Object.entries(shapes)) {
  const batches = Array.from({ length: BATCHES }, (_, k) => Array.from({ length: BATCH }, (_, i) => make(k * BATCH + i)));
  const out = createLiveBatchOutput();
  const pass = () => {
    const norm = createLiveNormalizer();
    for (const b of batches) norm.push(b, out);
  };
  for (let i = 0; i < 5; i++) pass();
  await settle();
  scavenges = 0;
  const rounds = 50;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) pass();
  const ns = Number(process.hrtime.bigint() - start);
  await settle();
  const samples = rounds * BATCHES * BATCH;
  console.log(`normaliser, ${name}: ${scavenges} scavenges per ${samples / 1e6} M samples, ${(ns / samples).toFixed(0)} ns/sample`);
}

{
  const est = createRespirationFromRr();
  let t = 0;
  const beats = (n) => {
    for (let i = 0; i < n; i++) {
      const ms = 400 + 5 * Math.sin(t * 2);
      t += ms / 1000;
      est.pushBeat(t, ms);
    }
  };
  beats(200_000);
  await settle();
  scavenges = 0;
  const start = process.hrtime.bigint();
  beats(1_000_000);
  const ns = Number(process.hrtime.bigint() - start);
  await settle();
  // Includes the boxing of the two double arguments at each call from this loop.
  console.log(`respiration: ${scavenges} scavenges per 1 M beats, ${(ns / 1e6).toFixed(0)} ns/beat`);
}
