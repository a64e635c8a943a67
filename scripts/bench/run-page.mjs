// The run page's server work and the exports, on the largest real run of ../shared/realruns and a simulated
// 24-hour ultra, and the run list by start on SQLite with 2,000 runs. After a build:
//   node scripts/bench/run-page.mjs [--rounds N]
// Prints medians (ms); nothing is asserted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, DIST, median } from './lib.mjs';

const rounds = Number(arg('rounds', '7'));
const load = (path) => import(new URL(path, DIST).href);
const { decodeFitSync } = await load('ingest/fit.js');
const { summariseRun } = await load('src/server/run-summary.js');
const { exportRun, exportRunAsync } = await load('src/export/run.js');
const { simulate, run, pause, repeat } = await load('src/sim/simulate.js');
const { writeFit } = await load('src/sim/write-fit.js');
const { openStore } = await load('src/store/index.js');

const time = (fn) => {
  const ms = [];
  let out;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    out = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: Math.round(median(ms) * 10) / 10, out };
};

const runs = [];
const real = join(new URL('../../', import.meta.url).pathname, '../shared/realruns/aaron-schroeder__heartandsole/2019-05-11-144658-UBERDROID6944-216-1.fit');
try {
  runs.push(['real 99 min (5,958 rows)', decodeFitSync(new Uint8Array(readFileSync(real)))]);
} catch {
  console.log('(../shared/realruns missing: real run skipped)');
}
const plan = [...repeat(23, [run(55, 2.6), pause(300)]), run(55, 2.4)];
runs.push(['simulated 24 h (86,400 rows)', decodeFitSync(writeFit(simulate({ seed: 7001, startTime: '2026-01-01T06:00:00Z', tempC: 24, humidity: 55, plan })))]);

for (const [label, r] of runs) {
  const ex = { name: 'bench', startTime: r.meta.startTime, meta: r.meta, samples: r.samples, report: null };
  const summary = time(() => summariseRun({ report: null, meta: r.meta, options: null, startTime: r.meta.startTime, samples: r.samples }));
  const row = [`${label}: summary ${summary.ms} ms`];
  for (const f of ['fit', 'gpx', 'csv']) {
    if (f === 'gpx' && !(r.samples.lat ?? []).some((v) => Number.isFinite(v))) continue;
    const e = time(() => exportRun(ex, f));
    row.push(`${f} ${e.ms} ms (${Math.round((typeof e.out.body === 'string' ? Buffer.byteLength(e.out.body) : e.out.body.length) / 1024)} KB)`);
  }
  console.log(row.join(', '));
  // The server's way: in steps. The longest the event loop waits for a turn while the FIT is written.
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  await exportRunAsync(ex, 'fit');
  const total = performance.now() - t0;
  clearInterval(ticker);
  console.log(`${label}: fit in steps ${Math.round(total)} ms in all, longest event-loop wait ${Math.round(longest)} ms`);
}

// The list by start: 2,000 small uploads, then pages of 50 from the top and from the middle.
const dir = mkdtempSync(join(tmpdir(), 'cg-bench-list-'));
const store = await openStore({ dataDir: dir });
try {
  const { athlete } = await store.createAthlete({ name: 'Lister' });
  const small = runs.at(-1)[1];
  const cols = { ...small.samples, length: 10 };
  for (const k of Object.keys(small.samples)) if (k !== 'length') cols[k] = small.samples[k].subarray(0, 10);
  const report = { ok: true, sport: 'running', startTime: null, durationS: 10, movingTimeS: 10, distanceM: 30, channels: [], warnings: [], metrics: {}, alerts: [], risk: [] };
  for (let i = 0; i < 2000; i++) {
    // Uploaded in an order unlike their dates.
    const startTime = new Date(Date.UTC(2020, 0, 1) + ((i * 7919) % 2000) * 86_400_000).toISOString();
    await store.createUploadedRun(athlete.id, { fileSha256: i.toString(16).padStart(64, '0'), run: { ...small, samples: cols, events: [], meta: { ...small.meta, startTime } }, report: { ...report, startTime } });
  }
  const ms = [];
  let cursor;
  for (let i = 0; i < rounds * 3; i++) {
    const t0 = performance.now();
    const page = await store.listRuns(athlete.id, { limit: 50, ...(cursor ? { before: cursor } : {}) });
    ms.push(performance.now() - t0);
    cursor = page.nextCursor ?? undefined;
  }
  console.log(`run list by start, SQLite, 2,000 runs: ${Math.round(median(ms) * 100) / 100} ms a page of 50 (median of ${ms.length})`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
