/**
 * Live sample batches on SQLite: appended to a log (`live_chunks`), moved into `sample_chunks` run by run.
 *
 * Why: a live batch is one chunk of one run, and thousands of runs interleave in each group commit. Written
 * straight into sample_chunks, each batch landed at its own place in the (run, seq) index and rewrote its run's
 * progress in its runs row: two scattered pages dirtied per batch, written to the WAL at each commit and again at
 * each checkpoint. Appended to a table with no index, a batch dirties only the log's last page, and a run's rows
 * move later, together (one index page and one runs row for many batches). In one process, 5,000 runs sending in
 * random order, 20 batches a commit: 34–39 µs of CPU a batch before, 15–18 µs after (moving at 64 rows); the live
 * server's store thread at 5,000 watches × 1 Hz: 25 % of a core before, 12–13 % after (docs/benchmarks.md, "seventh pass").
 *
 * The connection keeps each run it touched in memory (the runs row's progress plus its rows still in the log),
 * so a batch costs a map lookup and its append. The rules that keep that exact:
 * - A runs row's contiguous_seq, max_seq and sample_count describe the run's chunks in sample_chunks; its rows still
 *   in the log are added on top, here in memory (and recomputed from the tables by {@link LiveLog.moveAll}).
 * - Every run with rows in the log is in this connection's memory, unless another connection committed (PRAGMA
 *   data_version says so): then, holding the write lock, every log row (whoever wrote it) is moved and the memory
 *   is cleared before anything else runs. The open and the close move them all too.
 * - A run's rows move when it has {@link LiveLogLimits.runRows} of them, when the oldest is
 *   {@link LiveLogLimits.lagRows} appends old, before its samples are read and when it ends. Moved rows are deleted
 *   from the log's head in ranges, when the oldest run still waiting has moved on.
 *
 * The methods that change the log run inside the caller's write transaction (SqliteStore's #write, #inLogTransaction).
 * @module
 */
import type Database from 'better-sqlite3';
import { chunkOf } from './codec.js';
import { RUN_PROGRESS_COLUMNS, advanceContiguous, batchProblem, contiguousFromFresh, maxSeqAfter, toRunProgress, type RunProgress } from './shared.js';
import type { SampleBatch, SampleBatchResult } from './types.js';

export interface LiveLogLimits {
  /** A run's log rows move once it has this many (the more, the fewer scattered pages a batch costs). @default 32 */
  runRows: number;
  /** …or once its oldest is this many appends old (a run that stopped sending; bounds the log). @default 200_000 */
  lagRows: number;
  /** Moved rows are deleted from the log's head this many at a time (a range delete of whole pages). @default 4096 */
  deleteEveryRows: number;
}

// In one process, 10,000 runs in random order, steady state: 50,000 / 64 cost 18–20 µs a batch, 200,000 / 32 13–16 µs.
// The log then holds up to ~200,000 rows (~14 MB); moving them all (an open after a crash) takes ~1 s.
export const LIVE_LOG_LIMITS: LiveLogLimits = { runRows: 32, lagRows: 200_000, deleteEveryRows: 4096 };
/** Runs remembered with nothing in the log beyond this many are forgotten (looked up again when they send). */
const REMEMBERED_RUNS = 20_000;

/** A run this connection touched: its progress with its log rows counted in. */
interface LiveRun extends RunProgress {
  readonly runId: string;
  /** Its rows in the log, not yet in sample_chunks: ids and seqs in append order, and their samples. */
  logIds: number[];
  logSeqs: number[];
  logSamples: number;
  /** Deleted, ended or forgotten: its entry in the queue is stale. */
  gone: boolean;
}

type Row = Record<string, unknown>;

/** The store's own insert of a chunk into sample_chunks (ON CONFLICT DO NOTHING): what uploads write with too. */
export type InsertChunk = Database.Statement;

function prepare(db: Database.Database, insertChunk: InsertChunk) {
  return {
    runForAppend: db.prepare(`SELECT ${RUN_PROGRESS_COLUMNS} FROM runs WHERE id = ?`),
    append: db.prepare('INSERT INTO live_chunks (id, run_n, seq, t0, rows, data) VALUES (?, ?, ?, ?, ?, ?)'),
    // One statement for all of a run's rows (ids as a JSON array), inserted in seq order.
    move: db
      .prepare(
        `INSERT INTO sample_chunks (run_n, seq, t0, rows, data)
         SELECT run_n, seq, t0, rows, data FROM live_chunks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq
         ON CONFLICT DO NOTHING RETURNING rows`,
      )
      .pluck(),
    deleteBelow: db.prepare('DELETE FROM live_chunks WHERE id < ?'),
    all: db.prepare('SELECT run_n, seq, t0, rows, data FROM live_chunks ORDER BY run_n, seq'),
    deleteAll: db.prepare('DELETE FROM live_chunks'),
    insertChunk,
    chunkExists: db.prepare('SELECT 1 FROM sample_chunks WHERE run_n = ? AND seq = ?').pluck(),
    seqsAfter: db.prepare('SELECT seq FROM sample_chunks WHERE run_n = ? AND seq > ? ORDER BY seq').pluck(),
    progressOf: db.prepare('SELECT contiguous_seq, max_seq FROM runs WHERE n = ?'),
    addProgress: db.prepare('UPDATE runs SET contiguous_seq = ?, max_seq = ?, sample_count = sample_count + ? WHERE n = ?'),
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
  };
}

export class LiveLog {
  readonly #s: ReturnType<typeof prepare>;
  readonly #limits: LiveLogLimits;
  readonly #runs = new Map<string, LiveRun>();
  /** Runs with log rows in the order of their oldest one (entries whose run moved since are stale). */
  #queue: Array<{ run: LiveRun; firstId: number }> = [];
  #head = 0;
  #lastId = 0;
  /** Every log row below this id has been deleted. */
  #deletedBelow = 1;
  #dataVersion = -1;
  /** The number of remembered runs at which idle ones are forgotten next (doubles while most have log rows). */
  #forgetAt = REMEMBERED_RUNS;
  /** This transaction changed the memory: if it rolls back, the memory is ahead of the file. */
  #changed = false;

  constructor(db: Database.Database, insertChunk: InsertChunk, limits: LiveLogLimits = LIVE_LOG_LIMITS) {
    this.#s = prepare(db, insertChunk);
    this.#limits = limits;
  }

  /** Whether another connection committed since this one last looked (then {@link moveAll} before anything else). */
  changedElsewhere(): boolean {
    return this.#s.dataVersion.get() !== this.#dataVersion;
  }

  /** A write transaction starts. */
  begin(): void {
    this.#changed = false;
  }

  /** It rolled back: if it changed the memory, the memory is rebuilt from the tables before the next call. */
  rolledBack(): void {
    if (this.#changed) this.#dataVersion = -1;
  }

  /** Moves every log row into sample_chunks, whoever wrote it, with each run's progress from the tables; forgets every run. */
  moveAll(): void {
    this.#changed = true;
    const byRun = new Map<number, Pick<RunProgress, 'n' | 'contiguousSeq' | 'maxSeq' | 'fresh' | 'addedRows'>>();
    for (const row of this.#s.all.all() as Row[]) {
      const n = row.run_n as number;
      let progress = byRun.get(n);
      if (progress === undefined) {
        const p = this.#s.progressOf.get(n) as Row | undefined;
        progress = { n, contiguousSeq: Number(p?.contiguous_seq ?? 0), maxSeq: Number(p?.max_seq ?? 0), fresh: [], addedRows: 0 };
        byRun.set(n, progress);
      }
      if (this.#s.insertChunk.run(n, row.seq, row.t0, row.rows, row.data).changes === 1) {
        progress.fresh.push(row.seq as number);
        progress.addedRows += row.rows as number;
      }
    }
    for (const p of byRun.values()) {
      if (p.addedRows === 0) continue;
      const contiguous =
        contiguousFromFresh(p) ?? advanceContiguous(p.contiguousSeq, this.#s.seqsAfter.iterate(p.n, p.contiguousSeq) as Iterable<number>);
      this.#s.addProgress.run(contiguous, maxSeqAfter(p), p.addedRows, p.n);
    }
    this.#s.deleteAll.run();
    for (const run of this.#runs.values()) run.gone = true;
    this.#runs.clear();
    this.#queue = [];
    this.#head = 0;
    this.#lastId = 0;
    this.#deletedBelow = 1;
    // Read under the write lock: no other connection can have committed after it.
    this.#dataVersion = this.#s.dataVersion.get() as number;
  }

  /** One group commit's batches (SqliteStore.appendSampleBatches has the contract). */
  append(batches: readonly SampleBatch[]): SampleBatchResult[] {
    this.#changed = true;
    const results: SampleBatchResult[] = new Array<SampleBatchResult>(batches.length);
    const owners: Array<LiveRun | null> = new Array<LiveRun | null>(batches.length);
    const touched: LiveRun[] = [];
    const looked = new Map<string, LiveRun | null>();
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const result: SampleBatchResult = { runId: batch.runId, seq: batch.seq, status: 'invalid', contiguousSeq: 0 };
      results[i] = result;
      let run = this.#runs.get(batch.runId) ?? looked.get(batch.runId);
      if (run === undefined) {
        run = this.#load(batch.runId);
        looked.set(batch.runId, run);
      }
      // A foreign run is reported exactly like a missing one.
      const owned = run !== null && run.athleteId === batch.athleteId ? run : null;
      owners[i] = owned;
      if (batchProblem(batch) !== null) continue;
      if (owned === null) {
        result.status = 'not_found';
      } else if (this.#stored(owned, batch.seq)) {
        result.status = 'duplicate';
      } else if (!owned.live) {
        result.status = 'not_live';
      } else {
        const chunk = chunkOf(batch.samples);
        const id = ++this.#lastId;
        this.#s.append.run(id, owned.n, batch.seq, chunk.firstT, chunk.rows, chunk.bytes);
        if (owned.logIds.length === 0) this.#queue.push({ run: owned, firstId: id });
        owned.logIds.push(id);
        owned.logSeqs.push(batch.seq);
        owned.logSamples += chunk.rows;
        if (owned.fresh.length === 0) touched.push(owned);
        owned.fresh.push(batch.seq);
        result.status = 'stored';
      }
    }
    for (const run of touched) {
      run.contiguousSeq = contiguousFromFresh(run) ?? advanceContiguous(run.contiguousSeq, this.#storedAfter(run, run.contiguousSeq));
      run.maxSeq = maxSeqAfter(run);
      run.fresh.length = 0;
      if (run.logIds.length >= this.#limits.runRows) this.move(run);
    }
    for (let i = 0; i < results.length; i++) {
      const owner = owners[i];
      if (owner) results[i]!.contiguousSeq = owner.contiguousSeq;
    }
    this.#moveOldest();
    return results;
  }

  /** The run's log rows moved into sample_chunks and its progress into its runs row (nothing when it has none). */
  move(run: LiveRun): void {
    if (run.logIds.length === 0) return;
    this.#changed = true;
    let added = 0;
    for (const rows of this.#s.move.all(JSON.stringify(run.logIds)) as number[]) added += rows;
    this.#s.addProgress.run(run.contiguousSeq, run.maxSeq, added, run.n);
    run.logIds = [];
    run.logSeqs = [];
    run.logSamples = 0;
  }

  /** The run by id, if this connection holds rows of it in the log. */
  pending(runId: string): LiveRun | null {
    const run = this.#runs.get(runId);
    return run !== undefined && run.logIds.length > 0 ? run : null;
  }

  /** Moves the run's log rows and forgets it (it ended or is deleted: looked up again if it sends). */
  forget(runId: string): void {
    const run = this.#runs.get(runId);
    if (run === undefined) return;
    this.move(run);
    run.gone = true;
    this.#runs.delete(runId);
  }

  /** Forgets a run deleted in this transaction (its log rows went with it). */
  drop(runId: string): void {
    const run = this.#runs.get(runId);
    if (run === undefined) return;
    this.#changed = true;
    run.gone = true;
    run.logIds = [];
    this.#runs.delete(runId);
  }

  /** A runs row as read, with the run's log rows counted in (sample_count, and contiguous_seq when selected). */
  withLogRows<T extends Row | undefined>(row: T): T {
    if (row === undefined) return row;
    const run = this.#runs.get(row.id as string);
    if (run === undefined || run.logIds.length === 0) return row;
    row.sample_count = Number(row.sample_count) + run.logSamples;
    if ('contiguous_seq' in row) row.contiguous_seq = run.contiguousSeq;
    return row;
  }

  #load(runId: string): LiveRun | null {
    const row = this.#s.runForAppend.get(runId) as Row | undefined;
    if (row === undefined) return null;
    if (this.#runs.size >= this.#forgetAt) {
      this.#forgetIdle();
      this.#forgetAt = Math.max(REMEMBERED_RUNS, 2 * this.#runs.size);
    }
    const run: LiveRun = { ...toRunProgress(row), runId, logIds: [], logSeqs: [], logSamples: 0, gone: false };
    this.#runs.set(runId, run);
    return run;
  }

  /** Whether `seq` of the run is stored (in sample_chunks or the log). */
  #stored(run: LiveRun, seq: number): boolean {
    if (seq <= run.contiguousSeq) return true;
    if (run.logSeqs.includes(seq)) return true;
    if (seq > run.maxSeq) return false;
    return this.#s.chunkExists.get(run.n, seq) !== undefined;
  }

  /** The run's stored seqs above `after`, ascending: sample_chunks' and the log's. */
  #storedAfter(run: LiveRun, after: number): number[] {
    const seqs = this.#s.seqsAfter.all(run.n, after) as number[];
    for (const seq of run.logSeqs) if (seq > after) seqs.push(seq);
    return [...new Set(seqs)].sort((a, b) => a - b);
  }

  /** Moves the runs whose oldest log row is lagRows old, then deletes the moved rows at the log's head. */
  #moveOldest(): void {
    const queue = this.#queue;
    let head = this.#head;
    while (head < queue.length) {
      const { run, firstId } = queue[head]!;
      if (!run.gone && run.logIds[0] === firstId) {
        if (firstId > this.#lastId - this.#limits.lagRows) break;
        this.move(run);
      }
      head++;
    }
    const lowWater = head < queue.length ? queue[head]!.firstId : this.#lastId + 1;
    if (head > 1024 && head * 2 > queue.length) {
      this.#queue = queue.slice(head);
      head = 0;
    }
    this.#head = head;
    if (lowWater - this.#deletedBelow >= this.#limits.deleteEveryRows) {
      this.#s.deleteBelow.run(lowWater);
      this.#deletedBelow = lowWater;
    }
  }

  #forgetIdle(): void {
    for (const [runId, run] of this.#runs) {
      if (run.logIds.length > 0) continue;
      run.gone = true;
      this.#runs.delete(runId);
    }
  }
}
