// Bench 5 — storage: wraps tests/bench/store.bench.ts (the store owner's vitest bench: 200 live runs each
// sending a 5-sample batch, one group commit per op, against plain bulk inserts of the same rows into the same
// database, in the same run) and turns its JSON output into table rows. PostgreSQL rows need
// TEST_DATABASE_URL; when it is unset and a server answers on 127.0.0.1:5432, the CI database is used.
// Run alone: npm run bench:storage
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, emit, row } from './lib.mjs';

const env = { ...process.env };
if (!env.TEST_DATABASE_URL) {
  try {
    execFileSync('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' });
    env.TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
  } catch {
    // No local PostgreSQL: the wrapped bench skips its PostgreSQL rows and says so.
  }
}
const dir = mkdtempSync(join(tmpdir(), 'cg-bench-store-'));
const out = join(dir, 'store.json');
const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'bench', '--run', 'tests/bench/store.bench.ts', '--outputJson', out], {
  cwd: ROOT,
  env,
  stdio: ['ignore', 'ignore', 'inherit'], // vitest's own table is long; the rows below carry its figures
  timeout: 240_000,
});
if (r.status !== 0) throw new Error(`store bench failed (exit ${r.status ?? r.signal})`);
const report = JSON.parse(readFileSync(out, 'utf8'));
rmSync(dir, { recursive: true, force: true });

const rows = [];
const notes = [];
for (const file of report.files) {
  for (const group of file.groups) {
    const name = group.fullName.split(' > ').at(-1);
    const backend = name.split(':')[0];
    const perOp = Number(/(\d+) samples\/op/.exec(name)?.[1] ?? NaN);
    const find = (prefix) => group.benchmarks.find((b) => b.name.startsWith(prefix));
    const product = find('store.appendSampleBatches');
    const chunks = find('plain bulk insert of the same chunks');
    const perRow = find('plain bulk insert, one row per sample');
    if (!product || !chunks) continue;
    const p = product.hz * perOp;
    const c = chunks.hz * perOp;
    rows.push(row(`${backend}: samples/s written, group commit ÷ plain bulk insert of the same chunks`, { product: p, limit: c, ratio: p / c, unit: '/s' }));
    if (perRow) {
      const pr = perRow.hz * perOp;
      rows.push(row(`${backend}: samples/s written, group commit ÷ plain bulk insert of one row per sample`, { product: p, limit: pr, ratio: p / pr, unit: '/s' }));
    }
    notes.push(`${name}: ±${product.rme.toFixed(0)} % (group commit), ±${chunks.rme.toFixed(0)} % (plain chunks) relative margin of error`);
  }
}
if (!env.TEST_DATABASE_URL) notes.push('PostgreSQL skipped: TEST_DATABASE_URL unset and no server on 127.0.0.1:5432');
emit('storage', rows, notes);
