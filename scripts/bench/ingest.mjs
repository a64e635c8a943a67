// Bench 1 — ingest: decode + normalise + analyse (the upload path: decodeFitSync then analyzeRun) of the largest
// fixtures and a 24-hour synthetic ultra, against fit-file-parser's decode alone of the same bytes (CRC checked,
// list mode, the units decodeFit asks for). Times alternate product/limit so both see the same machine load.
// Peak RSS and bytes kept per record are measured in a fresh child process per file and side.
// Run alone: npm run bench:ingest   (builds first; reads dist/)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import FitParser from 'fit-file-parser';
import { DIST, ROOT, arg, emit, median, row, ultraFitBytes } from './lib.mjs';

const { decodeFitSync } = await import(`${DIST}ingest/fit.js`);
const { analyzeRun } = await import(`${DIST}alerts/engine.js`);

const FIXTURES = [
  'fixtures/fit/muktihari__fit/big_activity.fit',
  'fixtures/fit/dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit',
  'fixtures/fit/roznet__FitFileParser/running.fit',
];
const TARGET_RATIO = 1.2;

/** fit-file-parser alone: what decodeFit builds on. Returns the parsed result. */
function parserOnly(bytes) {
  let out;
  new FitParser({ force: false, mode: 'list', speedUnit: 'm/s', lengthUnit: 'm', temperatureUnit: 'celsius', elapsedRecordField: false }).parse(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    (err, data) => {
      if (err) throw new Error(String(err));
      out = data;
    },
  );
  return out;
}

/** The product: what an upload costs end to end, minus HTTP. */
function product(bytes) {
  const run = decodeFitSync(bytes);
  return { run, report: analyzeRun(run, {}) };
}

// ---- child mode: peak RSS and bytes kept for one file and one side, in a fresh process --------------------
if (arg('child')) {
  const side = arg('child');
  const bytes = new Uint8Array(readFileSync(arg('file')));
  globalThis.gc();
  const before = process.memoryUsage();
  const rssBefore = process.resourceUsage().maxRSS;
  const kept = side === 'product' ? product(bytes) : parserOnly(bytes);
  globalThis.gc();
  globalThis.gc();
  const after = process.memoryUsage();
  const records = side === 'product' ? kept.run.samples.length : kept.records.length;
  const keptBytes = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  process.stdout.write(
    JSON.stringify({ records, keptPerRecord: keptBytes / records, peakRssMB: process.resourceUsage().maxRSS / 1024, rssBeforeMB: rssBefore / 1024 }) + '\n',
  );
  process.exit(0);
}

// ---- main -------------------------------------------------------------------------------------------------
const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'cg-bench-ingest-'));
const ultraPath = join(dir, 'ultra-24h.fit');
writeFileSync(ultraPath, await ultraFitBytes());
const files = [...FIXTURES.map((f) => join(ROOT, f)), ultraPath];
const budgetMs = quick ? 300 : 2500;

const rows = [];
const notes = [];
try {
  for (const path of files) {
    const bytes = new Uint8Array(readFileSync(path));
    const name = basename(path);
    const mb = bytes.length / 1e6;
    // Warm up both sides (JIT), then alternate until the time budget is spent.
    parserOnly(bytes);
    const records = product(bytes).run.samples.length;
    const tLimit = [];
    const tProduct = [];
    const tDecode = [];
    const start = performance.now();
    const sides = [
      [() => parserOnly(bytes), tLimit],
      [() => product(bytes), tProduct],
      [() => decodeFitSync(bytes), tDecode],
    ];
    for (let round = 0; (performance.now() - start < budgetMs || tLimit.length < 3) && tLimit.length < 50; round++) {
      // Rotate the order each round, so the garbage one side leaves is collected inside each side alike.
      for (let k = 0; k < sides.length; k++) {
        const [run, times] = sides[(round + k) % sides.length];
        const t0 = performance.now();
        run();
        times.push(performance.now() - t0);
      }
    }
    const p = median(tProduct);
    const l = median(tLimit);
    const ratio = p / l;
    rows.push(row(`${name} (${mb.toFixed(2)} MB, ${records} records): time, decode+normalise+analyse ÷ parser`, {
      target: `≤ ${TARGET_RATIO}`, product: p, limit: l, ratio, met: ratio <= TARGET_RATIO, unit: 'ms',
    }));
    const d = median(tDecode);
    rows.push(row(`${name}: of which decode + normalise alone (no analysis) ÷ parser`, { product: d, limit: l, ratio: d / l, unit: 'ms' }));
    rows.push(row(`${name}: MB/s`, { product: mb / (p / 1000), limit: mb / (l / 1000), ratio: l / p, unit: 'MB/s' }));
    rows.push(row(`${name}: records/s`, { product: records / (p / 1000), limit: records / (l / 1000), ratio: l / p, unit: '/s' }));

    const child = (side) =>
      JSON.parse(execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, '--child', side, '--file', path], { encoding: 'utf8' }));
    const cp = child('product');
    const cl = child('limit');
    rows.push(row(`${name}: peak RSS of a process decoding it once`, { product: cp.peakRssMB, limit: cl.peakRssMB, ratio: cp.peakRssMB / cl.peakRssMB, unit: 'MB' }));
    rows.push(row(`${name}: bytes kept per record`, { product: cp.keptPerRecord, limit: cl.keptPerRecord, ratio: cp.keptPerRecord / cl.keptPerRecord, unit: 'B' }));
    notes.push(`${name}: ${tProduct.length} alternating rounds; RSS before decoding ${cp.rssBeforeMB.toFixed(0)} MB (product process) / ${cl.rssBeforeMB.toFixed(0)} MB (parser process)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
emit('ingest', rows, notes);
