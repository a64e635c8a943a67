/**
 * The PostgreSQL store (DATABASE_URL set), on a pg Pool.
 *
 * - Group commit: one transaction per `appendSampleBatches` call, in a fixed number of round trips whatever
 *   the number of runs: lock the runs (FOR UPDATE, in `n` order so concurrent commits cannot deadlock), one
 *   multi-row INSERT … ON CONFLICT DO NOTHING RETURNING for the chunks (blobs go as binary parameters), one
 *   query for the seqs past each run's contiguous mark, one UPDATE … FROM unnest for the progress columns.
 * - The row locks serialise commits that touch the same run, even from several server processes, so the
 *   contiguous mark never goes backwards.
 * - Migrations run under a transaction-scoped advisory lock (DDL is transactional in PostgreSQL): concurrent
 *   opens queue, and each migration applies once.
 * @module
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Alert, EngineSnapshot, Profile, Report } from '../../alerts/types.js';
import type { RunMeta, SampleColumns } from '../../ingest/sample.js';
import { chunkOf, decodeChunks, type EncodedChunk } from './codec.js';
import { reportHighlights } from './highlights.js';
import { CREATE_MIGRATIONS_TABLE, LATEST_VERSION, migrationsFor } from './migrations.js';
import {
  HIGHLIGHT_BATCH,
  JOURNAL_COLUMNS,
  RUN_LIST_COLUMNS,
  RUN_PROGRESS_COLUMNS,
  RUN_RECORD_COLUMNS,
  RUN_SUMMARY_COLUMNS,
  advanceContiguous,
  athleteForToken,
  batchProblem,
  checkAlerts,
  checkCheckpointSeq,
  checkEvents,
  checkJournalInput,
  checkRunSummary,
  checkKey,
  checkSha256,
  checkUploadColumns,
  contiguousFromFresh,
  decodeCursor,
  decodeRunCursor,
  hashToken,
  iso,
  json,
  maxSeqAfter,
  needsHighlights,
  newToken,
  num,
  pageLimit,
  plausibleToken,
  reportColumns,
  runCursor,
  startMsOf,
  toAthlete,
  toJournalEntry,
  toPage,
  toRunProgress,
  toRunRecord,
  toRunSummary,
  toStoreError,
  toStoredAlert,
  toStoredRunSummary,
  toRunSummaryStamp,
  toRunSummaryDigest,
  uploadChunks,
  uploadedRunRecord,
  uploadedRunRow,
  uploadChunkRows,
  fileEventRows,
  liveRunRow,
  type RunProgress,
} from './shared.js';
import {
  StoreError,
  type Athlete,
  type Checkpoint,
  type Created,
  type EndLiveRun,
  type JournalEntry,
  type ListAlertsOptions,
  type ListRunsOptions,
  type NewAthlete,
  type NewJournalEntry,
  type NewLiveRun,
  type NewRunEvent,
  type NewUploadedRun,
  type Page,
  type ReadSamplesOptions,
  type RunCandidate,
  type RunRecord,
  type RunSummary,
  type SampleBatch,
  type SampleBatchResult,
  type Store,
  type StoreConfig,
  type StoredAlert,
  type StoredRunEvent,
  type StoredRunSummary,
} from './types.js';
import type { RunSummary as RunSummaryRow } from '../athlete/summary.js';

type Row = Record<string, unknown>;
type Queryable = pg.Pool | pg.PoolClient;

/** Advisory lock key serialising migrations across processes ("crmp"). */
const MIGRATION_LOCK = 0x63726d70;
/** Rows per multi-row INSERT: 5 parameters a row stays far below PostgreSQL's 65 535-parameter limit. */
const INSERT_SLICE = 2000;

/** `($1, $2, …), ($k, …)` placeholders for `rows` rows of `width` parameters. */
function valuesList(rows: number, width: number): string {
  const groups: string[] = [];
  for (let r = 0; r < rows; r++) {
    const slots: string[] = [];
    for (let c = 1; c <= width; c++) slots.push(`$${r * width + c}`);
    groups.push(`(${slots.join(', ')})`);
  }
  return groups.join(', ');
}

/** Multi-row INSERT of `rows` (each `width` values) in slices; returns the RETURNING rows of all slices. */
async function insertMany(db: Queryable, head: string, tail: string, width: number, rows: unknown[][]): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < rows.length; i += INSERT_SLICE) {
    const slice = rows.slice(i, i + INSERT_SLICE);
    const result = await db.query(`${head} VALUES ${valuesList(slice.length, width)} ${tail}`, slice.flat());
    out.push(...(result.rows as Row[]));
  }
  return out;
}

function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreError('STORE_BAD_INPUT', 'schema must be a lower-case SQL identifier');
  }
  return schema;
}

async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row: Row) => num(row.version)));
    const newest = Math.max(0, ...applied);
    if (newest > LATEST_VERSION) {
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `database schema version ${newest} is newer than this build knows (${LATEST_VERSION})`,
      );
    }
    for (const migration of migrationsFor('postgres')) {
      if (applied.has(migration.version)) continue;
      if (migration.sql !== '') await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof StoreError) throw error;
    const code = (error as { code?: unknown }).code;
    // Connection failures are "unavailable", not a broken migration.
    if (typeof code === 'string' && /^(08|57P|53100|E[A-Z]+)/.test(code)) throw toStoreError(error);
    throw new StoreError('STORE_MIGRATION_FAILED', `schema migration failed: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    client.release();
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  #closed = false;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects, creates the schema if one is configured, and brings it up to date. */
  static async open(config: StoreConfig & { databaseUrl: string }): Promise<PostgresStore> {
    const schema = config.schema === undefined ? undefined : checkSchemaName(config.schema);
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      await migrate(pool, schema);
      return new PostgresStore(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw toStoreError(error);
    }
  }

  /** Runs `work`, turning any failure into a coded StoreError. */
  async #do<T>(work: (db: pg.Pool) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('STORE_UNAVAILABLE', 'store is closed');
    try {
      return await work(this.#pool);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** `work` inside BEGIN … COMMIT on one pooled connection (rolled back if it throws). */
  async #tx<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#do(async (pool) => {
      const client = await pool.connect();
      // A connection reset while the client is checked out is emitted as 'error' on it: with no listener that
      // is an uncaught exception that ends the process (the query in flight rejects by itself). A client that
      // lost its connection is destroyed on release instead of going back to the pool.
      let lost: Error | undefined;
      const onError = (err: Error) => void (lost = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    });
  }

  async #one(db: Queryable, sql: string, params: unknown[]): Promise<Row | undefined> {
    return (await db.query(sql, params)).rows[0] as Row | undefined;
  }

  ping(): Promise<void> {
    return this.#do(async (db) => {
      await db.query('SELECT 1');
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  schemaVersion(): Promise<number> {
    return this.#do(async (db) => num((await this.#one(db, 'SELECT MAX(version) AS v FROM schema_migrations', []))!.v));
  }

  // Accounts ---------------------------------------------------------------------------------------------

  createAthlete(input: NewAthlete): Promise<{ athlete: Athlete; token: string }> {
    return this.#do(async (db) => {
      if (typeof input.name !== 'string' || input.name.length === 0) {
        throw new StoreError('STORE_BAD_INPUT', 'an athlete needs a name');
      }
      const token = newToken();
      const now = Date.now();
      const athlete: Athlete = { id: randomUUID(), name: input.name, profile: input.profile ?? {}, createdAt: iso(now) };
      await db.query('INSERT INTO athletes (id, name, profile, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
        athlete.id,
        athlete.name,
        JSON.stringify(athlete.profile),
        hashToken(token),
        now,
      ]);
      return { athlete, token };
    });
  }

  authenticate(token: string): Promise<Athlete | null> {
    return this.#do(async (db) => {
      if (!plausibleToken(token)) return null;
      const row = await this.#one(db, 'SELECT id, name, profile, created_at, token_hash FROM athletes WHERE token_hash = $1', [
        hashToken(token),
      ]);
      return athleteForToken(row, token);
    });
  }

  getAthlete(athleteId: string): Promise<Athlete | null> {
    return this.#do(async (db) => {
      const row = await this.#one(db, 'SELECT id, name, profile, created_at FROM athletes WHERE id = $1', [athleteId]);
      return row ? toAthlete(row) : null;
    });
  }

  updateAthleteProfile(athleteId: string, profile: Profile): Promise<Athlete | null> {
    return this.#do(async (db) => {
      const row = await this.#one(
        db,
        'UPDATE athletes SET profile = $1 WHERE id = $2 RETURNING id, name, profile, created_at',
        [JSON.stringify(profile), athleteId],
      );
      return row ? toAthlete(row) : null;
    });
  }

  // Runs -------------------------------------------------------------------------------------------------

  async #getRun(db: Queryable, athleteId: string, runId: string): Promise<RunRecord | null> {
    const row = await this.#one(db, `SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE id = $1 AND athlete_id = $2`, [
      runId,
      athleteId,
    ]);
    return row ? toRunRecord(row) : null;
  }

  async #runN(db: Queryable, athleteId: string, runId: string): Promise<number | null> {
    const row = await this.#one(db, 'SELECT n FROM runs WHERE id = $1 AND athlete_id = $2', [runId, athleteId]);
    return row ? num(row.n) : null;
  }

  /** INSERT of a run row; null when a unique key (file sha or client run id) already exists. */
  async #insertRun(db: Queryable, values: Record<string, unknown>): Promise<number | null> {
    const columns = Object.keys(values);
    const row = await this.#one(
      db,
      `INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT DO NOTHING RETURNING n`,
      Object.values(values),
    );
    return row ? num(row.n) : null;
  }

  createUploadedRun(athleteId: string, input: NewUploadedRun): Promise<Created<RunRecord>> {
    return this.#tx(async (db) => {
      const sha = checkSha256(input.fileSha256);
      const cols = input.run.samples;
      checkUploadColumns(cols);
      const byFile = `SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE athlete_id = $1 AND file_sha256 = $2`;
      const existing = await this.#one(db, byFile, [athleteId, sha]);
      if (existing) return { run: toRunRecord(existing), created: false };

      const now = Date.now();
      const n = await this.#insertRun(db, { ...uploadedRunRow(randomUUID(), athleteId, sha, input, uploadChunks(cols.length).length, now) });
      // A concurrent upload of the same bytes committed first (the INSERT waited for it): return that run.
      if (n === null) return { run: toRunRecord((await this.#one(db, byFile, [athleteId, sha]))!), created: false };
      await insertMany(db, 'INSERT INTO sample_chunks (run_n, seq, t0, rows, data)', '', 5, uploadChunkRows(n, input));
      await insertMany(db, 'INSERT INTO run_events (run_n, key, t, type, body, created_at)', '', 6, fileEventRows(n, input, now));
      return { run: uploadedRunRecord((await this.#one(db, byFile, [athleteId, sha]))!, input), created: true };
    });
  }

  findRunByFileSha(athleteId: string, fileSha256: string): Promise<RunRecord | null> {
    return this.#do(async (db) => {
      const row = await this.#one(db, `SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE athlete_id = $1 AND file_sha256 = $2`, [
        athleteId,
        fileSha256,
      ]);
      return row ? toRunRecord(row) : null;
    });
  }

  startLiveRun(athleteId: string, input: NewLiveRun): Promise<Created<RunRecord>> {
    return this.#do(async (db) => {
      const clientRunId = checkKey('clientRunId', input.clientRunId);
      const startMs = startMsOf(input.startTime);
      const now = Date.now();
      // Started at the same instant as a stored run: a replay of it (see RunSummary.replayOf).
      const replayed =
        startMs === null
          ? null
          : await this.#one(db, 'SELECT id FROM runs WHERE athlete_id = $1 AND start_ms = $2 AND replay_of IS NULL ORDER BY n LIMIT 1', [
              athleteId,
              startMs,
            ]);
      const n = await this.#insertRun(db, {
        ...liveRunRow(randomUUID(), athleteId, clientRunId, input, now),
        replay_of: (replayed?.id as string | undefined) ?? null,
      });
      const row = await this.#one(db, `SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE athlete_id = $1 AND client_run_id = $2`, [
        athleteId,
        clientRunId,
      ]);
      return { run: toRunRecord(row!), created: n !== null };
    });
  }

  endLiveRun(athleteId: string, runId: string, input: EndLiveRun): Promise<RunRecord | null> {
    const columns = reportColumns(input.report);
    return this.#do(async (db) => {
      const row = await this.#one(
        db,
        `UPDATE runs SET status = 'ended', ended_at = COALESCE(ended_at, $3), report = $4,
           meta = COALESCE($5::jsonb, meta), duration_s = $6, distance_m = $7, start_time = COALESCE(start_time, $8),
           prompts = $9, peak_risk = $10, sport = $11, pace_s_per_km = $12, start_ms = COALESCE(start_ms, $13::bigint),
           sort_ms = COALESCE(start_ms, $13::bigint, sort_ms)
         WHERE id = $1 AND athlete_id = $2 RETURNING ${RUN_RECORD_COLUMNS}`,
        [
          runId,
          athleteId,
          Date.now(),
          JSON.stringify(input.report),
          input.meta ? JSON.stringify(input.meta) : null,
          columns.durationS,
          columns.distanceM,
          input.meta?.startTime ?? input.report.startTime ?? null,
          columns.prompts,
          columns.peakRisk,
          columns.sport,
          columns.paceSPerKm,
          startMsOf(input.meta?.startTime ?? input.report.startTime),
        ],
      );
      return row ? toRunRecord(row) : null;
    });
  }

  setReport(athleteId: string, runId: string, report: Report): Promise<boolean> {
    return this.#do(async (db) => {
      const columns = reportColumns(report);
      const result = await db.query(
        `UPDATE runs SET report = $3, duration_s = $4, distance_m = $5, prompts = $6, peak_risk = $7, sport = $8,
           pace_s_per_km = $9
         WHERE id = $1 AND athlete_id = $2`,
        [runId, athleteId, JSON.stringify(report), columns.durationS, columns.distanceM, columns.prompts, columns.peakRisk, columns.sport, columns.paceSPerKm],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  getRun(athleteId: string, runId: string): Promise<RunRecord | null> {
    return this.#do((db) => this.#getRun(db, athleteId, runId));
  }

  listRuns(athleteId: string, options: ListRunsOptions = {}): Promise<Page<RunSummary>> {
    return this.#do(async (db) => {
      const limit = pageLimit(options.limit);
      const { rows } = await db.query(
        `SELECT ${RUN_LIST_COLUMNS} FROM runs WHERE athlete_id = $1 AND (sort_ms, n) < ($2::bigint, $3::bigint)
           AND ($4::text IS NULL OR status = $4) AND ($4::text IS NOT NULL OR replay_of IS NULL)
         ORDER BY sort_ms DESC, n DESC LIMIT $5`,
        [athleteId, ...decodeRunCursor(options.before), options.status ?? null, limit + 1],
      );
      await this.#fillHighlights(db, (rows as Row[]).slice(0, limit).filter(needsHighlights));
      return toPage(rows as Row[], limit, toRunSummary, runCursor);
    });
  }

  findRunsStartingNear(athleteId: string, startTime: string, toleranceMs: number): Promise<RunCandidate[]> {
    return this.#do(async (db) => {
      const ms = startMsOf(startTime);
      if (ms === null) return [];
      const { rows } = await db.query(
        `SELECT ${RUN_SUMMARY_COLUMNS}, meta FROM runs WHERE athlete_id = $1 AND start_ms BETWEEN $2 AND $3 ORDER BY n LIMIT 20`,
        [athleteId, ms - toleranceMs, ms + toleranceMs],
      );
      return (rows as Row[]).map((row) => ({ ...toRunSummary(row), meta: json<RunMeta>(row.meta) }));
    });
  }

  /**
   * Rows stored before migration 3: computes their highlights from the report (a few reports per query: each
   * may be megabytes) and writes them back, so this happens once per run. The write is best effort and only
   * fills columns still NULL, so a report stored meanwhile keeps its own; if it fails, a later list retries.
   */
  async #fillHighlights(db: Queryable, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const byN = new Map(rows.map((row) => [num(row.n), row]));
    const ns = [...byN.keys()];
    for (let i = 0; i < ns.length; i += HIGHLIGHT_BATCH) {
      const { rows: reports } = await db.query('SELECT n, report FROM runs WHERE n = ANY($1::bigint[])', [
        ns.slice(i, i + HIGHLIGHT_BATCH),
      ]);
      for (const stored of reports as Row[]) {
        const row = byN.get(num(stored.n))!;
        const { prompts, peakRisk, sport, paceSPerKm } = reportHighlights(json<Report>(stored.report));
        row.prompts = prompts;
        row.peak_risk = peakRisk;
        row.sport = sport;
        row.pace_s_per_km = paceSPerKm;
      }
    }
    await db
      .query(
        `UPDATE runs SET prompts = u.p, peak_risk = u.r, sport = u.s, pace_s_per_km = u.pace
         FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::text[], $5::float8[]) AS u(n, p, r, s, pace)
         WHERE runs.n = u.n AND runs.prompts IS NULL`,
        [
          ns,
          rows.map((row) => row.prompts ?? null),
          rows.map((row) => row.peak_risk ?? null),
          rows.map((row) => row.sport ?? null),
          rows.map((row) => row.pace_s_per_km ?? null),
        ],
      )
      .catch(() => undefined);
  }

  deleteRun(athleteId: string, runId: string): Promise<boolean> {
    return this.#do(async (db) => {
      const result = await db.query('DELETE FROM runs WHERE id = $1 AND athlete_id = $2', [runId, athleteId]);
      return (result.rowCount ?? 0) > 0;
    });
  }

  // Samples ----------------------------------------------------------------------------------------------

  appendSampleBatches(batches: readonly SampleBatch[]): Promise<SampleBatchResult[]> {
    if (batches.length === 0) return Promise.resolve([]);
    return this.#tx(async (db) => {
      const valid = batches.map((batch) => batchProblem(batch) === null);
      // Every named run is looked up, so even an invalid batch reports its run's mark (as in SQLite).
      const ids = [...new Set(batches.map((batch) => batch.runId).filter((id) => typeof id === 'string'))];
      const runs = new Map<string, RunProgress>();
      if (ids.length > 0) {
        const { rows } = await db.query(
          `SELECT ${RUN_PROGRESS_COLUMNS} FROM runs WHERE id = ANY($1::text[]) ORDER BY n FOR UPDATE`,
          [ids],
        );
        for (const row of rows as Row[]) runs.set(row.id as string, toRunProgress(row));
      }

      const results: Array<{ result: SampleBatchResult; state: RunProgress | null }> = [];
      const toInsert: Array<{ result: SampleBatchResult; state: RunProgress; batch: SampleBatch; chunk: EncodedChunk }> = [];
      const toCheck: Array<{ result: SampleBatchResult; state: RunProgress }> = [];
      const seen = new Set<string>();
      batches.forEach((batch, i) => {
        const result: SampleBatchResult = { runId: batch.runId, seq: batch.seq, status: 'invalid', contiguousSeq: 0 };
        const found = runs.get(batch.runId);
        // A foreign run is reported exactly like a missing one.
        const state = found !== undefined && found.athleteId === batch.athleteId ? found : null;
        results.push({ result, state });
        if (!valid[i]) return;
        if (state === null) {
          result.status = 'not_found';
          return;
        }
        const key = `${state.n}:${batch.seq}`;
        if (seen.has(key)) {
          result.status = 'duplicate'; // the same seq earlier in this call wins
          return;
        }
        seen.add(key);
        if (state.live) toInsert.push({ result, state, batch, chunk: chunkOf(batch.samples) });
        else toCheck.push({ result, state });
      });

      if (toCheck.length > 0) {
        const { rows } = await db.query(
          `SELECT run_n, seq FROM sample_chunks WHERE (run_n, seq) IN
             (SELECT * FROM unnest($1::bigint[], $2::bigint[]))`,
          [toCheck.map((x) => x.state.n), toCheck.map((x) => x.result.seq)],
        );
        const stored = new Set((rows as Row[]).map((row) => `${num(row.run_n)}:${num(row.seq)}`));
        for (const { result, state } of toCheck) {
          result.status = stored.has(`${state.n}:${result.seq}`) ? 'duplicate' : 'not_live';
        }
      }

      if (toInsert.length > 0) {
        const inserted = await insertMany(
          db,
          'INSERT INTO sample_chunks (run_n, seq, t0, rows, data)',
          'ON CONFLICT DO NOTHING RETURNING run_n, seq',
          5,
          toInsert.map(({ state, batch, chunk }) => [state.n, batch.seq, chunk.firstT, chunk.rows, chunk.bytes]),
        );
        const fresh = new Set(inserted.map((row) => `${num(row.run_n)}:${num(row.seq)}`));
        for (const { result, state, batch, chunk } of toInsert) {
          if (!fresh.has(`${state.n}:${batch.seq}`)) {
            result.status = 'duplicate';
            continue;
          }
          result.status = 'stored';
          state.addedRows += chunk.rows;
          state.fresh.push(batch.seq);
        }
      }

      const changed = [...runs.values()].filter((state) => state.addedRows > 0);
      if (changed.length > 0) {
        const marks = changed.map(contiguousFromFresh);
        const scan = changed.filter((_, i) => marks[i] === null);
        if (scan.length > 0) {
          // Out-of-order arrivals: walk the run's stored seqs past its mark.
          const { rows } = await db.query(
            `SELECT c.run_n, c.seq FROM sample_chunks c JOIN runs r ON r.n = c.run_n
             WHERE c.run_n = ANY($1::bigint[]) AND c.seq > r.contiguous_seq ORDER BY c.run_n, c.seq`,
            [scan.map((state) => state.n)],
          );
          const after = new Map<number, number[]>();
          for (const row of rows as Row[]) {
            const n = num(row.run_n);
            let list = after.get(n);
            if (list === undefined) after.set(n, (list = []));
            list.push(num(row.seq));
          }
          changed.forEach((state, i) => {
            marks[i] ??= advanceContiguous(state.contiguousSeq, after.get(state.n) ?? []);
          });
        }
        await db.query(
          `UPDATE runs SET contiguous_seq = u.c, max_seq = u.m, sample_count = runs.sample_count + u.added
           FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS u(n, c, m, added) WHERE runs.n = u.n`,
          [changed.map((s) => s.n), marks, changed.map(maxSeqAfter), changed.map((s) => s.addedRows)],
        );
        changed.forEach((state, i) => {
          state.contiguousSeq = marks[i]!;
        });
      }

      return results.map(({ result, state }) => {
        if (state !== null) result.contiguousSeq = state.contiguousSeq;
        return result;
      });
    });
  }

  readSamples(athleteId: string, runId: string, options: ReadSamplesOptions = {}): Promise<SampleColumns | null> {
    return this.#do(async (db) => {
      const run = await this.#one(db, 'SELECT n, contiguous_seq FROM runs WHERE id = $1 AND athlete_id = $2', [
        runId,
        athleteId,
      ]);
      if (!run) return null;
      let through = options.throughSeq ?? Number.MAX_SAFE_INTEGER;
      if (options.contiguousOnly) through = Math.min(through, num(run.contiguous_seq));
      const { rows } = await db.query(
        'SELECT data FROM sample_chunks WHERE run_n = $1 AND seq > $2 AND seq <= $3 ORDER BY seq',
        [run.n, options.afterSeq ?? 0, through],
      );
      return decodeChunks((rows as Row[]).map((row) => row.data as Buffer));
    });
  }

  // Events -----------------------------------------------------------------------------------------------

  appendEvents(athleteId: string, runId: string, events: readonly NewRunEvent[]): Promise<number | null> {
    return this.#do(async (db) => {
      checkEvents(events);
      const n = await this.#runN(db, athleteId, runId);
      if (n === null) return null;
      const now = Date.now();
      const inserted = await insertMany(
        db,
        'INSERT INTO run_events (run_n, key, t, type, body, created_at)',
        'ON CONFLICT DO NOTHING RETURNING 1',
        6,
        events.map(({ key, event }) => [n, key, event.t, event.type, JSON.stringify(event), now]),
      );
      return inserted.length;
    });
  }

  listEvents(athleteId: string, runId: string): Promise<StoredRunEvent[] | null> {
    return this.#do(async (db) => {
      const n = await this.#runN(db, athleteId, runId);
      if (n === null) return null;
      const { rows } = await db.query('SELECT key, body, created_at FROM run_events WHERE run_n = $1 ORDER BY t, n', [n]);
      return (rows as Row[]).map((row) => ({ key: row.key as string, event: json(row.body)!, createdAt: iso(row.created_at) }));
    });
  }

  // Alert log --------------------------------------------------------------------------------------------

  appendAlerts(athleteId: string, runId: string, alerts: readonly Alert[]): Promise<StoredAlert[] | null> {
    return this.#tx(async (db) => {
      checkAlerts(alerts);
      // The row lock makes "read count, insert at count + 1" safe against concurrent appends.
      const run = await this.#one(db, 'SELECT n, alert_count FROM runs WHERE id = $1 AND athlete_id = $2 FOR UPDATE', [
        runId,
        athleteId,
      ]);
      if (!run) return null;
      const n = num(run.n);
      const { rows } = await db.query('SELECT alert_id FROM run_alerts WHERE run_n = $1 AND alert_id = ANY($2::text[])', [
        n,
        alerts.map((alert) => alert.id),
      ]);
      const known = new Set((rows as Row[]).map((row) => row.alert_id as string));
      let count = num(run.alert_count);
      const now = Date.now();
      const added: StoredAlert[] = [];
      for (const alert of alerts) {
        if (known.has(alert.id)) continue;
        known.add(alert.id);
        added.push({ pos: ++count, alert, createdAt: iso(now), delivered: false });
      }
      if (added.length === 0) return added;
      await insertMany(
        db,
        'INSERT INTO run_alerts (run_n, alert_id, pos, body, created_at)',
        '',
        5,
        added.map((a) => [n, a.alert.id, a.pos, JSON.stringify(a.alert), now]),
      );
      await db.query('UPDATE runs SET alert_count = $1 WHERE n = $2', [count, n]);
      return added;
    });
  }

  listAlerts(athleteId: string, runId: string, options: ListAlertsOptions = {}): Promise<StoredAlert[] | null> {
    return this.#do(async (db) => {
      const run = await this.#one(db, 'SELECT n, alerts_delivered_through FROM runs WHERE id = $1 AND athlete_id = $2', [
        runId,
        athleteId,
      ]);
      if (!run) return null;
      const delivered = num(run.alerts_delivered_through);
      const after = Math.max(options.afterPos ?? 0, options.undeliveredOnly ? delivered : 0);
      const { rows } = await db.query(
        'SELECT pos, body, created_at FROM run_alerts WHERE run_n = $1 AND pos > $2 ORDER BY pos',
        [run.n, after],
      );
      return (rows as Row[]).map((row) => toStoredAlert(row, delivered));
    });
  }

  markAlertsDelivered(athleteId: string, runId: string, pos: number): Promise<boolean> {
    return this.#do(async (db) => {
      if (!Number.isSafeInteger(pos) || pos < 0) throw new StoreError('STORE_BAD_INPUT', 'pos must be a non-negative integer');
      const result = await db.query(
        `UPDATE runs SET alerts_delivered_through = GREATEST(alerts_delivered_through, LEAST($1::bigint, alert_count))
         WHERE id = $2 AND athlete_id = $3`,
        [pos, runId, athleteId],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  // Engine checkpoints -----------------------------------------------------------------------------------

  saveCheckpoint(athleteId: string, runId: string, seq: number, snapshot: EngineSnapshot): Promise<boolean> {
    return this.#do(async (db) => {
      checkCheckpointSeq(seq);
      const n = await this.#runN(db, athleteId, runId);
      if (n === null) return false;
      await db.query(
        `INSERT INTO run_checkpoints (run_n, seq, snapshot, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_n) DO UPDATE SET seq = excluded.seq, snapshot = excluded.snapshot, created_at = excluded.created_at
         WHERE excluded.seq >= run_checkpoints.seq`,
        [n, seq, JSON.stringify(snapshot), Date.now()],
      );
      return true;
    });
  }

  getCheckpoint(athleteId: string, runId: string): Promise<Checkpoint | null> {
    return this.#do(async (db) => {
      const row = await this.#one(
        db,
        `SELECT c.seq, c.snapshot, c.created_at FROM run_checkpoints c JOIN runs r ON r.n = c.run_n
         WHERE r.id = $1 AND r.athlete_id = $2`,
        [runId, athleteId],
      );
      return row ? { seq: num(row.seq), snapshot: json(row.snapshot)!, createdAt: iso(row.created_at) } : null;
    });
  }

  // Cramp journal ----------------------------------------------------------------------------------------

  addJournalEntry(athleteId: string, input: NewJournalEntry): Promise<JournalEntry | null> {
    return this.#do(async (db) => {
      checkJournalInput(input);
      const runId = input.runId ?? null;
      if (runId !== null && (await this.#runN(db, athleteId, runId)) === null) return null;
      const id = input.id ?? randomUUID();
      await db.query(
        `INSERT INTO journal (id, athlete_id, run_id, t, muscle, severity, note, context, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [
          id,
          athleteId,
          runId,
          input.t ?? null,
          input.muscle,
          input.severity,
          input.note ?? '',
          JSON.stringify(input.context ?? {}),
          Date.now(),
        ],
      );
      const row = await this.#one(db, `SELECT ${JOURNAL_COLUMNS} FROM journal WHERE athlete_id = $1 AND id = $2`, [
        athleteId,
        id,
      ]);
      return toJournalEntry(row!);
    });
  }

  listJournal(athleteId: string, options: { limit?: number; before?: string } = {}): Promise<Page<JournalEntry>> {
    return this.#do(async (db) => {
      const limit = pageLimit(options.limit);
      const { rows } = await db.query(
        `SELECT ${JOURNAL_COLUMNS} FROM journal WHERE athlete_id = $1 AND n < $2 ORDER BY n DESC LIMIT $3`,
        [athleteId, decodeCursor(options.before), limit + 1],
      );
      return toPage(rows as Row[], limit, toJournalEntry, (row) => row.n);
    });
  }

  getJournalEntry(athleteId: string, id: string): Promise<JournalEntry | null> {
    return this.#do(async (db) => {
      const row = await this.#one(db, `SELECT ${JOURNAL_COLUMNS} FROM journal WHERE athlete_id = $1 AND id = $2`, [
        athleteId,
        id,
      ]);
      return row ? toJournalEntry(row) : null;
    });
  }

  deleteJournalEntry(athleteId: string, id: string): Promise<boolean> {
    return this.#do(async (db) => {
      const result = await db.query('DELETE FROM journal WHERE athlete_id = $1 AND id = $2', [athleteId, id]);
      return (result.rowCount ?? 0) > 0;
    });
  }

  // Athlete model ----------------------------------------------------------------------------------------

  saveRunSummary(athleteId: string, runId: string, summary: RunSummaryRow): Promise<boolean> {
    return this.#do(async (db) => {
      const version = checkRunSummary(summary);
      // One statement: a run deleted meanwhile inserts nothing (the SELECT finds no row).
      const result = await db.query(
        `INSERT INTO run_summaries (run_n, athlete_id, version, body, created_at)
         SELECT n, athlete_id, $3, $4, GREATEST($5, COALESCE((SELECT MAX(created_at) + 1 FROM run_summaries WHERE athlete_id = $2), 0))
         FROM runs WHERE id = $1 AND athlete_id = $2
         ON CONFLICT (run_n) DO UPDATE SET version = excluded.version, body = excluded.body, created_at = excluded.created_at`,
        [runId, athleteId, version, JSON.stringify(summary), Date.now()],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  listRunSummaries(athleteId: string, options: { runIds?: readonly string[]; savedSinceMs?: number } = {}): Promise<StoredRunSummary[]> {
    return this.#do(async (db) => {
      const some = options.runIds !== undefined;
      const since = !some && options.savedSinceMs !== undefined;
      const { rows } = await db.query(
        `SELECT r.id AS run_id, s.version, s.body, s.created_at FROM run_summaries s JOIN runs r ON r.n = s.run_n
         WHERE s.athlete_id = $1 AND r.athlete_id = s.athlete_id ${some ? 'AND r.id = ANY($2::text[])' : since ? 'AND s.created_at >= $2' : ''}
         ORDER BY s.run_n`,
        some ? [athleteId, [...options.runIds!]] : since ? [athleteId, options.savedSinceMs] : [athleteId],
      );
      return (rows as Row[]).map(toStoredRunSummary);
    });
  }

  runSummaryDigest(athleteId: string): Promise<{ count: number; runSum: number; lastSavedMs: number }> {
    return this.#do(async (db) => {
      const row = await this.#one(
        db,
        'SELECT COUNT(*) AS count, COALESCE(SUM(run_n), 0) AS run_sum, COALESCE(MAX(created_at), 0) AS last FROM run_summaries WHERE athlete_id = $1',
        [athleteId],
      );
      return toRunSummaryDigest(row!);
    });
  }

  listRunSummaryStamps(athleteId: string): Promise<Array<Omit<StoredRunSummary, 'summary'>>> {
    return this.#do(async (db) => {
      const { rows } = await db.query(
        `SELECT r.id AS run_id, s.version, s.created_at FROM run_summaries s JOIN runs r ON r.n = s.run_n
         WHERE s.athlete_id = $1 AND r.athlete_id = s.athlete_id ORDER BY s.run_n`,
        [athleteId],
      );
      return (rows as Row[]).map(toRunSummaryStamp);
    });
  }
}
