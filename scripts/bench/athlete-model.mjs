// Athlete-model cost (not in npm test): adding a run to a model of 1,000 runs, against the upload's own analysis
// of that run. "Adding" is what the server does per upload: summarise the new run, store its row, and get the
// model the next analysis uses (src/server/athlete.ts: read the rows' stamps, fetch the new row, fold the 1,001
// rows; SQLite in a temporary directory); and the pure part alone (summarise + fold of rows in memory), which is
// also what a process that never saw the athlete pays on top of fetching all rows (printed too).
// After a build:  node scripts/bench/athlete-model.mjs [--quick]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../../dist/', import.meta.url);
const { analyzeRun } = await import(new URL('alerts/engine.js', dist).href);
const { summarizeRun } = await import(new URL('src/athlete/summary.js', dist).href);
const { foldModel } = await import(new URL('src/athlete/model.js', dist).href);
const { simulate, run, repeat } = await import(new URL('src/sim/simulate.js', dist).href);
const { openStore } = await import(new URL('src/store/index.js', dist).href);
const { AthleteService } = await import(new URL('src/server/athlete.js', dist).href);
const { CHANNELS } = await import(new URL('ingest/sample.js', dist).href);
const { decodeActivitySync } = await import(new URL('ingest/decode.js', dist).href);
const { writeFit } = await import(new URL('src/sim/write-fit.js', dist).href);

const quick = process.argv.includes('--quick');
const MODEL_RUNS = 1000;
const REPEATS = quick ? 5 : 15;

const fitBytes = new Map();
function normalized(config) {
  const sim = simulate(config);
  fitBytes.set(config.seed, writeFit(sim));
  const n = sim.samples.length;
  return {
    meta: { sport: 'running', subSport: 'generic', manufacturer: 'development', product: null, startTime: new Date(sim.startMs).toISOString(), elapsedS: sim.elapsedS, timerS: sim.timerS, distanceM: sim.samples.distance[n - 1], laps: sim.laps, pauses: sim.pauses, legs: [] },
    samples: sim.samples,
    rr: null,
    events: sim.events,
    channels: CHANNELS.filter((c) => sim.samples[c].some((v) => !Number.isNaN(v))),
    warnings: [],
  };
}

// Median and minimum: on a shared machine the minimum is the closer estimate of the work itself.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { med: s[s.length >> 1], min: s[0] };
};
function time(fn) {
  const out = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    fn(i);
    out.push(performance.now() - t0);
  }
  return median(out);
}
async function timeAsync(fn) {
  const out = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return median(out);
}

// 40 distinct simulated runs (easy, tempo, intervals, long), their summaries spread over 1,000 dated runs.
const DAY = 86_400_000;
const kinds = [[run(45, 3)], [run(10, 2.8), run(25, 3.85), run(10, 2.8)], [run(12, 2.8), ...repeat(6, [run(3, 5), run(2, 2.6)]), run(8, 2.8)], [run(100, 2.9)]];
const base = [];
for (let i = 0; i < 40; i++) base.push(summarizeRun(normalized({ seed: i, startTime: '2024-01-01T07:00:00Z', tempC: 12, humidity: 60, plan: kinds[i % 4] })));
const rows = [];
for (let i = 0; i < MODEL_RUNS; i++) rows.push({ runId: `r${i}`, summary: { ...base[i % 40], startMs: Date.parse('2024-01-01T07:00:00Z') + Math.floor(i * 0.57) * DAY } });

const upload60 = normalized({ seed: 9001, startTime: '2027-01-01T07:00:00Z', tempC: 18, humidity: 60, plan: [run(60, 3)] });
const upload120 = normalized({ seed: 9002, startTime: '2027-01-02T07:00:00Z', tempC: 18, humidity: 60, plan: [run(120, 2.9)] });

const results = [];
for (const [label, up] of [['60-min run', upload60], ['120-min run', upload120]]) {
  analyzeRun(up, {}); // warm up
  const analysis = time(() => analyzeRun(up, {}));
  // What the upload's worker does: decode the file, then analyse it.
  const bytes = fitBytes.get(label.startsWith('60') ? 9001 : 9002);
  const upload = time(() => analyzeRun(decodeActivitySync(bytes), {}));
  const summary = time(() => summarizeRun(up));
  const newRow = { runId: 'new', summary: summarizeRun(up) };
  const fold = time(() => foldModel([...rows, newRow], { training: false }));
  const dir = mkdtempSync(join(tmpdir(), 'cg-athlete-bench-'));
  const store = await openStore({ dataDir: dir });
  const { athlete } = await store.createAthlete({ name: 'bench' });
  // 1,000 stored runs with their summary rows (tiny runs: only the summary rows matter here).
  const cols = { length: 1 };
  for (const f of ['t', 'timestamp', 'hr', 'cadence', 'speed', 'distance', 'altitude', 'temperature', 'respiration', 'power', 'lat', 'lon']) cols[f] = new Float64Array(1);
  for (let i = 0; i < MODEL_RUNS; i++) {
    const { run: stored } = await store.startLiveRun(athlete.id, { clientRunId: `c${i}` });
    await store.saveRunSummary(athlete.id, stored.id, rows[i].summary);
  }
  const athletes = new AthleteService(store, { analyzeRun: async () => ({}) });
  const targets = [];
  for (let i = 0; i < REPEATS + 3; i++) targets.push((await store.startLiveRun(athlete.id, { clientRunId: `target${i}` })).run.id);
  const cold = await timeAsync(async () => {
    const listed = await store.listRunSummaries(athlete.id);
    foldModel(listed.map((s) => ({ runId: s.runId, summary: s.summary })));
  });
  await athletes.model(athlete.id);
  const add = async (i) => {
    await store.saveRunSummary(athlete.id, targets[i], { ...summarizeRun(up), startMs: rows.at(-1).summary.startMs + (i + 1) * DAY });
    await athletes.model(athlete.id);
  };
  for (let i = REPEATS; i < REPEATS + 3; i++) await add(i); // warm up
  const added = await timeAsync(add);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  results.push({ label, samples: up.samples.length, analysis, upload, summary, fold, added, cold });
}

console.log(`Athlete model: adding a run to a model of ${MODEL_RUNS} runs vs the upload's own analysis (median of ${REPEATS}; node ${process.version})`);
console.log('');
const f = (x) => `${x.med.toFixed(1)} (${x.min.toFixed(1)}) ms`;
console.log('Each cell: median (minimum) of the repeats.');
console.log('');
console.log('| upload | samples | analysis (analyzeRun) | decode FIT + analysis (the upload worker) | summary | fold of 1,001 rows (analysis fold) | add: summary + store + model (SQLite) | add : upload, median (min) | cold: list all + parse + full fold |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.label} | ${r.samples} | ${f(r.analysis)} | ${f(r.upload)} | ${f(r.summary)} | ${f(r.fold)} | ${f(r.added)} | ${(r.added.med / r.upload.med).toFixed(2)} (${(r.added.min / r.upload.min).toFixed(2)}) | ${f(r.cold)} |`);
}
