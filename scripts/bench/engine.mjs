// Bench 2 — engine: samples/s through the full detector set on one core, allocations per sample in steady
// state, and state size per run. The limit is the loop that delivers the same samples (readRow into one
// reused Sample) to a consumer doing nothing but read them: the engine's cost is the difference.
// Input: the 24-hour synthetic ultra from the scenario simulator (86,400 samples, every channel).
// Run alone: npm run bench:engine (node --expose-gc; builds first)
import { getHeapSpaceStatistics } from 'node:v8';
import { DIST, arg, emit, median, row, scavengeCounter, settle, simulateUltra } from './lib.mjs';

const { createEngine } = await import(`${DIST}alerts/engine.js`);
const { readRow, emptySample } = await import(`${DIST}ingest/sample.js`);

const TARGET_RATE = 3_000_000;
const TARGET_STATE = 64 * 1024;
const quick = process.argv.includes('--quick');
const ENGINES = Number(arg('engines', quick ? 3 : 24));
const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');

const sim = await simulateUltra({ tempC: 22 });
const cols = sim.samples;
const n = cols.length;

let alerts = 0;
// A sink that discards risk points lets the engine reuse one (as the allocation test does): a fresh point every
// 10 s is output the server keeps, not per-sample work, and would hide real per-sample churn in the figure.
const sink = { alert: () => alerts++, risk: () => {}, cramp: () => {}, reuseRiskPoint: true };
const options = { profile: { hrMax: 188, hrRest: 50, massKg: 68, usualLongRunMin: 240 }, conditions: { tempC: 22, humidity: 60 } };
const sample = emptySample();

/** Bytes in V8's young generation: between two scavenges it only grows, by exactly what was allocated there. */
function youngBytes() {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_used_size;
  throw new Error('no new_space');
}

function feed(engine) {
  for (let i = 0; i < n; i++) engine.push(readRow(cols, i, sample));
}

/** The limit: the same delivery loop into a consumer that only reads two fields. */
const sinkLoop = { acc: 0, push(s) { this.acc += s.hr > 0 ? s.t : 0; } };
function feedLimit() {
  for (let i = 0; i < n; i++) sinkLoop.push(readRow(cols, i, sample));
}

// Warm up (JIT) with two whole runs.
for (let k = 0; k < 2; k++) feed(createEngine(options, sink));
for (let k = 0; k < 4; k++) feedLimit();

const scav = scavengeCounter();
const rounds = quick ? 1 : 3;
const productRates = [];
const limitRates = [];
let scavenges = 0;
let allocatedBytes = 0;
let pushed = 0;
for (let r = 0; r < rounds; r++) {
  // Engines created before counting: creation allocates; the per-sample path must not.
  const engines = Array.from({ length: ENGINES }, () => createEngine(options, sink));
  gc();
  await settle();
  scav.count = 0;
  const heap0 = youngBytes();
  const t0 = performance.now();
  for (const e of engines) feed(e);
  const dt = performance.now() - t0;
  const heap1 = youngBytes();
  await settle();
  scavenges += scav.count;
  // With no scavenge in between, young-generation growth is what the loop allocated (alerts included: a few per run).
  if (scav.count === 0) allocatedBytes += heap1 - heap0;
  pushed += ENGINES * n;
  productRates.push((ENGINES * n) / (dt / 1000));

  const l0 = performance.now();
  for (let k = 0; k < ENGINES; k++) feedLimit();
  limitRates.push((ENGINES * n) / ((performance.now() - l0) / 1000));
}

// Allocation per sample between prompts: young-generation growth over 300-sample chunks after the first hour in which no alert fired and no
// scavenge ran (an alert is an object the sink keeps; it is not per-sample work). The cost of reading the heap
// counter itself is measured on empty chunks and taken off.
const CHUNK = 300;
/** The first hour is warm-up (windows filling, baselines forming), not steady state. */
const STEADY_FROM = 3600;
/** Young-generation growth of each quiet chunk (no alert, no scavenge); `engine` null = the probe alone. */
function chunkGrowths(engine, out) {
  if (engine) for (let i = 0; i < STEADY_FROM; i++) engine.push(readRow(cols, i, sample));
  for (let from = STEADY_FROM; from + CHUNK <= n; from += CHUNK) {
    const a0 = alerts;
    const s0 = scav.count;
    const h = youngBytes();
    if (engine) for (let i = from; i < from + CHUNK; i++) engine.push(readRow(cols, i, sample));
    const d = youngBytes() - h;
    if (alerts === a0 && scav.count === s0) out.push(d);
  }
}
const probeGrowths = [];
const quietGrowths = [];
for (let k = 0; k < Math.min(ENGINES, 6); k++) {
  const e = createEngine(options, sink);
  gc();
  chunkGrowths(null, probeGrowths);
  chunkGrowths(e, quietGrowths);
}
const probeCost = median(probeGrowths);
const quietPerSample = (median(quietGrowths) - probeCost) / CHUNK;
const quietSamples = quietGrowths.length * CHUNK;
const calibration = probeCost;

// State per run: the snapshot's JSON size after a whole 24-hour run, and the heap one live engine keeps.
gc();
const h0 = process.memoryUsage().heapUsed;
const kept = Array.from({ length: ENGINES }, () => createEngine(options, sink));
const alertsBefore = alerts;
for (const e of kept) feed(e);
const alertsPerRun = (alerts - alertsBefore) / ENGINES;
gc();
gc();
const heapPerEngine = (process.memoryUsage().heapUsed - h0) / kept.length;
const snapshotBytes = Buffer.byteLength(JSON.stringify(kept[0].snapshot()));

const rate = median(productRates);
const limit = median(limitRates);
const bytesPerSample = scavenges === 0 ? allocatedBytes / pushed : NaN;
emit(
  'engine',
  [
    row('samples/s through every detector, one core', { target: '≥ 3,000,000', product: rate, limit, ratio: rate / limit, met: rate >= TARGET_RATE, unit: '/s' }),
    row(`scavenges (young GCs) per ${(pushed / 1e6).toFixed(1)} M samples, steady state`, { target: '0', product: scavenges, met: scavenges === 0 }),
    row('bytes allocated per sample, whole runs (the prompts fired included)', { product: bytesPerSample, unit: 'B' }),
    row('bytes allocated per sample between prompts', { target: '0', product: quietPerSample, met: Math.abs(quietPerSample) < 0.05, unit: 'B' }),
    row('state per run: snapshot JSON after 24 h', { target: '≤ 64 KB', product: snapshotBytes / 1024, met: snapshotBytes <= TARGET_STATE, unit: 'KB' }),
    row('state per run: heap kept by a live engine after 24 h', { target: '≤ 64 KB', product: heapPerEngine / 1024, met: heapPerEngine <= TARGET_STATE, unit: 'KB' }),
  ],
  [`${n} samples per run, ${ENGINES} engines per round, ${rounds} rounds; ${alertsPerRun.toFixed(0)} prompts per 24-h run (no drinks logged); allocation between prompts over ${(quietSamples / 1e6).toFixed(2)} M samples (median of 300-sample chunks; the heap probe's own ${calibration.toFixed(0)} B taken off); limit = readRow delivery loop with a no-op consumer`],
);
