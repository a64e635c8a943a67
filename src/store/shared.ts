/**
 * Logic both backends share, so each rule lives in one place: tokens, argument checks, row → record
 * mapping, cursors, the contiguous-seq walk, and how backend errors become {@link StoreError} codes.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Report } from '../../alerts/types.js';
import { SAMPLE_FIELDS, type SampleColumns } from '../../ingest/sample.js';
import { encodeChunk, encodedChunkProblem, isEncodedChunk } from './codec.js';
import { reportHighlights, type ReportHighlights } from './highlights.js';
import {
  MAX_BATCH_ROWS,
  UPLOAD_CHUNK_ROWS,
  StoreError,
  type Athlete,
  type JournalEntry,
  type NewJournalEntry,
  type NewLiveRun,
  type NewRunEvent,
  type NewUploadedRun,
  type RunRecord,
  type RunSummary,
  type SampleBatch,
  type StoredAlert,
  type StoredRunSummary,
} from './types.js';

// Tokens ------------------------------------------------------------------------------------------------

const TOKEN_PREFIX = 'cg_';
/** Longest string `authenticate` bothers hashing: a real token is 46 characters. */
const MAX_TOKEN_LENGTH = 256;

/** A fresh bearer token: 32 random bytes, base64url, prefixed so it is recognisable in logs and scanners. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * sha-256 hex of a token: what is stored and looked up (an index equality on the hash). The row found is then
 * checked by {@link athleteForToken}.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Authentication's one rule, for both stores: the row the digest's index lookup found (if any) is the token's
 * athlete only when its stored digest equals the token's, compared with `crypto.timingSafeEqual` (time
 * independent of how many bytes match). The lookup alone can only leak prefixes of a hash of a 256-bit secret;
 * the compare makes the answer not rest on the index's notion of equality either.
 */
export function athleteForToken(row: Row | undefined | null, token: string): Athlete | null {
  if (!row || typeof row.token_hash !== 'string') return null;
  const expected = createHash('sha256').update(token).digest();
  const stored = Buffer.from(row.token_hash, 'hex');
  if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) return null;
  return toAthlete(row);
}

export function plausibleToken(token: unknown): token is string {
  return typeof token === 'string' && token.length > TOKEN_PREFIX.length && token.length <= MAX_TOKEN_LENGTH;
}

// Arguments ----------------------------------------------------------------------------------------------

export function isPositiveSeq(seq: unknown): seq is number {
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1;
}

/** Why `cols` is not a valid set of columns with `min`..`max` rows, or null when it is. */
export function columnsProblem(cols: SampleColumns | undefined, min: number, max: number): string | null {
  const length = cols?.length;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < min || length > max) {
    return `expected ${min} to ${max} samples`;
  }
  for (const field of SAMPLE_FIELDS) {
    const column = cols![field];
    if (!(column instanceof Float64Array) || column.length !== length) {
      return `column ${field} must be a Float64Array of length ${length}`;
    }
  }
  return null;
}

/** Why a sample batch cannot be stored, or null when it can. */
export function batchProblem(batch: SampleBatch): string | null {
  if (!isPositiveSeq(batch.seq)) return 'seq must be a positive integer';
  const samples = batch.samples as SampleBatch['samples'] | undefined;
  if (samples && isEncodedChunk(samples)) return encodedChunkProblem(samples, MAX_BATCH_ROWS);
  return columnsProblem(samples, 1, MAX_BATCH_ROWS);
}

/** Checks an uploaded run's columns (any length, including 0). */
export function checkUploadColumns(cols: SampleColumns): void {
  const problem = columnsProblem(cols, 0, Number.MAX_SAFE_INTEGER);
  if (problem !== null) throw new StoreError('STORE_BAD_INPUT', `uploaded run: ${problem}`);
}

/** Chunk boundaries for an uploaded run: [start, end) pairs of at most UPLOAD_CHUNK_ROWS rows. */
export function uploadChunks(length: number): Array<[number, number]> {
  const chunks: Array<[number, number]> = [];
  for (let start = 0; start < length; start += UPLOAD_CHUNK_ROWS) {
    chunks.push([start, Math.min(length, start + UPLOAD_CHUNK_ROWS)]);
  }
  return chunks;
}

/** A checkpoint covers seq 0 (nothing yet) or more. */
export function checkCheckpointSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new StoreError('STORE_BAD_INPUT', 'checkpoint seq must be a non-negative integer');
  }
}

export function checkAlerts(alerts: readonly { id: unknown }[]): void {
  for (const alert of alerts) checkKey('alert id', alert.id);
}

export function checkKey(what: string, key: unknown): string {
  if (typeof key !== 'string' || key.length < 1 || key.length > 128) {
    throw new StoreError('STORE_BAD_INPUT', `${what} must be a string of 1 to 128 characters`);
  }
  return key;
}

export function checkEvents(events: readonly NewRunEvent[]): void {
  for (const { key, event } of events) {
    checkKey('event key', key);
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || !Number.isFinite(event.t)) {
      throw new StoreError('STORE_BAD_INPUT', 'an event needs a type and a finite t');
    }
  }
}

export function checkJournalInput(input: NewJournalEntry): void {
  if (input.id !== undefined) checkKey('journal id', input.id);
  if (typeof input.muscle !== 'string' || input.muscle.length === 0) {
    throw new StoreError('STORE_BAD_INPUT', 'a journal entry needs a muscle');
  }
  if (!Number.isFinite(input.severity)) throw new StoreError('STORE_BAD_INPUT', 'severity must be a number');
  if (input.t != null && !Number.isFinite(input.t)) throw new StoreError('STORE_BAD_INPUT', 't must be finite');
}

export function checkSha256(sha: unknown): string {
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) {
    throw new StoreError('STORE_BAD_INPUT', 'fileSha256 must be 64 lower-case hex digits');
  }
  return sha;
}

// Paging -------------------------------------------------------------------------------------------------

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 200;

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) throw new StoreError('STORE_BAD_INPUT', 'limit must be a positive integer');
  return Math.min(limit, MAX_PAGE);
}

/** Epoch ms of an ISO 8601 start time; null when absent or unreadable. */
export function startMsOf(startTime: string | null | undefined): number | null {
  if (!startTime) return null;
  const ms = Date.parse(startTime);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Run-list cursors: the last row shown's sort key (its start, else its creation time, epoch ms) and internal
 * counter, as `ms_n`; opaque to callers.
 */
export function decodeRunCursor(before: string | undefined): [number, number] {
  if (before === undefined) return [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  const m = /^(-?[0-9]{1,16})_([1-9][0-9]{0,15})$/.exec(before);
  if (!m) throw new StoreError('STORE_BAD_INPUT', 'invalid paging cursor');
  return [Number(m[1]), Number(m[2])];
}

export const runCursor = (row: Row): string => `${num(row.sort_ms)}_${num(row.n)}`;

/** Cursors are the internal creation counter of the last row shown; opaque to callers. */
export function decodeCursor(before: string | undefined): number {
  if (before === undefined) return Number.MAX_SAFE_INTEGER;
  if (!/^[1-9][0-9]{0,15}$/.test(before)) throw new StoreError('STORE_BAD_INPUT', 'invalid paging cursor');
  return Number(before);
}

/** Rows were fetched with limit + 1 to learn whether another page exists. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, counter: (row: R) => unknown) {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return {
    items: shown.map(map),
    nextCursor: more ? String(counter(shown[shown.length - 1]!)) : null,
  };
}

// Sequence numbers ---------------------------------------------------------------------------------------

/**
 * Highest contiguous seq: starting from `current`, advance while the next seq is stored. `storedAfter` is
 * the run's stored seqs greater than `current`, ascending (so only out-of-order arrivals are ever scanned).
 */
export function advanceContiguous(current: number, storedAfter: Iterable<number>): number {
  let contiguous = current;
  for (const seq of storedAfter) {
    if (seq !== contiguous + 1) break;
    contiguous = seq;
  }
  return contiguous;
}

/** A run's sample progress while one group commit is written. */
export interface RunProgress {
  n: number;
  athleteId: string;
  live: boolean;
  /** The mark before this call. */
  contiguousSeq: number;
  /** Highest stored seq before this call. */
  maxSeq: number;
  /** Seqs newly stored by this call. */
  fresh: number[];
  addedRows: number;
}

/** Columns `toRunProgress` reads. */
export const RUN_PROGRESS_COLUMNS = 'n, id, athlete_id, status, contiguous_seq, max_seq';

export function toRunProgress(row: Record<string, unknown>): RunProgress {
  return {
    n: num(row.n),
    athleteId: row.athlete_id as string,
    live: row.status === 'live',
    contiguousSeq: num(row.contiguous_seq),
    maxSeq: num(row.max_seq),
    fresh: [],
    addedRows: 0,
  };
}

/**
 * The run's new contiguous mark from this call's fresh seqs alone, or null when chunks stored earlier beyond
 * the mark (an out-of-order arrival) must be scanned too. In steady state (in-order batches) it is never null,
 * so a group commit reads nothing back.
 */
export function contiguousFromFresh(progress: Pick<RunProgress, 'contiguousSeq' | 'maxSeq' | 'fresh'>): number | null {
  const { contiguousSeq, maxSeq, fresh } = progress;
  if (!fresh.includes(contiguousSeq + 1)) return contiguousSeq;
  if (maxSeq > contiguousSeq) return null;
  return advanceContiguous(contiguousSeq, [...fresh].sort((a, b) => a - b));
}

export function maxSeqAfter(progress: Pick<RunProgress, 'maxSeq' | 'fresh'>): number {
  return Math.max(progress.maxSeq, ...progress.fresh);
}

// Rows → records -----------------------------------------------------------------------------------------

/** JSON columns are text in SQLite and already-parsed jsonb in PostgreSQL. */
export function json<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** PostgreSQL returns bigint as string. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

export function iso(ms: unknown): string {
  return new Date(num(ms)).toISOString();
}

export function isoOrNull(ms: unknown): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

type Row = Record<string, unknown>;

export function toAthlete(row: Row): Athlete {
  return {
    id: row.id as string,
    name: row.name as string,
    profile: json(row.profile) ?? {},
    createdAt: iso(row.created_at),
  };
}

/** Columns `toRunSummary` reads. */
export const RUN_SUMMARY_COLUMNS =
  'n, id, athlete_id, source, status, name, start_time, created_at, ended_at, sample_count, duration_s, distance_m, prompts, peak_risk, sport, pace_s_per_km, replay_of, sort_ms';
/** Columns `toRunRecord` reads. */
export const RUN_RECORD_COLUMNS = `${RUN_SUMMARY_COLUMNS}, file_sha256, client_run_id, options, meta, report, contiguous_seq, alerts_delivered_through`;
/** What `listRuns` selects: the summary, and whether a report is stored (without reading it; see `needsHighlights`). */
export const RUN_LIST_COLUMNS = `${RUN_SUMMARY_COLUMNS}, (report IS NOT NULL) AS has_report`;

export function toRunSummary(row: Row): RunSummary {
  return {
    id: row.id as string,
    athleteId: row.athlete_id as string,
    source: row.source as RunSummary['source'],
    status: row.status as RunSummary['status'],
    name: (row.name as string | null) ?? null,
    startTime: (row.start_time as string | null) ?? null,
    createdAt: iso(row.created_at),
    endedAt: isoOrNull(row.ended_at),
    sampleCount: num(row.sample_count),
    durationS: numOrNull(row.duration_s),
    distanceM: numOrNull(row.distance_m),
    prompts: numOrNull(row.prompts),
    peakRisk: numOrNull(row.peak_risk),
    sport: (row.sport as string | null) ?? null,
    paceSPerKm: numOrNull(row.pace_s_per_km),
    replayOf: (row.replay_of as string | null) ?? null,
  };
}

export function toRunRecord(row: Row): RunRecord {
  const report = json<Report>(row.report);
  const summary = toRunSummary(row);
  // A row stored before the highlight columns existed: the report is at hand anyway.
  if (report !== null && summary.prompts === null) Object.assign(summary, reportHighlights(report));
  return {
    ...summary,
    fileSha256: (row.file_sha256 as string | null) ?? null,
    clientRunId: (row.client_run_id as string | null) ?? null,
    options: json(row.options),
    meta: json(row.meta),
    report,
    contiguousSeq: num(row.contiguous_seq),
    alertsDeliveredThrough: num(row.alerts_delivered_through),
  };
}

/**
 * The record of an upload just stored from `input`: its row, with the JSON columns taken from the objects just
 * written rather than parsed back (the report of a 100,000-sample run is ~30 ms of JSON.parse on the event loop).
 */
// New runs ----------------------------------------------------------------------------------------------
// The values a new run's rows hold, by column name, built once for both stores: each inserts them in its own
// dialect (SQLite named parameters, PostgreSQL numbered ones) and keeps its own way of making the insert
// idempotent (SQLite's one writer at a time, PostgreSQL's ON CONFLICT DO NOTHING and a re-read when another
// connection's insert of the same run committed first).

/** A `runs` row as inserted (`replay_of` aside: each dialect finds the run a live run replays in its own way). */
export interface NewRunRow {
  id: string;
  athlete_id: string;
  source: 'upload' | 'live';
  status: 'live' | 'ended';
  file_sha256: string | null;
  client_run_id: string | null;
  name: string | null;
  start_time: string | null;
  /** The run's own start, epoch ms, when known. */
  start_ms: number | null;
  /** The list's order: the start, else the creation time. */
  sort_ms: number;
  created_at: number;
  ended_at: number | null;
  options: string | null;
  meta: string | null;
  report: string | null;
  duration_s: number | null;
  distance_m: number | null;
  prompts: number | null;
  peak_risk: number | null;
  sport: string | null;
  pace_s_per_km: number | null;
  sample_count: number;
  contiguous_seq: number;
  max_seq: number;
}

/** What every new run's row starts with: who, what, when, and the options it was analysed with. */
function runBasics(
  id: string,
  athleteId: string,
  source: NewRunRow['source'],
  name: string | undefined,
  startTime: string | null,
  options: object | undefined,
  now: number,
) {
  const startMs = startMsOf(startTime);
  return {
    id,
    athlete_id: athleteId,
    source,
    name: name ?? null,
    start_time: startTime,
    start_ms: startMs,
    sort_ms: startMs ?? now,
    created_at: now,
    options: options ? JSON.stringify(options) : null,
  };
}

/** The row of an uploaded run whose samples go in `chunkCount` chunks (seq 1…chunkCount, all stored at once). */
export function uploadedRunRow(id: string, athleteId: string, sha: string, input: NewUploadedRun, chunkCount: number, now: number): NewRunRow {
  const columns = reportColumns(input.report);
  const startTime = input.run.meta.startTime ?? input.report.startTime ?? null;
  return {
    ...runBasics(id, athleteId, 'upload', input.name, startTime, input.options, now),
    status: 'ended',
    file_sha256: sha,
    client_run_id: null,
    ended_at: now,
    meta: JSON.stringify(input.run.meta),
    report: JSON.stringify(input.report),
    duration_s: columns.durationS,
    distance_m: columns.distanceM,
    prompts: columns.prompts,
    peak_risk: columns.peakRisk,
    sport: columns.sport,
    pace_s_per_km: columns.paceSPerKm,
    sample_count: input.run.samples.length,
    contiguous_seq: chunkCount,
    max_seq: chunkCount,
  };
}

/** The row of a live run as `start` opens it: no samples, no report yet (`endLiveRun` writes those). */
export function liveRunRow(id: string, athleteId: string, clientRunId: string, input: NewLiveRun, now: number): NewRunRow {
  const noReport = { meta: null, report: null, duration_s: null, distance_m: null, prompts: null, peak_risk: null, sport: null, pace_s_per_km: null };
  return {
    ...runBasics(id, athleteId, 'live', input.name, input.startTime ?? null, input.options, now),
    status: 'live',
    file_sha256: null,
    client_run_id: clientRunId,
    ended_at: null,
    ...noReport,
    sample_count: 0,
    contiguous_seq: 0,
    max_seq: 0,
  };
}

/** An upload's `sample_chunks` rows: run_n, seq, t0, rows, data (the planned chunks, encoded). */
export function uploadChunkRows(runN: number, input: NewUploadedRun): Array<[number, number, number, number, Uint8Array]> {
  const cols = input.run.samples;
  const ranges = uploadChunks(cols.length);
  const given = input.chunks;
  if (given) {
    // Encoded elsewhere (the upload worker): they must be this run's ranges, each a chunk of this encoder.
    if (given.length !== ranges.length) throw new StoreError('STORE_BAD_INPUT', `uploaded run: expected ${ranges.length} encoded chunks, got ${given.length}`);
    return ranges.map(([start, end], i) => {
      const chunk = given[i]!;
      const problem = encodedChunkProblem(chunk, UPLOAD_CHUNK_ROWS);
      if (problem !== null || chunk.rows !== end - start || !Object.is(chunk.firstT, cols.t[start])) {
        throw new StoreError('STORE_BAD_INPUT', `uploaded run: encoded chunk ${i + 1}: ${problem ?? 'not the rows of its range'}`);
      }
      return [runN, i + 1, chunk.firstT, chunk.rows, chunk.bytes];
    });
  }
  return ranges.map(([start, end], i) => [runN, i + 1, cols.t[start]!, end - start, encodeChunk(cols, start, end)]);
}

/** An upload's `run_events` rows: run_n, key, t, type, body, created_at (keys `file:<index>`). */
export function fileEventRows(runN: number, input: NewUploadedRun, now: number): Array<[number, string, number, string, string, number]> {
  return input.run.events.map((event, i) => [runN, `file:${i}`, event.t, event.type, JSON.stringify(event), now]);
}

export function uploadedRunRecord(row: Row, input: NewUploadedRun): RunRecord {
  return toRunRecord({ ...row, report: input.report, meta: input.run.meta, options: input.options ?? null });
}

export function toStoredAlert(row: Row, deliveredThrough: number): StoredAlert {
  const pos = num(row.pos);
  return { pos, alert: json(row.body)!, createdAt: iso(row.created_at), delivered: pos <= deliveredThrough };
}

export const JOURNAL_COLUMNS = 'n, id, athlete_id, run_id, t, muscle, severity, note, context, created_at';

export function toJournalEntry(row: Row): JournalEntry {
  return {
    id: row.id as string,
    athleteId: row.athlete_id as string,
    runId: (row.run_id as string | null) ?? null,
    t: numOrNull(row.t),
    muscle: row.muscle as string,
    severity: num(row.severity),
    note: (row.note as string | null) ?? '',
    context: json(row.context) ?? {},
    createdAt: iso(row.created_at),
  };
}

/** Finite number or null: NaN and ±Infinity are not storable in report summary columns. */
export function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The summary columns a stored report sets (duration, distance, prompts, peak risk). Every write of a report in
 * both backends goes through this, so the columns always match the report.
 */
export function reportColumns(report: Report): { durationS: number | null; distanceM: number | null } & ReportHighlights {
  return { durationS: finiteOrNull(report.durationS), distanceM: finiteOrNull(report.distanceM), ...reportHighlights(report) };
}

/**
 * A listed row stored before migration 3 (a report, but no highlight columns yet): the store computes them from
 * the report once and writes them back (guarded by `prompts IS NULL`, so a report stored meanwhile wins).
 * Rows of the list query only (`RUN_LIST_COLUMNS`).
 */
export function needsHighlights(row: Row): boolean {
  return (row.has_report === true || row.has_report === 1) && (row.prompts === null || row.prompts === undefined);
}

/** Rows per query when reading old rows' reports to fill their highlights (each may be megabytes). */
export const HIGHLIGHT_BATCH = 8;

// Errors -------------------------------------------------------------------------------------------------

/**
 * Maps any backend failure to a coded StoreError: disk/quota full → STORE_FULL (server: 507); a value the database
 * refuses (PostgreSQL SQLSTATE class 22, data exceptions: a NUL in text, an unpaired surrogate in jsonb, a number
 * out of range; SQLite's SQLITE_TOOBIG, SQLITE_MISMATCH) and a reference to a missing athlete or run →
 * STORE_BAD_INPUT (400); another integrity constraint (class 23, SQLITE_CONSTRAINT_*) → STORE_CONFLICT (409);
 * everything else (connections, timeouts, the server shutting down) → STORE_UNAVAILABLE (503). One bad write is
 * never reported as the store being unavailable, so nobody retries it forever. The original error is kept as
 * `cause` for the logs; the message stays one line.
 */
export function toStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL' || code === '53100') {
    return new StoreError('STORE_FULL', 'storage is full', { cause: error });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') {
    return new StoreError('STORE_BAD_INPUT', 'unknown athlete or run', { cause: error });
  }
  const detail = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
  if (typeof code === 'string') {
    if (/^22[0-9A-Z]{3}$/.test(code) || code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH') {
      return new StoreError('STORE_BAD_INPUT', `the database refused a value: ${detail}`, { cause: error });
    }
    if (/^23[0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_CONSTRAINT')) {
      return new StoreError('STORE_CONFLICT', `the write conflicts with what is stored: ${detail}`, { cause: error });
    }
  }
  return new StoreError('STORE_UNAVAILABLE', `storage unavailable: ${detail}`, { cause: error });
}

// Athlete model ------------------------------------------------------------------------------------------

/** A summary row is a plain JSON object with a numeric version (src/athlete/summary.ts). */
export function checkRunSummary(summary: unknown): number {
  const version = (summary as { version?: unknown } | null)?.version;
  if (typeof summary !== 'object' || summary === null || Array.isArray(summary) || typeof version !== 'number' || !Number.isSafeInteger(version)) {
    throw new StoreError('STORE_BAD_INPUT', 'a run summary must be an object with an integer version');
  }
  return version;
}

export function toStoredRunSummary(row: Row): StoredRunSummary {
  return { runId: row.run_id as string, version: num(row.version), summary: json(row.body)!, savedAtMs: num(row.created_at) };
}

export function toRunSummaryDigest(row: Row): { count: number; runSum: number; lastSavedMs: number } {
  return { count: num(row.count), runSum: num(row.run_sum), lastSavedMs: num(row.last) };
}

export function toRunSummaryStamp(row: Row): Omit<StoredRunSummary, 'summary'> {
  return { runId: row.run_id as string, version: num(row.version), savedAtMs: num(row.created_at) };
}
