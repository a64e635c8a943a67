/**
 * Store write throughput at steady state: many live runs, each sending a small batch, written by one group
 * commit per op (what the server does every few ms), against plain bulk inserts of the same data in the same
 * database. samples/s = ops/s × SAMPLES_PER_OP. Run: `npx vitest bench --run tests/bench/store.bench.ts`
 * (PostgreSQL rows need TEST_DATABASE_URL; they are skipped, saying so, without it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, bench, describe } from 'vitest';
import { SAMPLE_FIELDS } from '../../ingest/sample.js';
import { encodeChunk } from '../../src/store/codec.js';
import { openStore } from '../../src/store/index.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import type { SampleBatch, Store } from '../../src/store/types.js';
import { makeColumns } from '../store/store.case.js';

const RUNS = 200;
const ROWS_PER_BATCH = 5;
const SAMPLES_PER_OP = RUNS * ROWS_PER_BATCH;
const options = { time: 1500, warmupTime: 300 };

/** One batch per run, same samples every op (their content does not change the cost). */
const columns = makeColumns(ROWS_PER_BATCH, 1);

async function liveRuns(store: Store): Promise<{ athleteId: string; runIds: string[] }> {
  const { athlete } = await store.createAthlete({ name: 'bench' });
  const runIds: string[] = [];
  for (let i = 0; i < RUNS; i++) runIds.push((await store.startLiveRun(athlete.id, { clientRunId: `b${i}` })).run.id);
  return { athleteId: athlete.id, runIds };
}

function groupOf(athleteId: string, runIds: string[], seq: number): SampleBatch[] {
  return runIds.map((runId) => ({ athleteId, runId, seq, samples: columns }));
}

// SQLite -------------------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'crampguard-bench-'));
const sqlite = await openStore({ dataDir: dir });
const sqliteRuns = await liveRuns(sqlite);
const raw = new Database(join(dir, SQLITE_FILE));
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = NORMAL');
raw.exec(`CREATE TABLE plain_chunks (run_n INTEGER, seq INTEGER, t0 REAL, rows INTEGER, data BLOB);
          CREATE TABLE plain_samples (run_n INTEGER, t REAL, timestamp REAL, hr REAL, cadence REAL, speed REAL,
            distance REAL, altitude REAL, temperature REAL, respiration REAL, power REAL)`);
const insertPlainChunk = raw.prepare('INSERT INTO plain_chunks VALUES (?, ?, ?, ?, ?)');
const insertPlainSample = raw.prepare('INSERT INTO plain_samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
const plainChunks = raw.transaction((seq: number) => {
  for (let r = 0; r < RUNS; r++) insertPlainChunk.run(r, seq, columns.t[0]!, ROWS_PER_BATCH, encodeChunk(columns));
});
const plainSamples = raw.transaction(() => {
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < ROWS_PER_BATCH; i++) {
      insertPlainSample.run(r, ...SAMPLE_FIELDS.map((f) => (Number.isNaN(columns[f][i]!) ? null : columns[f][i]!)));
    }
  }
});
let sqliteSeq = 0;
let plainSeq = 0;

describe(`SQLite: ${RUNS} live runs × ${ROWS_PER_BATCH} samples per op (${SAMPLES_PER_OP} samples/op)`, () => {
  bench(
    'store.appendSampleBatches (group commit, idempotent, contiguous seq)',
    async () => {
      await sqlite.appendSampleBatches(groupOf(sqliteRuns.athleteId, sqliteRuns.runIds, ++sqliteSeq));
    },
    options,
  );
  bench('plain bulk insert of the same chunks (one transaction, no keys)', () => plainChunks(++plainSeq), options);
  bench('plain bulk insert, one row per sample', () => plainSamples(), options);
});

// PostgreSQL ---------------------------------------------------------------------------------------------

const url = process.env.TEST_DATABASE_URL;
const schema = `cg_bench_${randomBytes(4).toString('hex')}`;
let postgres: Store | undefined;
let pool: pg.Pool | undefined;
let pgRuns = { athleteId: '', runIds: [] as string[] };
if (url) {
  postgres = await openStore({ databaseUrl: url, schema, poolSize: 2 });
  pgRuns = await liveRuns(postgres);
  pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
  await pool.query('CREATE TABLE plain_chunks (run_n BIGINT, seq BIGINT, t0 DOUBLE PRECISION, rows INTEGER, data BYTEA)');
} else {
  console.log('PostgreSQL store bench skipped: TEST_DATABASE_URL is not set');
}
const plainValues = Array.from({ length: RUNS }, (_, r) => `($${r * 5 + 1}, $${r * 5 + 2}, $${r * 5 + 3}, $${r * 5 + 4}, $${r * 5 + 5})`).join(', ');
let pgSeq = 0;
let pgPlainSeq = 0;

describe.skipIf(!url)(`PostgreSQL: ${RUNS} live runs × ${ROWS_PER_BATCH} samples per op (${SAMPLES_PER_OP} samples/op)`, () => {
  bench(
    'store.appendSampleBatches (group commit, idempotent, contiguous seq)',
    async () => {
      await postgres!.appendSampleBatches(groupOf(pgRuns.athleteId, pgRuns.runIds, ++pgSeq));
    },
    options,
  );
  bench(
    'plain bulk insert of the same chunks (one multi-row INSERT, no keys)',
    async () => {
      const seq = ++pgPlainSeq;
      const params: unknown[] = [];
      for (let r = 0; r < RUNS; r++) params.push(r, seq, columns.t[0]!, ROWS_PER_BATCH, encodeChunk(columns));
      await pool!.query(`INSERT INTO plain_chunks VALUES ${plainValues}`, params);
    },
    options,
  );
});

afterAll(async () => {
  await sqlite.close();
  raw.close();
  rmSync(dir, { recursive: true, force: true });
  if (postgres) {
    await postgres.close();
    await pool!.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool!.end();
  }
});
