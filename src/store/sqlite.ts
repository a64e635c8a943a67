/**
 * The embedded store: one SQLite file under DATA_DIR (better-sqlite3, synchronous inside, async outside).
 *
 * - WAL journal: readers never block the writer, and a commit is one append to the WAL.
 * - synchronous=NORMAL by default: in WAL mode that is still corruption-safe and durable across a crash of
 *   the process; only an OS crash or power loss can lose the last commits, and it saves an fsync per commit
 *   (the dominant cost of small live batches). `synchronous: 'full'` in the config fsyncs every commit.
 * - Every statement is prepared once at open. Writes run in BEGIN IMMEDIATE transactions so several
 *   processes on one file queue on the write lock instead of failing on a lock upgrade.
 * - better-sqlite3 is synchronous: a statement waiting for another connection's lock blocks its thread (openStore
 *   runs this store on a thread of its own, sqlite-thread.ts, not the sockets' event loop). So after the open
 *   (which may wait up to 10 s for another process's migration) the busy timeout is a few ms, and a statement that
 *   still finds the file locked (SQLITE_BUSY / SQLITE_LOCKED) is retried asynchronously, with back-off, for up to
 *   {@link BUSY_RETRY_MS}; then it fails with a retriable `STORE_UNAVAILABLE` (the live path retries on; the API answers 503 with Retry-After).
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Alert, EngineSnapshot, Profile, Report } from '../../alerts/types.js';
import type { RunMeta, SampleColumns } from '../../ingest/sample.js';
import { decodeChunks } from './codec.js';
import { reportHighlights } from './highlights.js';
import { CREATE_MIGRATIONS_TABLE, LATEST_VERSION, migrationsFor } from './migrations.js';
import { LIVE_LOG_LIMITS, LiveLog, type LiveLogLimits } from './sqlite-live-log.js';
import {
  JOURNAL_COLUMNS,
  RUN_LIST_COLUMNS,
  RUN_RECORD_COLUMNS,
  RUN_SUMMARY_COLUMNS,
  athleteForToken,
  checkAlerts,
  checkCheckpointSeq,
  checkEvents,
  checkJournalInput,
  checkRunSummary,
  checkKey,
  checkSha256,
  checkUploadColumns,
  decodeCursor,
  decodeRunCursor,
  hashToken,
  iso,
  json,
  needsHighlights,
  newToken,
  pageLimit,
  plausibleToken,
  reportColumns,
  runCursor,
  startMsOf,
  toAthlete,
  toJournalEntry,
  toPage,
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

/** The SQLite file inside the data directory. */
export const SQLITE_FILE = 'crampguard.sqlite';
/** Busy timeout while opening and migrating (another process may be migrating the same file), ms. */
const BUSY_TIMEOUT_OPEN_MS = 10_000;
/** Busy timeout afterwards: the longest one attempt blocks the event loop on a held lock, ms. */
export const BUSY_TIMEOUT_MS = 5;
/** How long a locked statement is retried (asynchronously, with back-off) before it fails, ms. */
export const BUSY_RETRY_MS = 1000;

/** SQLITE_BUSY, SQLITE_LOCKED and their extended codes: another connection holds the lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function prepareAll(db: Database.Database) {
  return {
    insertAthlete: db.prepare('INSERT INTO athletes (id, name, profile, token_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    athleteByHash: db.prepare('SELECT id, name, profile, created_at, token_hash FROM athletes WHERE token_hash = ?'),
    athleteById: db.prepare('SELECT id, name, profile, created_at FROM athletes WHERE id = ?'),
    updateProfile: db.prepare('UPDATE athletes SET profile = ? WHERE id = ?'),

    runById: db.prepare(`SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE id = ? AND athlete_id = ?`),
    runByFile: db.prepare(`SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE athlete_id = ? AND file_sha256 = ?`),
    runByClientId: db.prepare(`SELECT ${RUN_RECORD_COLUMNS} FROM runs WHERE athlete_id = ? AND client_run_id = ?`),
    runN: db.prepare('SELECT n FROM runs WHERE id = ? AND athlete_id = ?').pluck(),
    insertRun: db.prepare(
      `INSERT INTO runs (id, athlete_id, source, status, file_sha256, client_run_id, name, start_time, created_at,
         ended_at, options, meta, report, duration_s, distance_m, prompts, peak_risk, sport, pace_s_per_km, sample_count,
         contiguous_seq, max_seq, start_ms, sort_ms, replay_of)
       VALUES (@id, @athlete_id, @source, @status, @file_sha256, @client_run_id, @name, @start_time, @created_at,
         @ended_at, @options, @meta, @report, @duration_s, @distance_m, @prompts, @peak_risk, @sport, @pace_s_per_km, @sample_count,
         @contiguous_seq, @max_seq, @start_ms, @sort_ms,
         CASE WHEN @source = 'live' AND @start_ms IS NOT NULL THEN
           (SELECT r.id FROM runs r WHERE r.athlete_id = @athlete_id AND r.start_ms = @start_ms AND r.replay_of IS NULL ORDER BY r.n LIMIT 1)
         END)
       ON CONFLICT DO NOTHING RETURNING n`,
    ),
    endRun: db.prepare(
      `UPDATE runs SET status = 'ended', ended_at = COALESCE(ended_at, @now), report = @report,
         meta = COALESCE(@meta, meta), duration_s = @durationS, distance_m = @distanceM,
         prompts = @prompts, peak_risk = @peakRisk, sport = @sport, pace_s_per_km = @paceSPerKm,
         start_time = COALESCE(start_time, @startTime), start_ms = COALESCE(start_ms, @startMs),
         sort_ms = COALESCE(start_ms, @startMs, sort_ms)
       WHERE id = @id AND athlete_id = @athleteId`,
    ),
    setReport: db.prepare(
      `UPDATE runs SET report = @report, duration_s = @durationS, distance_m = @distanceM, prompts = @prompts,
         peak_risk = @peakRisk, sport = @sport, pace_s_per_km = @paceSPerKm WHERE id = @id AND athlete_id = @athleteId`,
    ),
    listRuns: db.prepare(
      `SELECT ${RUN_LIST_COLUMNS} FROM runs WHERE athlete_id = @athleteId AND (sort_ms, n) < (@sortMs, @n)
         AND (@status IS NULL OR status = @status) AND (@status IS NOT NULL OR replay_of IS NULL)
       ORDER BY sort_ms DESC, n DESC LIMIT @limit`,
    ),
    runsStartingNear: db.prepare(
      `SELECT ${RUN_SUMMARY_COLUMNS}, meta FROM runs WHERE athlete_id = ? AND start_ms BETWEEN ? AND ? ORDER BY n LIMIT 20`,
    ),
    runReport: db.prepare('SELECT report FROM runs WHERE n = ?').pluck(),
    fillHighlights: db.prepare(
      'UPDATE runs SET prompts = ?, peak_risk = ?, sport = ?, pace_s_per_km = ? WHERE n = ? AND prompts IS NULL',
    ),
    deleteRun: db.prepare('DELETE FROM runs WHERE id = ? AND athlete_id = ?'),

    insertChunk: db.prepare(
      'INSERT INTO sample_chunks (run_n, seq, t0, rows, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    readChunks: db
      .prepare('SELECT data FROM sample_chunks WHERE run_n = ? AND seq > ? AND seq <= ? ORDER BY seq')
      .pluck(),
    contiguousOf: db.prepare('SELECT contiguous_seq FROM runs WHERE n = ?').pluck(),

    insertEvent: db.prepare(
      'INSERT INTO run_events (run_n, key, t, type, body, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    listEvents: db.prepare('SELECT key, body, created_at FROM run_events WHERE run_n = ? ORDER BY t, n'),

    runAlertState: db.prepare('SELECT n, alert_count, alerts_delivered_through FROM runs WHERE id = ? AND athlete_id = ?'),
    alertExists: db.prepare('SELECT 1 FROM run_alerts WHERE run_n = ? AND alert_id = ?').pluck(),
    insertAlert: db.prepare('INSERT INTO run_alerts (run_n, alert_id, pos, body, created_at) VALUES (?, ?, ?, ?, ?)'),
    setAlertCount: db.prepare('UPDATE runs SET alert_count = ? WHERE n = ?'),
    listAlerts: db.prepare('SELECT pos, body, created_at FROM run_alerts WHERE run_n = ? AND pos > ? ORDER BY pos'),
    markDelivered: db.prepare(
      `UPDATE runs SET alerts_delivered_through = MAX(alerts_delivered_through, MIN(?, alert_count))
       WHERE id = ? AND athlete_id = ?`,
    ),

    saveCheckpoint: db.prepare(
      `INSERT INTO run_checkpoints (run_n, seq, snapshot, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_n) DO UPDATE SET seq = excluded.seq, snapshot = excluded.snapshot, created_at = excluded.created_at
       WHERE excluded.seq >= run_checkpoints.seq`,
    ),
    getCheckpoint: db.prepare(
      `SELECT c.seq, c.snapshot, c.created_at FROM run_checkpoints c JOIN runs r ON r.n = c.run_n
       WHERE r.id = ? AND r.athlete_id = ?`,
    ),

    insertJournal: db.prepare(
      `INSERT INTO journal (id, athlete_id, run_id, t, muscle, severity, note, context, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    journalById: db.prepare(`SELECT ${JOURNAL_COLUMNS} FROM journal WHERE athlete_id = ? AND id = ?`),
    listJournal: db.prepare(
      `SELECT ${JOURNAL_COLUMNS} FROM journal WHERE athlete_id = ? AND n < ? ORDER BY n DESC LIMIT ?`,
    ),
    deleteJournal: db.prepare('DELETE FROM journal WHERE athlete_id = ? AND id = ?'),
    saveSummary: db.prepare(
      // created_at increases with every save of the athlete's rows (at least 1 ms past the latest), so the
      // digest (runSummaryDigest) changes with each one.
      `INSERT INTO run_summaries (run_n, athlete_id, version, body, created_at)
       VALUES (@n, @athleteId, @version, @body, MAX(@now, COALESCE((SELECT MAX(created_at) + 1 FROM run_summaries WHERE athlete_id = @athleteId), 0)))
       ON CONFLICT (run_n) DO UPDATE SET version = excluded.version, body = excluded.body, created_at = excluded.created_at`,
    ),
    listSummaries: db.prepare(
      `SELECT r.id AS run_id, s.version, s.body, s.created_at FROM run_summaries s JOIN runs r ON r.n = s.run_n
       WHERE s.athlete_id = ? AND r.athlete_id = s.athlete_id ORDER BY s.run_n`,
    ),
    listSomeSummaries: db.prepare(
      `SELECT r.id AS run_id, s.version, s.body, s.created_at FROM run_summaries s JOIN runs r ON r.n = s.run_n
       WHERE s.athlete_id = ? AND r.athlete_id = s.athlete_id AND r.id IN (SELECT value FROM json_each(?)) ORDER BY s.run_n`,
    ),
    summariesSince: db.prepare(
      `SELECT r.id AS run_id, s.version, s.body, s.created_at FROM run_summaries s JOIN runs r ON r.n = s.run_n
       WHERE s.athlete_id = ? AND r.athlete_id = s.athlete_id AND s.created_at >= ? ORDER BY s.run_n`,
    ),
    summaryDigest: db.prepare(
      'SELECT COUNT(*) AS count, COALESCE(SUM(run_n), 0) AS run_sum, COALESCE(MAX(created_at), 0) AS last FROM run_summaries WHERE athlete_id = ?',
    ),
    summaryStamps: db.prepare(
      `SELECT r.id AS run_id, s.version, s.created_at FROM run_summaries s JOIN runs r ON r.n = s.run_n
       WHERE s.athlete_id = ? AND r.athlete_id = s.athlete_id ORDER BY s.run_n`,
    ),
    schemaVersion: db.prepare('SELECT MAX(version) FROM schema_migrations').pluck(),
  };
}

/** Runs the missing migrations under the write lock, so concurrent opens apply each exactly once. */
function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    db.exec(CREATE_MIGRATIONS_TABLE);
    const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const newest = Math.max(0, ...applied);
    if (newest > LATEST_VERSION) {
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `database schema version ${newest} is newer than this build knows (${LATEST_VERSION})`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of migrationsFor('sqlite')) {
      if (applied.has(migration.version)) continue;
      if (migration.sql !== '') db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }
  });
  try {
    apply.immediate();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError('STORE_MIGRATION_FAILED', `schema migration failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #s: ReturnType<typeof prepareAll>;
  /** Live batches go to the log first (sqlite-live-log.ts). */
  readonly #log: LiveLog;
  #closed = false;

  private constructor(db: Database.Database, limits: LiveLogLimits) {
    this.#db = db;
    this.#s = prepareAll(db);
    this.#log = new LiveLog(db, this.#s.insertChunk, limits);
  }

  /**
   * Opens (creating if needed) `<dataDir>/crampguard.sqlite`, brings its schema up to date and moves what a
   * previous connection left in the live log. `limits`: when live batches move out of the log (tests set small ones).
   */
  static open(config: Pick<StoreConfig, 'dataDir' | 'synchronous'> = {}, limits: LiveLogLimits = LIVE_LOG_LIMITS): SqliteStore {
    const dataDir = config.dataDir ?? './data';
    let db: Database.Database | undefined;
    try {
      mkdirSync(dataDir, { recursive: true });
      db = new Database(join(dataDir, SQLITE_FILE));
      // busy_timeout first: the WAL switch and migrations may wait for another process's lock.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_OPEN_MS}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      // From now on never wait long on the event loop: see #retryBusy.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const store = new SqliteStore(db, limits);
      store.#inLogTransaction(() => store.#log.moveAll());
      return store;
    } catch (error) {
      db?.close();
      throw toStoreError(error);
    }
  }

  /** Runs `work` synchronously (after catching up with other connections' commits), turning any failure into a coded StoreError. */
  #do<T>(work: () => T): Promise<T> {
    return this.#attempt(() => {
      if (this.#log.changedElsewhere()) this.#inLogTransaction(() => this.#log.moveAll());
      return work();
    });
  }

  #attempt<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError('STORE_UNAVAILABLE', 'store is closed'));
    try {
      return Promise.resolve(work());
    } catch (error) {
      if (isBusy(error)) return this.#retryBusy(work, error);
      return Promise.reject(toStoreError(error));
    }
  }

  /** Runs `work` again after short sleeps while the file stays locked, for up to BUSY_RETRY_MS. */
  async #retryBusy<T>(work: () => T, first: unknown): Promise<T> {
    const deadline = performance.now() + BUSY_RETRY_MS;
    let last = first;
    for (let delay = 2; performance.now() < deadline; delay = Math.min(delay * 2, 50)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#closed) throw new StoreError('STORE_UNAVAILABLE', 'store is closed');
      try {
        return work();
      } catch (error) {
        if (!isBusy(error)) throw toStoreError(error);
        last = error;
      }
    }
    throw new StoreError('STORE_UNAVAILABLE', 'storage unavailable: the database file is locked by another connection', { cause: last });
  }

  /**
   * `work` inside BEGIN IMMEDIATE … COMMIT (rolled back if it throws). Other connections' commits are caught up
   * with inside the lock, where none can slip in between.
   */
  #write<T>(work: () => T): Promise<T> {
    return this.#attempt(() =>
      this.#inLogTransaction(() => {
        if (this.#log.changedElsewhere()) this.#log.moveAll();
        return work();
      }),
    );
  }

  /** `work` in BEGIN IMMEDIATE … COMMIT, the live log told when it starts and when it rolls back. */
  #inLogTransaction<T>(work: () => T): T {
    this.#log.begin();
    try {
      return this.#db.transaction(work).immediate();
    } catch (error) {
      this.#log.rolledBack();
      throw error;
    }
  }

  ping(): Promise<void> {
    return this.#do(() => {
      this.#s.schemaVersion.get();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // Leaves the file whole for any reader; what stays (the file was locked) the next open moves.
      this.#inLogTransaction(() => this.#log.moveAll());
    } catch {
      // moved at the next open
    }
    this.#db.close();
  }

  schemaVersion(): Promise<number> {
    return this.#do(() => this.#s.schemaVersion.get() as number);
  }

  // Accounts ---------------------------------------------------------------------------------------------

  createAthlete(input: NewAthlete): Promise<{ athlete: Athlete; token: string }> {
    return this.#do(() => {
      if (typeof input.name !== 'string' || input.name.length === 0) {
        throw new StoreError('STORE_BAD_INPUT', 'an athlete needs a name');
      }
      const token = newToken();
      const athlete: Athlete = {
        id: randomUUID(),
        name: input.name,
        profile: input.profile ?? {},
        createdAt: iso(Date.now()),
      };
      this.#s.insertAthlete.run(
        athlete.id,
        athlete.name,
        JSON.stringify(athlete.profile),
        hashToken(token),
        Date.parse(athlete.createdAt),
      );
      return { athlete, token };
    });
  }

  authenticate(token: string): Promise<Athlete | null> {
    return this.#do(() => {
      if (!plausibleToken(token)) return null;
      return athleteForToken(this.#s.athleteByHash.get(hashToken(token)) as Row | undefined, token);
    });
  }

  getAthlete(athleteId: string): Promise<Athlete | null> {
    return this.#do(() => {
      const row = this.#s.athleteById.get(athleteId) as Row | undefined;
      return row ? toAthlete(row) : null;
    });
  }

  updateAthleteProfile(athleteId: string, profile: Profile): Promise<Athlete | null> {
    return this.#write(() => {
      if (this.#s.updateProfile.run(JSON.stringify(profile), athleteId).changes === 0) return null;
      return toAthlete(this.#s.athleteById.get(athleteId) as Row);
    });
  }

  // Runs -------------------------------------------------------------------------------------------------

  #getRun(athleteId: string, runId: string): RunRecord | null {
    const row = this.#log.withLogRows(this.#s.runById.get(runId, athleteId) as Row | undefined);
    return row ? toRunRecord(row) : null;
  }

  createUploadedRun(athleteId: string, input: NewUploadedRun): Promise<Created<RunRecord>> {
    return this.#write(() => {
      const sha = checkSha256(input.fileSha256);
      const cols = input.run.samples;
      checkUploadColumns(cols);
      const existing = this.#s.runByFile.get(athleteId, sha) as Row | undefined;
      if (existing) return { run: toRunRecord(existing), created: false };

      const now = Date.now();
      const inserted = this.#s.insertRun.get(uploadedRunRow(randomUUID(), athleteId, sha, input, uploadChunks(cols.length).length, now)) as { n: number };
      for (const row of uploadChunkRows(inserted.n, input)) this.#s.insertChunk.run(...row);
      for (const row of fileEventRows(inserted.n, input, now)) this.#s.insertEvent.run(...row);
      return { run: uploadedRunRecord(this.#s.runByFile.get(athleteId, sha) as Row, input), created: true };
    });
  }

  findRunByFileSha(athleteId: string, fileSha256: string): Promise<RunRecord | null> {
    return this.#do(() => {
      const row = this.#log.withLogRows(this.#s.runByFile.get(athleteId, fileSha256) as Row | undefined);
      return row ? toRunRecord(row) : null;
    });
  }

  startLiveRun(athleteId: string, input: NewLiveRun): Promise<Created<RunRecord>> {
    return this.#write(() => {
      const clientRunId = checkKey('clientRunId', input.clientRunId);
      const existing = this.#log.withLogRows(this.#s.runByClientId.get(athleteId, clientRunId) as Row | undefined);
      if (existing) return { run: toRunRecord(existing), created: false };
      this.#s.insertRun.get(liveRunRow(randomUUID(), athleteId, clientRunId, input, Date.now()));
      return { run: toRunRecord(this.#s.runByClientId.get(athleteId, clientRunId) as Row), created: true };
    });
  }

  endLiveRun(athleteId: string, runId: string, input: EndLiveRun): Promise<RunRecord | null> {
    return this.#write(() => {
      const changed = this.#s.endRun.run({
        id: runId,
        athleteId,
        now: Date.now(),
        report: JSON.stringify(input.report),
        meta: input.meta ? JSON.stringify(input.meta) : null,
        ...reportColumns(input.report),
        startTime: input.meta?.startTime ?? input.report.startTime ?? null,
        startMs: startMsOf(input.meta?.startTime ?? input.report.startTime),
      }).changes;
      if (changed === 0) return null;
      this.#log.forget(runId);
      return this.#getRun(athleteId, runId);
    });
  }

  setReport(athleteId: string, runId: string, report: Report): Promise<boolean> {
    return this.#write(
      () =>
        this.#s.setReport.run({
          id: runId,
          athleteId,
          report: JSON.stringify(report),
          ...reportColumns(report),
        }).changes > 0,
    );
  }

  getRun(athleteId: string, runId: string): Promise<RunRecord | null> {
    return this.#do(() => this.#getRun(athleteId, runId));
  }

  listRuns(athleteId: string, options: ListRunsOptions = {}): Promise<Page<RunSummary>> {
    return this.#do(() => {
      const limit = pageLimit(options.limit);
      const status = options.status ?? null;
      const [sortMs, n] = decodeRunCursor(options.before);
      const rows = (this.#s.listRuns.all({ athleteId, sortMs, n, status, limit: limit + 1 }) as Row[]).map((row) => this.#log.withLogRows(row));
      this.#fillHighlights(rows.slice(0, limit).filter(needsHighlights));
      return toPage(rows, limit, toRunSummary, runCursor);
    });
  }

  findRunsStartingNear(athleteId: string, startTime: string, toleranceMs: number): Promise<RunCandidate[]> {
    return this.#do(() => {
      const ms = startMsOf(startTime);
      if (ms === null) return [];
      const rows = (this.#s.runsStartingNear.all(athleteId, ms - toleranceMs, ms + toleranceMs) as Row[]).map((row) => this.#log.withLogRows(row));
      return rows.map((row) => ({ ...toRunSummary(row), meta: json<RunMeta>(row.meta) }));
    });
  }

  /**
   * Rows stored before migration 3: computes their highlights from the report (one at a time: each may be
   * megabytes) and writes them back, so this happens once per run. The write is best effort: when another
   * process holds the write lock (or the disk is full) the list is still answered, and a later one retries.
   */
  #fillHighlights(rows: Row[]): void {
    if (rows.length === 0) return;
    for (const row of rows) {
      const { prompts, peakRisk, sport, paceSPerKm } = reportHighlights(json<Report>(this.#s.runReport.get(row.n)));
      row.prompts = prompts;
      row.peak_risk = peakRisk;
      row.sport = sport;
      row.pace_s_per_km = paceSPerKm;
    }
    try {
      this.#db
        .transaction(() => {
          for (const row of rows) this.#s.fillHighlights.run(row.prompts, row.peak_risk, row.sport, row.pace_s_per_km, row.n);
        })
        .immediate();
    } catch {
      // Left NULL: the next list computes them again.
    }
  }

  deleteRun(athleteId: string, runId: string): Promise<boolean> {
    return this.#write(() => {
      if (this.#s.deleteRun.run(runId, athleteId).changes === 0) return false;
      this.#log.drop(runId); // its log rows went with it
      return true;
    });
  }

  // Samples ----------------------------------------------------------------------------------------------

  /**
   * One group commit: each new batch is appended to the live log (sqlite-live-log.ts), whose memory of each run
   * answers duplicates and the contiguous seq without a lookup.
   */
  appendSampleBatches(batches: readonly SampleBatch[]): Promise<SampleBatchResult[]> {
    if (batches.length === 0) return Promise.resolve([]);
    return this.#write(() => this.#log.append(batches));
  }

  readSamples(athleteId: string, runId: string, options: ReadSamplesOptions = {}): Promise<SampleColumns | null> {
    return this.#do(() => {
      const n = this.#s.runN.get(runId, athleteId) as number | undefined;
      if (n === undefined) return null;
      const pending = this.#log.pending(runId);
      if (pending) this.#inLogTransaction(() => this.#log.move(pending));
      let through = options.throughSeq ?? Number.MAX_SAFE_INTEGER;
      if (options.contiguousOnly) through = Math.min(through, this.#s.contiguousOf.get(n) as number);
      const blobs = this.#s.readChunks.all(n, options.afterSeq ?? 0, through) as Buffer[];
      return decodeChunks(blobs);
    });
  }

  // Events -----------------------------------------------------------------------------------------------

  appendEvents(athleteId: string, runId: string, events: readonly NewRunEvent[]): Promise<number | null> {
    return this.#write(() => {
      checkEvents(events);
      const n = this.#s.runN.get(runId, athleteId) as number | undefined;
      if (n === undefined) return null;
      const now = Date.now();
      let added = 0;
      for (const { key, event } of events) {
        added += this.#s.insertEvent.run(n, key, event.t, event.type, JSON.stringify(event), now).changes;
      }
      return added;
    });
  }

  listEvents(athleteId: string, runId: string): Promise<StoredRunEvent[] | null> {
    return this.#do(() => {
      const n = this.#s.runN.get(runId, athleteId) as number | undefined;
      if (n === undefined) return null;
      return (this.#s.listEvents.all(n) as Row[]).map((row) => ({
        key: row.key as string,
        event: json(row.body)!,
        createdAt: iso(row.created_at),
      }));
    });
  }

  // Alert log --------------------------------------------------------------------------------------------

  appendAlerts(athleteId: string, runId: string, alerts: readonly Alert[]): Promise<StoredAlert[] | null> {
    return this.#write(() => {
      checkAlerts(alerts);
      const run = this.#s.runAlertState.get(runId, athleteId) as Row | undefined;
      if (!run) return null;
      const n = run.n as number;
      let count = run.alert_count as number;
      const added: StoredAlert[] = [];
      const now = Date.now();
      for (const alert of alerts) {
        if (this.#s.alertExists.get(n, alert.id)) continue;
        count++;
        this.#s.insertAlert.run(n, alert.id, count, JSON.stringify(alert), now);
        added.push({ pos: count, alert, createdAt: iso(now), delivered: false });
      }
      if (added.length > 0) this.#s.setAlertCount.run(count, n);
      return added;
    });
  }

  listAlerts(athleteId: string, runId: string, options: ListAlertsOptions = {}): Promise<StoredAlert[] | null> {
    return this.#do(() => {
      const run = this.#s.runAlertState.get(runId, athleteId) as Row | undefined;
      if (!run) return null;
      const delivered = run.alerts_delivered_through as number;
      const after = Math.max(options.afterPos ?? 0, options.undeliveredOnly ? delivered : 0);
      return (this.#s.listAlerts.all(run.n, after) as Row[]).map((row) => toStoredAlert(row, delivered));
    });
  }

  markAlertsDelivered(athleteId: string, runId: string, pos: number): Promise<boolean> {
    return this.#write(() => {
      if (!Number.isSafeInteger(pos) || pos < 0) throw new StoreError('STORE_BAD_INPUT', 'pos must be a non-negative integer');
      return this.#s.markDelivered.run(pos, runId, athleteId).changes > 0;
    });
  }

  // Engine checkpoints -----------------------------------------------------------------------------------

  saveCheckpoint(athleteId: string, runId: string, seq: number, snapshot: EngineSnapshot): Promise<boolean> {
    return this.#write(() => {
      checkCheckpointSeq(seq);
      const n = this.#s.runN.get(runId, athleteId) as number | undefined;
      if (n === undefined) return false;
      this.#s.saveCheckpoint.run(n, seq, JSON.stringify(snapshot), Date.now());
      return true;
    });
  }

  getCheckpoint(athleteId: string, runId: string): Promise<Checkpoint | null> {
    return this.#do(() => {
      const row = this.#s.getCheckpoint.get(runId, athleteId) as Row | undefined;
      return row ? { seq: row.seq as number, snapshot: json(row.snapshot)!, createdAt: iso(row.created_at) } : null;
    });
  }

  // Cramp journal ----------------------------------------------------------------------------------------

  addJournalEntry(athleteId: string, input: NewJournalEntry): Promise<JournalEntry | null> {
    return this.#write(() => {
      checkJournalInput(input);
      const runId = input.runId ?? null;
      if (runId !== null && this.#s.runN.get(runId, athleteId) === undefined) return null;
      const id = input.id ?? randomUUID();
      this.#s.insertJournal.run(
        id,
        athleteId,
        runId,
        input.t ?? null,
        input.muscle,
        input.severity,
        input.note ?? '',
        JSON.stringify(input.context ?? {}),
        Date.now(),
      );
      return toJournalEntry(this.#s.journalById.get(athleteId, id) as Row);
    });
  }

  listJournal(athleteId: string, options: { limit?: number; before?: string } = {}): Promise<Page<JournalEntry>> {
    return this.#do(() => {
      const limit = pageLimit(options.limit);
      const rows = this.#s.listJournal.all(athleteId, decodeCursor(options.before), limit + 1) as Row[];
      return toPage(rows, limit, toJournalEntry, (row) => row.n);
    });
  }

  getJournalEntry(athleteId: string, id: string): Promise<JournalEntry | null> {
    return this.#do(() => {
      const row = this.#s.journalById.get(athleteId, id) as Row | undefined;
      return row ? toJournalEntry(row) : null;
    });
  }

  deleteJournalEntry(athleteId: string, id: string): Promise<boolean> {
    return this.#write(() => this.#s.deleteJournal.run(athleteId, id).changes > 0);
  }

  // Athlete model ----------------------------------------------------------------------------------------

  saveRunSummary(athleteId: string, runId: string, summary: RunSummaryRow): Promise<boolean> {
    return this.#write(() => {
      const version = checkRunSummary(summary);
      const n = this.#s.runN.get(runId, athleteId) as number | undefined;
      if (n === undefined) return false;
      this.#s.saveSummary.run({ n, athleteId, version, body: JSON.stringify(summary), now: Date.now() });
      return true;
    });
  }

  listRunSummaries(athleteId: string, options: { runIds?: readonly string[]; savedSinceMs?: number } = {}): Promise<StoredRunSummary[]> {
    return this.#do(() => {
      const rows = options.runIds
        ? (this.#s.listSomeSummaries.all(athleteId, JSON.stringify(options.runIds)) as Row[])
        : options.savedSinceMs !== undefined
          ? (this.#s.summariesSince.all(athleteId, options.savedSinceMs) as Row[])
          : (this.#s.listSummaries.all(athleteId) as Row[]);
      return rows.map(toStoredRunSummary);
    });
  }

  runSummaryDigest(athleteId: string): Promise<{ count: number; runSum: number; lastSavedMs: number }> {
    return this.#do(() => toRunSummaryDigest(this.#s.summaryDigest.get(athleteId) as Row));
  }

  listRunSummaryStamps(athleteId: string): Promise<Array<Omit<StoredRunSummary, 'summary'>>> {
    return this.#do(() => (this.#s.summaryStamps.all(athleteId) as Row[]).map(toRunSummaryStamp));
  }
}
