/**
 * The storage contract: one async interface, implemented by SQLite (embedded, the default, `sqlite.ts`) and
 * PostgreSQL (`postgres.ts`, when DATABASE_URL is set). Both pass the same contract suite
 * (`tests/store/store.case.ts`). Open a store with `openStore(config)` from `src/store/index.ts`.
 *
 * Rules every method follows:
 * - **Scoping.** Every run, event, alert, checkpoint and journal method takes the caller's `athleteId` and
 *   filters by it. A run that belongs to another athlete behaves exactly like a missing one (`null`, `false`,
 *   status `not_found`): nothing is revealed, nothing is changed.
 * - **Idempotency.** Writes that may be retried carry a natural key (file sha-256, client run id, sample seq,
 *   event key, alert id, journal id). Repeating a write with the same key changes nothing and returns what
 *   the first write produced.
 * - **Errors.** Bad arguments and backend failures surface as {@link StoreError} with a stable `code`; the
 *   server maps `STORE_UNAVAILABLE` → 503, `STORE_FULL` → 507, `STORE_BAD_INPUT` → 400,
 *   `STORE_CONFLICT` → 409. Only a failure of the database itself is STORE_UNAVAILABLE: a value it refuses (a data
 *   exception) or a constraint it enforces is the caller's problem and is never retried.
 * - **Times.** `createdAt`/`endedAt` are ISO 8601 UTC strings set by the store. `t` values are seconds since
 *   the run's first record, as everywhere else (ingest/sample.ts).
 * @module
 */
import type { NormalizedRun, RunEvent, RunMeta, SampleColumns } from '../../ingest/sample.js';
import type { Alert, EngineOptions, EngineSnapshot, Profile, Report } from '../../alerts/types.js';
import type { RunSummary as RunSummaryRow } from '../athlete/summary.js';
import type { EncodedChunk } from './codec.js';

// ---------------------------------------------------------------------------------------------------------
// Errors

export type StoreErrorCode =
  /** The database cannot be reached or failed unexpectedly (server: 503). */
  | 'STORE_UNAVAILABLE'
  /** Disk or quota full: SQLITE_FULL, PostgreSQL 53100 (server: 507). */
  | 'STORE_FULL'
  /** An argument the store cannot accept (wrong column lengths, non-integer seq, …) (server: 400). */
  | 'STORE_BAD_INPUT'
  /** The write conflicts with what is stored (a unique or check constraint: PostgreSQL class 23) (server: 409). */
  | 'STORE_CONFLICT'
  /** Schema migrations failed or the database has a newer schema than this code knows. */
  | 'STORE_MIGRATION_FAILED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toJSON(): { code: StoreErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Configuration

export interface StoreConfig {
  /** Directory for the SQLite file (`crampguard.sqlite`), created if missing. @default "./data" */
  dataDir?: string;
  /** When set (postgres://…), PostgreSQL is used instead of SQLite. */
  databaseUrl?: string;
  /**
   * PostgreSQL only: schema to create (if missing) and use as search_path on every pooled connection.
   * Tests use a fresh random schema per run. @default the server's default search_path
   */
  schema?: string;
  /** PostgreSQL only: pool size. @default 10 */
  poolSize?: number;
  /**
   * SQLite only. `normal` (WAL + synchronous=NORMAL): a commit survives a crash of the process, but the last
   * commits before an OS crash or power loss may be lost; one fsync per WAL checkpoint instead of per commit.
   * `full`: every commit is fsynced, so "acked ⇒ stored" also holds across power loss. @default "normal"
   */
  synchronous?: 'normal' | 'full';
}

// ---------------------------------------------------------------------------------------------------------
// Records

export interface Athlete {
  id: string;
  name: string;
  profile: Profile;
  createdAt: string;
}

export interface NewAthlete {
  /** 1–200 characters (the server validates with zod; the store only refuses an empty name). */
  name: string;
  profile?: Profile;
}

export type RunSource = 'upload' | 'live';
/** Uploaded runs are `ended` from the start; live runs go `live` → `ended`. */
export type RunStatus = 'live' | 'ended';

/** What `listRuns` returns per run: no large JSON. */
export interface RunSummary {
  id: string;
  athleteId: string;
  source: RunSource;
  status: RunStatus;
  name: string | null;
  /** Start of the run (ISO 8601 UTC) when known: the FIT file's, or the live run's start. */
  startTime: string | null;
  createdAt: string;
  endedAt: string | null;
  /** Samples stored (all chunks, contiguous or not). */
  sampleCount: number;
  /** From the report when there is one. */
  durationS: number | null;
  distanceM: number | null;
  /** Prompts in the report (`reportHighlights`, src/store/highlights.ts); null without a report. */
  prompts: number | null;
  /** Highest cramp-risk score in the report; null without a report or risk points. */
  peakRisk: number | null;
  /** The report's sport; null without a report or when the file does not say. */
  sport: string | null;
  /** Average pace over the moving time, s/km (src/store/highlights.ts); null without a report or distance. */
  paceSPerKm: number | null;
  /**
   * A live run that started at the same instant as one of the athlete's stored runs is a replay of it (the CLI's
   * `replay`, the dashboard's simulator): that run's id. `listRuns` leaves replays out unless asked by status.
   */
  replayOf: string | null;
}

export interface RunRecord extends RunSummary {
  /** sha-256 (hex, lower case) of the uploaded file; null for live runs. */
  fileSha256: string | null;
  /** The id the watch chose for a live run; null for uploads. */
  clientRunId: string | null;
  /** Engine options the run was analysed with (profile, conditions, session kind). */
  options: EngineOptions | null;
  meta: RunMeta | null;
  report: Report | null;
  /**
   * Highest n such that sample batches 1..n are all stored (0 = none). The server acks up to this and a
   * reconnecting watch resends from n + 1.
   */
  contiguousSeq: number;
  /** Alert-log position up to which alerts were delivered to the watch (0 = none); see `markAlertsDelivered`. */
  alertsDeliveredThrough: number;
}

/** A run's summary with its file's meta (device, start, laps), without the report: a same-activity candidate. */
export interface RunCandidate extends RunSummary {
  meta: RunMeta | null;
}

export interface NewUploadedRun {
  /** sha-256 of the file's bytes, hex. Idempotency key per athlete. */
  fileSha256: string;
  run: NormalizedRun;
  /**
   * The run's samples already encoded, one chunk per `uploadChunks` range (the upload worker encodes them off the
   * event loop: ~10 ms for 100,000 records); without them the store encodes `run.samples`.
   */
  chunks?: readonly EncodedChunk[];
  report: Report;
  options?: EngineOptions;
  name?: string;
}

export interface NewLiveRun {
  /** Chosen by the watch (1–128 chars). Idempotency key per athlete. */
  clientRunId: string;
  options?: EngineOptions;
  name?: string;
  /** ISO 8601 UTC. */
  startTime?: string;
}

export interface EndLiveRun {
  report: Report;
  meta?: RunMeta;
}

/** Result of an idempotent create: `created` is false when the key already existed (the old run is returned). */
export interface Created<T> {
  run: T;
  created: boolean;
}

export interface Page<T> {
  items: T[];
  /** Pass as `before` for the next (older) page; null when there is none. Opaque. */
  nextCursor: string | null;
}

export interface ListRunsOptions {
  /** 1–200. @default 20 */
  limit?: number;
  /** A `nextCursor` from a previous page. */
  before?: string;
  /** Only runs in this state (e.g. `live` to list open live sessions). */
  status?: RunStatus;
}

// ---------------------------------------------------------------------------------------------------------
// Samples: batches with a per-run sequence number, group-committed

/**
 * One batch of a live run's samples. `seq` is a positive integer chosen by the watch, consecutive per run
 * starting at 1. Storing a seq that is already stored changes nothing (the first batch wins).
 */
export interface SampleBatch {
  athleteId: string;
  runId: string;
  seq: number;
  /**
   * 1 to 65 536 rows, in increasing `t`. NaN = missing, preserved exactly. The live path hands them over encoded
   * (src/store/codec.ts `encodeChunkOf`), so the transaction only writes them.
   */
  samples: SampleColumns | EncodedChunk;
}

export type SampleBatchStatus =
  /** Newly stored. */
  | 'stored'
  /** That (run, seq) was already stored: nothing changed. */
  | 'duplicate'
  /** No such run for this athlete. */
  | 'not_found'
  /** The run has ended; a new seq is refused (a duplicate of a stored seq still answers `duplicate`). */
  | 'not_live'
  /** seq not a positive safe integer, or the columns are empty / of unequal lengths / too long. */
  | 'invalid';

export interface SampleBatchResult {
  runId: string;
  seq: number;
  status: SampleBatchStatus;
  /** The run's highest contiguous seq after the whole call committed (0 for unknown runs). */
  contiguousSeq: number;
}

export interface ReadSamplesOptions {
  /** Only batches with seq > afterSeq (e.g. the seq a checkpoint covers). @default 0 */
  afterSeq?: number;
  /** Only batches with seq <= throughSeq. @default all */
  throughSeq?: number;
  /** Only batches up to the run's contiguous seq (what was acked). @default false */
  contiguousOnly?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Events, alerts, checkpoints, journal

export interface NewRunEvent {
  /**
   * Idempotency key per run, 1–128 chars: the watch's event id, or e.g. `seq:<n>`. Uploaded files' events
   * are stored under `file:<index>`.
   */
  key: string;
  event: RunEvent;
}

export interface StoredRunEvent {
  key: string;
  event: RunEvent;
  createdAt: string;
}

export interface StoredAlert {
  /** Position in the run's alert log: 1, 2, 3, … in the order first stored. */
  pos: number;
  alert: Alert;
  createdAt: string;
  /** pos <= the run's `alertsDeliveredThrough`. */
  delivered: boolean;
}

export interface ListAlertsOptions {
  /** Only alerts with pos > afterPos. @default 0 */
  afterPos?: number;
  /** Only alerts not yet marked delivered. @default false */
  undeliveredOnly?: boolean;
}

export interface Checkpoint {
  /** The highest sample seq whose samples the snapshot has consumed. */
  seq: number;
  snapshot: EngineSnapshot;
  createdAt: string;
}

export interface NewJournalEntry {
  /** Client-chosen id (1–128 chars) for idempotent retries; generated when absent. */
  id?: string;
  /** Must be one of the athlete's runs; a missing or foreign run makes `addJournalEntry` return null. */
  runId?: string | null;
  /** Seconds into the run when the cramp came. */
  t?: number | null;
  muscle: string;
  /** 1 (twinge) to 5 (had to stop); the server validates the range. */
  severity: number;
  note?: string;
  /** Any JSON the engine or client recorded around the cramp (see alerts/types.ts CrampContext). */
  context?: Record<string, unknown>;
}

export interface JournalEntry {
  id: string;
  athleteId: string;
  /** Becomes null if the run is deleted: the journal outlives runs. */
  runId: string | null;
  t: number | null;
  muscle: string;
  severity: number;
  note: string;
  context: Record<string, unknown>;
  createdAt: string;
}

/** A run's summary row for the athlete model (src/athlete/summary.ts), as stored. */
export interface StoredRunSummary {
  runId: string;
  /** The summary's own version (`SUMMARY_VERSION` when it was computed). */
  version: number;
  summary: RunSummaryRow;
  /**
   * When the row was stored, epoch ms: each save of one of the athlete's rows gets a later time than every row of
   * theirs before (at least 1 ms later), so with `version` it is what a cache checks.
   */
  savedAtMs: number;
}

// ---------------------------------------------------------------------------------------------------------
// The store

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Cheap round trip to the database; rejects with STORE_UNAVAILABLE when it is down. For readiness probes. */
  ping(): Promise<void>;
  /** Closes connections. Further calls reject. Idempotent. */
  close(): Promise<void>;
  /** The schema version migrations brought the database to (see migrations.ts). */
  schemaVersion(): Promise<number>;

  // Accounts ---------------------------------------------------------------------------------------------
  /**
   * Creates an athlete and a fresh random bearer token (32 random bytes, base64url, prefixed `cg_`). Only
   * its sha-256 is stored: the token is returned here once and never again.
   */
  createAthlete(input: NewAthlete): Promise<{ athlete: Athlete; token: string }>;
  /** The athlete a bearer token belongs to, or null. Looks up by the token's sha-256. */
  authenticate(token: string): Promise<Athlete | null>;
  getAthlete(athleteId: string): Promise<Athlete | null>;
  /** Replaces the profile; null when the athlete does not exist. */
  updateAthleteProfile(athleteId: string, profile: Profile): Promise<Athlete | null>;

  // Runs -------------------------------------------------------------------------------------------------
  /**
   * Stores an analysed upload in one transaction: run row, report, samples (chunks of 4096 rows, seq 1..k),
   * events. Idempotent on (athlete, fileSha256): the same bytes again return the first run, `created: false`.
   */
  createUploadedRun(athleteId: string, input: NewUploadedRun): Promise<Created<RunRecord>>;
  /** The athlete's run stored from that file, or null. Lets the server skip re-analysing a repeat upload. */
  findRunByFileSha(athleteId: string, fileSha256: string): Promise<RunRecord | null>;
  /** Opens a live run (status `live`). Idempotent on (athlete, clientRunId). */
  startLiveRun(athleteId: string, input: NewLiveRun): Promise<Created<RunRecord>>;
  /**
   * Moves a live run to `ended` and stores its report (a second call replaces the report, keeps the first
   * `endedAt`). Null for a missing/foreign run. Ending an uploaded run just replaces its report.
   */
  endLiveRun(athleteId: string, runId: string, input: EndLiveRun): Promise<RunRecord | null>;
  /** Replaces the stored report (e.g. re-analysis with a new profile). False for a missing/foreign run. */
  setReport(athleteId: string, runId: string, report: Report): Promise<boolean>;
  getRun(athleteId: string, runId: string): Promise<RunRecord | null>;
  /**
   * Newest first by the run's own start (its creation time when the start is unknown), keyset-paged. Without a
   * `status`, replays (`replayOf`) are left out: they repeat a run already listed.
   */
  listRuns(athleteId: string, options?: ListRunsOptions): Promise<Page<RunSummary>>;
  /**
   * The athlete's runs (replays included, oldest first) whose start lies within `toleranceMs` of `startTime`:
   * the candidates for "the same activity uploaded again" (src/server/duplicates.ts decides). At most 20.
   */
  findRunsStartingNear(athleteId: string, startTime: string, toleranceMs: number): Promise<RunCandidate[]>;
  /** Deletes the run with its samples, events, alerts and checkpoint. False for a missing/foreign run. */
  deleteRun(athleteId: string, runId: string): Promise<boolean>;

  // Samples ----------------------------------------------------------------------------------------------
  /**
   * Group commit: stores many runs' batches in ONE transaction and resolves only after it committed, so a
   * sample acked after this resolves is durable ("acked ⇒ stored"). Results are in input order. One bad batch
   * does not fail the others (it gets status `invalid` / `not_found`); only a database failure rejects.
   */
  appendSampleBatches(batches: readonly SampleBatch[]): Promise<SampleBatchResult[]>;
  /**
   * A run's samples in seq order (then row order within a batch) as columns. Null for a missing/foreign run;
   * a run with no samples gives `length: 0`.
   */
  readSamples(athleteId: string, runId: string, options?: ReadSamplesOptions): Promise<SampleColumns | null>;

  // Events -----------------------------------------------------------------------------------------------
  /** Stores events idempotently per (run, key). Returns how many were new; null for a missing/foreign run. */
  appendEvents(athleteId: string, runId: string, events: readonly NewRunEvent[]): Promise<number | null>;
  /** Ordered by t, then by first storage. Null for a missing/foreign run. */
  listEvents(athleteId: string, runId: string): Promise<StoredRunEvent[] | null>;

  // Alert log --------------------------------------------------------------------------------------------
  /**
   * Appends alerts to the run's log, idempotent per (run, alert.id): a known id keeps its first pos and
   * content. Returns the alerts that were new (with their pos); null for a missing/foreign run.
   */
  appendAlerts(athleteId: string, runId: string, alerts: readonly Alert[]): Promise<StoredAlert[] | null>;
  /** In pos order. Null for a missing/foreign run. */
  listAlerts(athleteId: string, runId: string, options?: ListAlertsOptions): Promise<StoredAlert[] | null>;
  /** Advances the run's delivered marker to `pos` (never moves it back). False for a missing/foreign run. */
  markAlertsDelivered(athleteId: string, runId: string, pos: number): Promise<boolean>;

  // Engine checkpoints -----------------------------------------------------------------------------------
  /**
   * Keeps the latest checkpoint per run: replaced only by one with seq >= the stored seq (an older one is
   * ignored). False for a missing/foreign run.
   */
  saveCheckpoint(athleteId: string, runId: string, seq: number, snapshot: EngineSnapshot): Promise<boolean>;
  getCheckpoint(athleteId: string, runId: string): Promise<Checkpoint | null>;

  // Cramp journal ----------------------------------------------------------------------------------------
  /** Idempotent on (athlete, id) when an id is given. Null when `runId` is not one of the athlete's runs. */
  addJournalEntry(athleteId: string, input: NewJournalEntry): Promise<JournalEntry | null>;
  /** Newest first, keyset-paged like `listRuns`. */
  listJournal(athleteId: string, options?: { limit?: number; before?: string }): Promise<Page<JournalEntry>>;
  getJournalEntry(athleteId: string, id: string): Promise<JournalEntry | null>;
  deleteJournalEntry(athleteId: string, id: string): Promise<boolean>;

  // Athlete model ----------------------------------------------------------------------------------------
  /**
   * Stores (or replaces) the run's summary row for the athlete model. False for a missing/foreign run. The row
   * goes when the run is deleted.
   */
  saveRunSummary(athleteId: string, runId: string, summary: RunSummaryRow): Promise<boolean>;
  /**
   * The athlete's summary rows in run creation order: all, only those of `runIds`, or only those stored at or
   * after `savedSinceMs`.
   */
  listRunSummaries(athleteId: string, options?: { runIds?: readonly string[]; savedSinceMs?: number }): Promise<StoredRunSummary[]>;
  /**
   * One row that changes whenever a summary row is added, replaced or deleted: how many rows, the highest run
   * counter sum, the latest time stored. What a cache of parsed rows checks first (no row is read).
   */
  runSummaryDigest(athleteId: string): Promise<{ count: number; runSum: number; lastSavedMs: number }>;
  /** The same rows without their bodies (cheap): what a cache of parsed rows compares against. */
  listRunSummaryStamps(athleteId: string): Promise<Array<Omit<StoredRunSummary, 'summary'>>>;
}

/** Rows per stored chunk for uploaded runs. */
export const UPLOAD_CHUNK_ROWS = 4096;
/** Most rows accepted in one live sample batch. */
export const MAX_BATCH_ROWS = 65_536;
