/**
 * The schema, as numbered migrations shared by both dialects. Each migration is written once with a few
 * type placeholders that {@link migrationSql} fills per dialect, so SQLite and PostgreSQL cannot drift apart.
 * Append new migrations at the end; never edit one that has shipped. Applied versions are recorded in
 * `schema_migrations`; each backend runs the missing ones at open, under a lock (SQLite: BEGIN IMMEDIATE;
 * PostgreSQL: an advisory lock), so concurrent opens from several processes apply each exactly once.
 *
 * Storage layout notes:
 * - Runs have an internal integer `n` (creation order) used for paging and as the compact foreign key of the
 *   big child tables; the public id is a random UUID.
 * - Samples are stored as chunks: one row per (run, seq) holding a columnar blob (see codec.ts), never a row
 *   per sample.
 * - Times set by the store are epoch milliseconds (bigint); JSON is TEXT in SQLite and jsonb in PostgreSQL.
 * @module
 */

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** A step only one backend needs; the other records the version with nothing to run. */
  only?: Dialect;
}

const TYPES: Record<Dialect, Record<string, string>> = {
  sqlite: {
    serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    bigint: 'INTEGER',
    real: 'REAL',
    json: 'TEXT',
    blob: 'BLOB',
    // Epoch ms of runs.start_time (ISO 8601 UTC, as the stores write it).
    startTimeMs: 'CAST(ROUND((julianday(start_time) - 2440587.5) * 86400000.0) AS INTEGER)',
  },
  postgres: {
    serial: 'BIGSERIAL PRIMARY KEY',
    bigint: 'BIGINT',
    real: 'DOUBLE PRECISION',
    json: 'JSONB',
    blob: 'BYTEA',
    startTimeMs: 'CAST(ROUND(EXTRACT(EPOCH FROM CAST(start_time AS timestamptz)) * 1000) AS BIGINT)',
  },
};

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'athletes, runs, sample chunks, events, alerts, checkpoints, journal',
    sql: `
CREATE TABLE athletes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  profile {json} NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at {bigint} NOT NULL
);

CREATE TABLE runs (
  n {serial},
  id TEXT NOT NULL UNIQUE,
  athlete_id TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
  source TEXT NOT NULL CHECK (source IN ('upload', 'live')),
  status TEXT NOT NULL CHECK (status IN ('live', 'ended')),
  file_sha256 TEXT,
  client_run_id TEXT,
  name TEXT,
  start_time TEXT,
  created_at {bigint} NOT NULL,
  ended_at {bigint},
  options {json},
  meta {json},
  report {json},
  duration_s {real},
  distance_m {real},
  sample_count {bigint} NOT NULL DEFAULT 0,
  contiguous_seq {bigint} NOT NULL DEFAULT 0,
  alert_count {bigint} NOT NULL DEFAULT 0,
  alerts_delivered_through {bigint} NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX runs_by_file ON runs (athlete_id, file_sha256) WHERE file_sha256 IS NOT NULL;
CREATE UNIQUE INDEX runs_by_client_id ON runs (athlete_id, client_run_id) WHERE client_run_id IS NOT NULL;
CREATE INDEX runs_by_athlete ON runs (athlete_id, n);

CREATE TABLE sample_chunks (
  run_n {bigint} NOT NULL REFERENCES runs(n) ON DELETE CASCADE,
  seq {bigint} NOT NULL,
  t0 {real},
  rows INTEGER NOT NULL,
  data {blob} NOT NULL,
  PRIMARY KEY (run_n, seq)
);

CREATE TABLE run_events (
  n {serial},
  run_n {bigint} NOT NULL REFERENCES runs(n) ON DELETE CASCADE,
  key TEXT NOT NULL,
  t {real} NOT NULL,
  type TEXT NOT NULL,
  body {json} NOT NULL,
  created_at {bigint} NOT NULL,
  UNIQUE (run_n, key)
);

CREATE TABLE run_alerts (
  run_n {bigint} NOT NULL REFERENCES runs(n) ON DELETE CASCADE,
  alert_id TEXT NOT NULL,
  pos {bigint} NOT NULL,
  body {json} NOT NULL,
  created_at {bigint} NOT NULL,
  PRIMARY KEY (run_n, alert_id),
  UNIQUE (run_n, pos)
);

CREATE TABLE run_checkpoints (
  run_n {bigint} PRIMARY KEY REFERENCES runs(n) ON DELETE CASCADE,
  seq {bigint} NOT NULL,
  snapshot {json} NOT NULL,
  created_at {bigint} NOT NULL
);

CREATE TABLE journal (
  n {serial},
  id TEXT NOT NULL,
  athlete_id TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
  run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
  t {real},
  muscle TEXT NOT NULL,
  severity {real} NOT NULL,
  note TEXT NOT NULL,
  context {json} NOT NULL,
  created_at {bigint} NOT NULL,
  UNIQUE (athlete_id, id)
);
CREATE INDEX journal_by_athlete ON journal (athlete_id, n);
CREATE INDEX journal_by_run ON journal (run_id);
`,
  },
  {
    version: 2,
    name: 'runs.max_seq: highest stored sample seq, so an in-order group commit needs no scan',
    sql: `
ALTER TABLE runs ADD COLUMN max_seq {bigint} NOT NULL DEFAULT 0;
UPDATE runs SET max_seq = COALESCE((SELECT MAX(seq) FROM sample_chunks WHERE sample_chunks.run_n = runs.n), 0);
`,
  },
  {
    version: 3,
    name: "runs.prompts, runs.peak_risk: the report's highlights, so listing runs reads no report",
    // Nullable columns without a default: a schema-only change in both dialects, instant however many runs.
    // Rows stored before have NULL here with a report; the store fills them from the report the first time
    // it lists them (shared.ts `needsHighlights`), since decoding every report here would hold the startup.
    sql: `
ALTER TABLE runs ADD COLUMN prompts {bigint};
ALTER TABLE runs ADD COLUMN peak_risk {real};
`,
  },
  {
    version: 4,
    name: "runs.start_ms, sort_ms, replay_of, sport, pace_s_per_km: the list by each run's own start with sport and pace, same-activity lookups, replays off the list",
    // start_ms: the run's start (epoch ms) when known; sort_ms: start_ms, else the creation time (the list's order);
    // replay_of: for a live run that started at the same instant as a stored run (a replay of it, from the CLI or
    // the simulator), that run's id: the list leaves it out. sport and pace_s_per_km are report highlights like
    // prompts: clearing prompts makes the store fill all of them from the report the first time a list shows the
    // row (shared.ts `needsHighlights`), instead of decoding every report here.
    sql: `
ALTER TABLE runs ADD COLUMN sport TEXT;
ALTER TABLE runs ADD COLUMN pace_s_per_km {real};
UPDATE runs SET prompts = NULL WHERE report IS NOT NULL;
ALTER TABLE runs ADD COLUMN start_ms {bigint};
ALTER TABLE runs ADD COLUMN sort_ms {bigint};
ALTER TABLE runs ADD COLUMN replay_of TEXT;
UPDATE runs SET start_ms = {startTimeMs} WHERE start_time IS NOT NULL;
UPDATE runs SET sort_ms = COALESCE(start_ms, created_at);
CREATE INDEX runs_by_start ON runs (athlete_id, start_ms);
CREATE INDEX runs_by_sort ON runs (athlete_id, sort_ms, n);
`,
  },
  {
    version: 5,
    name: 'run_summaries: one small row per run for the athlete model (src/athlete/), gone with its run',
    // Rows are written when a run is stored or ends (and by re-analysis for runs stored before); the model is a
    // fold over them, so no run is decoded again to learn from it.
    sql: `
CREATE TABLE run_summaries (
  run_n {bigint} PRIMARY KEY REFERENCES runs(n) ON DELETE CASCADE,
  athlete_id TEXT NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  body {json} NOT NULL,
  created_at {bigint} NOT NULL
);
CREATE INDEX run_summaries_by_athlete ON run_summaries (athlete_id, run_n);
`,
  },
  {
    version: 6,
    name: 'live_chunks (SQLite): live sample batches appended to a log, moved into sample_chunks run by run',
    // No index but the id: an append dirties only the log's last page (sqlite-live-log.ts says why and how the
    // rows move). Gone with their run like every child table.
    only: 'sqlite',
    sql: `
CREATE TABLE live_chunks (
  id INTEGER PRIMARY KEY,
  run_n {bigint} NOT NULL REFERENCES runs(n) ON DELETE CASCADE,
  seq {bigint} NOT NULL,
  t0 {real},
  rows INTEGER NOT NULL,
  data {blob} NOT NULL
);
`,
  },
];

/** The migrations with each placeholder replaced by the dialect's type (a step for the other backend: empty sql). */
export function migrationsFor(dialect: Dialect): Migration[] {
  return MIGRATIONS.map((m) => ({ ...m, sql: m.only === undefined || m.only === dialect ? migrationSql(m.sql, dialect) : '' }));
}

export function migrationSql(sql: string, dialect: Dialect): string {
  return sql.replace(/\{(\w+)\}/g, (_, name: string) => {
    const type = TYPES[dialect][name];
    if (type === undefined) throw new Error(`unknown type placeholder {${name}}`);
    return type;
  });
}

/** The newest schema version this code knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;
