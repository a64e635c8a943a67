/**
 * Live runs on the server: one session per open run, holding the run's engine and live normaliser. A batch is
 * stepped through the engine the moment it is accepted, so prompts reach the watch at once, from memory; it is
 * stored behind that (group commit, retried while the database is unavailable) and acked only once stored.
 *
 * The rules everything here keeps:
 * - **Order.** A batch is checked (seq, normaliser) and stepped synchronously on arrival, so the engine sees
 *   batches and events in the order the watch sent them. Events follow the engine's rule (an event at `t` takes
 *   effect after every sample with `sample.t <= t`): they wait in `pending` until a later sample comes. An event
 *   that arrives after later samples is moved to the last sample's time, and stored that way, so a rebuild from
 *   the store (server restart) replays exactly what the live engine saw.
 * - **acked ⇒ stored.** Each accepted batch or event becomes a write in the session's queue, written in arrival
 *   order: the batch's samples, then the alerts and cramp journal entries it raised. Its ack (`contiguousSeq`)
 *   comes only when all of that is stored. A transient store failure (`STORE_UNAVAILABLE`, `STORE_FULL`) is
 *   retried with back-off for as long as the session is open; the watch keeps the unacked batches and resends
 *   them, and a resend of a seq still in memory is not stepped again, it just waits for the same write.
 * - **Bounded memory.** Unstored samples are capped per run and per process ({@link LiveBacklog}); beyond a cap a
 *   new batch is refused with `STORE_UNAVAILABLE` before anything is stepped (its seq stays free).
 * - **Memory ahead of the store.** When the store refuses for a reason that is not an outage (the run was
 *   deleted or ended, or another process stored this seq first), the engine has consumed what the store does not
 *   hold: the session is dropped and the watch's next start rebuilds it from the store.
 * @module
 */
import type { Logger } from 'pino';
import { createEngine, restoreEngine } from '../../alerts/engine.js';
import type {
  Alert,
  CrampContext,
  Engine,
  EngineOptions,
  EngineSink,
  EngineSnapshot,
  Report,
  RiskPoint,
} from '../../alerts/types.js';
import {
  createLiveBatchOutput,
  createLiveNormalizer,
  type LiveBatchOutput,
  type LiveNormalizer,
  type LiveNormalizerState,
  type WireSample,
} from '../../ingest/live.js';
import {
  allocColumns,
  CHANNELS,
  emptySample,
  readRow,
  type Channel,
  type NormalizedRun,
  type RunEvent,
  type RunMeta,
  type Sample,
  type SampleColumns,
} from '../../ingest/sample.js';
import { StoreError, type RunRecord, type SampleBatch, type SampleBatchResult, type Store } from '../store/types.js';
import type { Analyzer } from './analyzer.js';
import { recordRunSummary, stampReport } from './athlete.js';
import type { Metrics } from './metrics.js';

/** Save an engine checkpoint every this many batches, so a restart replays at most that many. */
const CHECKPOINT_EVERY_BATCHES = 20;

/** Risk points a live session keeps for followers (a day at one point per 10 s). */
export const RISK_HISTORY_MAX = 8640;

/**
 * How many batches a run waits for its first checkpoint: 1–20, fixed per run id. Runs that started together
 * (a bench, a server restart rebuilding every session) would otherwise all checkpoint on the same batch: 5,000
 * watches at 1 Hz then held the event loop for 200–400 ms every 20 s, encoding and writing 5,000 snapshots.
 */
export function firstCheckpointAfter(runId: string): number {
  let h = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 0x01000193);
  return 1 + ((h >>> 0) % CHECKPOINT_EVERY_BATCHES);
}
/** Most `end` messages waiting in one run's chain; beyond it the watch is flooding. */
const MAX_QUEUED_PER_RUN = 64;
/** Unstored events one run may hold (each is a few hundred bytes; a watch sends a few an hour). */
const MAX_UNSTORED_EVENTS_PER_RUN = 256;
/** How long `end` waits for the run's writes before answering STORE_UNAVAILABLE (the run stays open), ms. */
const END_WAIT_MS = 10_000;
/** Back-off between attempts of a failing write, ms: doubles from the first to the last, with jitter. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;

/** Store failures that are worth retrying: the database is down or locked, or the disk is full. */
const RETRIABLE = new Set(['STORE_UNAVAILABLE', 'STORE_FULL']);

/** A refusal the socket layer turns into an error ack. */
export class LiveError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly expectedSeq?: number,
    /** How long to wait before sending again, ms (refusals that know it). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

// ----------------------------------------------------------------------------------------------- group commit

/**
 * Buffers sample batches of all runs for a few ms and stores them in one transaction: one fsync for many
 * watches. Resolves each batch's promise once its transaction committed ("acked ⇒ stored"); rejects them all
 * when the transaction fails (the sessions retry).
 */
export class GroupCommit {
  private pending: { batch: SampleBatch; resolve: (r: SampleBatchResult) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    /** How long to wait for more batches, ms. @default 4 */
    private readonly windowMs = 4,
    /** Flush at once when this many batches wait. @default 256 */
    private readonly maxBatches = 256,
  ) {}

  add(batch: SampleBatch): Promise<SampleBatchResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      if (this.pending.length >= this.maxBatches) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    this.store.appendSampleBatches(items.map((i) => i.batch)).then(
      (results) => items.forEach((item, k) => item.resolve(results[k]!)),
      (err) => items.forEach((item) => item.reject(err)),
    );
  }
}

// ----------------------------------------------------------------------------------------------- backlog

/** Default caps of unstored live samples (see `LIVE_BACKLOG_RUN_SAMPLES` / `LIVE_BACKLOG_SAMPLES`). */
export const DEFAULT_BACKLOG_RUN_SAMPLES = 3600;
export const DEFAULT_BACKLOG_SAMPLES = 1_000_000;

/**
 * What every session of the process holds in memory but has not stored yet, the caps on it, and whether the
 * store's writes are failing now (for /healthz). One per process, shared by the sessions.
 */
export class LiveBacklog {
  /** Unstored samples, all runs. */
  samples = 0;
  /** Writes (batches, events, alert sets) waiting, all runs. */
  writes = 0;
  /** Since when writes fail (ms since epoch), or null when the last attempt succeeded. */
  failingSince: number | null = null;
  /** The last failure's message. */
  lastError: string | null = null;

  constructor(
    /** Most unstored samples one run may hold. @default 3600 (an hour at 1 Hz) */
    readonly maxRunSamples = DEFAULT_BACKLOG_RUN_SAMPLES,
    /** Most unstored samples all runs of this process may hold. @default 1 000 000 (~80 MB of columns) */
    readonly maxSamples = DEFAULT_BACKLOG_SAMPLES,
  ) {}

  /** True while writes are failing and something waits to be written. */
  get degraded(): boolean {
    return this.failingSince !== null && this.writes > 0;
  }

  failed(err: unknown, now = Date.now()): void {
    this.failingSince ??= now;
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  succeeded(): void {
    this.failingSince = null;
    this.lastError = null;
  }
}

// ----------------------------------------------------------------------------------------------- sessions

/** Where a session's output goes (sockets); called as soon as the engine produced it. */
export interface LiveOutput {
  alerts(session: LiveSession, alerts: readonly Alert[]): void;
  risk(session: LiveSession, points: readonly RiskPoint[]): void;
  /** Whether anyone follows the run's samples (they are copied into objects only then). */
  wantsSamples(session: LiveSession): boolean;
  samples(session: LiveSession, seq: number, samples: readonly Sample[]): void;
  ended(session: LiveSession): void;
}

interface CheckpointState extends EngineSnapshot {
  version: 1;
  engine: EngineSnapshot;
  normalizer: LiveNormalizerState;
  /** t of the last sample the engine consumed (-1 before the first). */
  lastT: number;
}

/**
 * Time as the live core sees it: the wall clock in the server, a fake one in unit tests (outages and back-off
 * simulated in milliseconds).
 */
export interface LiveClock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `fn` once `ms` have passed; returns the cancel. */
  after(ms: number, fn: () => void): () => void;
}
export const SYSTEM_CLOCK: LiveClock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface LiveDeps {
  /** @default SYSTEM_CLOCK */
  clock?: LiveClock;
  store: Store;
  commit: GroupCommit;
  backlog: LiveBacklog;
  analyzer: Analyzer;
  metrics: Metrics;
  log: Logger;
  output: LiveOutput;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: LiveError };

export interface BatchAnswer {
  contiguousSeq: number;
  duplicate: boolean;
  alerts?: Array<Alert & { runId: string }>;
}
export interface EventAnswer {
  t: number;
  duplicate: boolean;
}

/** An ack waiting for a write; `duplicate`: this copy of the message came after the first. */
interface Waiter<T> {
  resolve: (o: Outcome<T>) => void;
  duplicate: boolean;
}

/** A write the session still owes the store, in arrival order. `waiters` are the acks waiting for it. */
type Write =
  | {
      kind: 'batch';
      seq: number;
      cols: SampleColumns;
      /** What stepping the batch produced, stored after its samples. */
      alerts: Alert[];
      cramps: CrampContext[];
      /** Engine state right after this batch, saved once the batch is stored. */
      checkpoint: CheckpointState | null;
      attempts: number;
      stored: boolean;
      waiters: Waiter<BatchAnswer>[];
    }
  | {
      kind: 'event';
      key: string;
      event: RunEvent;
      attempts: number;
      waiters: Waiter<EventAnswer>[];
    }
  | { kind: 'alerts'; alerts: Alert[]; cramps: CrampContext[]; attempts: number };

/**
 * Copies of one message (resends, or the same seq from a second socket of the athlete) waiting for its write at
 * once: each is answered for real, up to this many; beyond it the oldest copy is answered SUPERSEDED.
 */
const MAX_WAITERS_PER_WRITE = 4;
/** The answer to the oldest copy of a message sent more than {@link MAX_WAITERS_PER_WRITE} times before it was stored. */
const SUPERSEDED = new LiveError('RATE_LIMITED', 'the same message was sent again several times before it was stored: the newer copies are answered');

/** Adds a copy's ack to a write's waiters (a resend: `duplicate`), answering the oldest SUPERSEDED past the cap. */
function addWaiter<T>(waiters: Waiter<T>[], resolve: (o: Outcome<T>) => void): void {
  waiters.push({ resolve, duplicate: waiters.length > 0 });
  if (waiters.length > MAX_WAITERS_PER_WRITE) waiters.shift()!.resolve({ ok: false, error: SUPERSEDED });
}

/** The session was closed while a write was retried: stop quietly. */
const DROPPED = Symbol('dropped');

/** One open live run. */
export class LiveSession {
  readonly athleteId: string;
  /** Server run id. */
  readonly id: string;
  readonly clientRunId: string;
  readonly options: EngineOptions;
  /** Highest seq stored (with everything it raised): what the watch is acked. */
  contiguousSeq: number;
  /** Highest seq accepted and stepped through the engine (stored or not). */
  private acceptedSeq: number;
  private readonly normalizer: LiveNormalizer;
  private readonly out: LiveBatchOutput = createLiveBatchOutput();
  /** Reused for every sample read back from columns. */
  private readonly row: Sample = emptySample();
  private engine!: Engine;
  /** t of the last sample pushed into the engine (-1 before the first). */
  private lastPushedT = -1;
  /** Events accepted but not yet applied: sorted by t. */
  private pending: RunEvent[] = [];
  /** Event keys this session knows: stored (write null) or waiting for their write. */
  private readonly eventKeys = new Map<string, { t: number; write: Write | null }>();
  /** Writes not yet done, oldest first. */
  private writes: Write[] = [];
  private writing = false;
  private unstoredSamples = 0;
  private unstoredEvents = 0;
  private flushWaiters: Array<() => void> = [];
  /** The current run of failed attempts (for the back-off and to log once per outage). */
  private failures = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private batchesSinceCheckpoint = 0;
  private batchesUntilCheckpoint: number;
  private ended = false;
  /** The engine's open tick was closed by `end` and no sample came since (an `end` refused for want of a store is sent again). */
  private tickClosed = false;
  latestRisk: RiskPoint | null = null;
  /**
   * The risk points this process has seen for the run (the whole run, or since the checkpoint it was rebuilt
   * from), so a dashboard that opens mid-run gets the history (`follow` ack). Thinned to every other point past
   * {@link RISK_HISTORY_MAX}: amortised O(1) a batch, bounded memory (~1 MB).
   */
  readonly riskHistory: RiskPoint[] = [];
  /** How the session was opened: the checkpoint seq it restored from (0 = none) and the batches replayed. */
  rebuild = { checkpointSeq: 0, replayedSamples: 0 };
  lastActivity: number;
  /** When this session was opened in this process (ms since epoch). */
  readonly openedAt: number;
  private readonly clock: LiveClock;
  // What the engine produced during the current step (the sink writes here).
  private producedAlerts: Alert[] = [];
  private producedRisk: RiskPoint[] = [];
  private producedCramps: CrampContext[] = [];
  private readonly sink: EngineSink & { cramp(context: CrampContext): void };

  private constructor(
    private readonly deps: LiveDeps,
    record: RunRecord,
    normalizerState: Partial<LiveNormalizerState>,
  ) {
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.lastActivity = this.openedAt = this.clock.now();
    this.athleteId = record.athleteId;
    this.id = record.id;
    this.clientRunId = record.clientRunId ?? record.id;
    this.options = record.options ?? {};
    this.contiguousSeq = record.contiguousSeq;
    this.acceptedSeq = record.contiguousSeq;
    this.batchesUntilCheckpoint = firstCheckpointAfter(record.id);
    this.normalizer = createLiveNormalizer(normalizerState);
    this.sink = {
      alert: (a) => void this.producedAlerts.push(a),
      risk: (p) => void this.producedRisk.push(p),
      cramp: (c) => void this.producedCramps.push(c),
    };
  }

  /** Opens a session for a stored live run: a fresh engine, or one rebuilt from the checkpoint and samples. */
  static async load(deps: LiveDeps, record: RunRecord): Promise<LiveSession> {
    const { store } = deps;
    const checkpoint = await store.getCheckpoint(record.athleteId, record.id);
    const saved = checkpoint?.snapshot as CheckpointState | undefined;
    const usable = saved?.version === 1 && checkpoint!.seq <= record.contiguousSeq ? saved : undefined;
    const startMs = record.startTime ? Date.parse(record.startTime) : null;
    const afterSeq = usable ? checkpoint!.seq : 0;
    const [cols, events] = await Promise.all([
      store.readSamples(record.athleteId, record.id, { afterSeq, throughSeq: record.contiguousSeq }),
      store.listEvents(record.athleteId, record.id),
    ]);
    const lastStoredT = cols && cols.length > 0 ? cols.t[cols.length - 1]! : (usable?.lastT ?? -1);
    const normalizerState: Partial<LiveNormalizerState> = usable
      ? { ...usable.normalizer, lastT: lastStoredT >= 0 ? lastStoredT : usable.normalizer.lastT }
      : { startMs: Number.isFinite(startMs) ? startMs : null, lastT: lastStoredT >= 0 ? lastStoredT : null };
    const session = new LiveSession(deps, record, normalizerState);
    let restored = false;
    if (usable) {
      try {
        session.engine = restoreEngine(usable.engine, session.sink);
        session.lastPushedT = usable.lastT;
        restored = true;
      } catch (err) {
        deps.log.warn({ err, runId: record.id }, 'checkpoint unusable: rebuilding from all samples');
      }
    }
    for (const e of events ?? []) session.eventKeys.set(e.key, { t: e.event.t, write: null });
    const allEvents = (events ?? []).map((e) => e.event);
    if (!restored) {
      session.engine = createEngine(session.options, session.sink);
      session.pending = allEvents;
      const all = afterSeq === 0 ? cols : await store.readSamples(record.athleteId, record.id, { throughSeq: record.contiguousSeq });
      session.replayStored(all);
    } else {
      // Events at or after the checkpoint's last sample had not taken effect yet.
      session.pending = allEvents.filter((e) => e.t >= session.lastPushedT);
      session.replayStored(cols);
    }
    session.rebuild = {
      checkpointSeq: restored ? checkpoint!.seq : 0,
      replayedSamples: (restored || afterSeq === 0 ? cols?.length : undefined) ?? 0,
    };
    // Alerts raised while rebuilding were raised (and logged) before the restart; the log is idempotent by id.
    const rebuilt = session.takeProduced();
    if (rebuilt.alerts.length) await store.appendAlerts(record.athleteId, record.id, rebuilt.alerts);
    for (const c of rebuilt.cramps) await session.journalCramp(c);
    session.latestRisk = rebuilt.risk.at(-1) ?? null;
    session.keepRisk(rebuilt.risk);
    return session;
  }

  private replayStored(cols: SampleColumns | null): void {
    if (!cols) return;
    for (let i = 0; i < cols.length; i++) this.pushSample(readRow(cols, i, this.row));
  }

  /** Applies due events, then the sample. */
  private pushSample(s: Sample): void {
    while (this.pending.length > 0 && this.pending[0]!.t < s.t) this.engine.event(this.pending.shift()!);
    this.engine.push(s);
    this.lastPushedT = s.t;
    this.tickClosed = false;
  }

  private takeProduced() {
    const produced = { alerts: this.producedAlerts, risk: this.producedRisk, cramps: this.producedCramps };
    this.producedAlerts = [];
    this.producedRisk = [];
    this.producedCramps = [];
    return produced;
  }

  /** Runs `op` after every `end` that arrived before it. */
  private chain<T>(op: () => Promise<T>): Promise<Outcome<T>> {
    this.queued++;
    const result = this.tail.then(op).then(
      (value): Outcome<T> => ({ ok: true, value }),
      (err): Outcome<T> => {
        if (err instanceof LiveError) return { ok: false, error: err };
        // A read or write that failed for want of a store: nothing changed in memory, the run stays open.
        if (err instanceof StoreError && RETRIABLE.has(err.code)) {
          return { ok: false, error: new LiveError('STORE_UNAVAILABLE', 'could not store: resend later') };
        }
        this.broken(err);
        return { ok: false, error: new LiveError('INTERNAL', 'internal error: send start and resend') };
      },
    );
    this.tail = result.finally(() => this.queued--);
    return result;
  }

  /** A failure leaves memory ahead of the store: drop the session; the watch's next start rebuilds it. */
  private broken(err: unknown): void {
    if (this.ended) return;
    this.deps.log.error({ err, runId: this.id }, 'live run failed: session dropped, will rebuild on resume');
    this.drop(new LiveError('INTERNAL', 'internal error: send start and resend'));
  }

  /** Set by the registry: forget this session. */
  onClose: (() => void) | undefined;

  isOpen(): boolean {
    return !this.ended;
  }

  /** Unstored samples this session holds. */
  get backlogSamples(): number {
    return this.unstoredSamples;
  }

  /**
   * The refusal past a cap: STORE_UNAVAILABLE while the store's writes fail (an outage), RATE_LIMITED when they
   * do not (the watch sends faster than the store takes it). Either way nothing was stepped; resend later.
   */
  private behind(what: string): LiveError {
    return this.failures > 0 || this.deps.backlog.degraded
      ? new LiveError('STORE_UNAVAILABLE', `the store is unavailable and ${what}: resend later (the seq stays free)`)
      : new LiveError('RATE_LIMITED', `too much in flight for this run (${what}): resend later (the seq stays free)`);
  }

  private closedError(): LiveError {
    return new LiveError('UNKNOWN_RUN', 'this run is not open here: send start to resume');
  }

  /**
   * A sample batch (validated by the caller). Refusals are synchronous; an accepted batch is stepped through
   * the engine at once (its alerts and risk go out now) and answered once stored.
   */
  submitBatch(seq: number, samples: readonly WireSample[]): Promise<Outcome<BatchAnswer>> {
    if (this.ended) return Promise.resolve({ ok: false, error: this.closedError() });
    this.lastActivity = this.clock.now();
    if (seq <= this.contiguousSeq) {
      return Promise.resolve({ ok: true, value: { contiguousSeq: this.contiguousSeq, duplicate: true } });
    }
    if (seq <= this.acceptedSeq) {
      // Resent while still in memory (or the same seq from another socket of the athlete): not stepped again;
      // every copy is answered when the write is done, so each sender gets its own ack.
      const write = this.writes.find((w) => w.kind === 'batch' && w.seq === seq);
      if (!write || write.kind !== 'batch') return Promise.resolve({ ok: false, error: this.closedError() });
      return new Promise((resolve) => addWaiter(write.waiters, resolve));
    }
    if (seq > this.acceptedSeq + 1) {
      const expected = this.acceptedSeq + 1;
      return Promise.resolve({ ok: false, error: new LiveError('SEQ_GAP', `expected seq ${expected}, got ${seq}: resend from ${expected}`, expected) });
    }
    const { backlog } = this.deps;
    // Caps on unstored samples (checked before anything is stepped). A run with nothing unstored may always
    // hold one batch, so a cap below the batch size cannot lock a run out.
    const overRun = this.unstoredSamples > 0 && this.unstoredSamples + samples.length > backlog.maxRunSamples;
    if (overRun || backlog.samples + samples.length > backlog.maxSamples) {
      return Promise.resolve({ ok: false, error: this.behind(`${this.unstoredSamples} samples of this run wait to be stored`) });
    }
    const out = this.normalizer.push(samples, this.out);
    if (out.accepted === 0) {
      return Promise.resolve({
        ok: false,
        error: new LiveError('SAMPLE_INVALID', 'no sample in the batch is later than the last one stored: the seq stays free'),
      });
    }
    this.acceptedSeq = seq;
    const cols = toColumns(out.samples);
    const row = this.row;
    for (let i = 0; i < cols.length; i++) this.pushSample(readRow(cols, i, row));
    this.deps.metrics.samples(cols.length);
    const produced = this.takeProduced();
    let checkpoint: CheckpointState | null = null;
    this.batchesSinceCheckpoint++;
    if (--this.batchesUntilCheckpoint <= 0) {
      this.batchesSinceCheckpoint = 0;
      this.batchesUntilCheckpoint = CHECKPOINT_EVERY_BATCHES;
      checkpoint = this.state();
    }
    return new Promise((resolve) => {
      this.enqueue({
        kind: 'batch',
        seq,
        cols,
        alerts: produced.alerts,
        cramps: produced.cramps,
        checkpoint,
        attempts: 0,
        stored: false,
        waiters: [{ resolve, duplicate: false }],
      });
      this.emit(seq, cols, produced);
    });
  }

  keepRisk(points: readonly RiskPoint[]): void {
    for (const p of points) this.riskHistory.push(p);
    if (this.riskHistory.length > RISK_HISTORY_MAX) {
      let w = 0;
      for (let r = 0; r < this.riskHistory.length; r += 2) this.riskHistory[w++] = this.riskHistory[r]!;
      this.riskHistory.length = w;
    }
  }

  /** Sends what the engine just produced to the watch and followers: before it is stored. */
  private emit(seq: number, cols: SampleColumns | null, produced: { alerts: Alert[]; risk: RiskPoint[] }): void {
    const { output, metrics } = this.deps;
    if (produced.risk.length) this.latestRisk = produced.risk.at(-1)!;
    if (produced.risk.length) this.keepRisk(produced.risk);
    if (cols && output.wantsSamples(this)) output.samples(this, seq, columnsToSamples(cols));
    if (produced.risk.length) output.risk(this, produced.risk);
    if (produced.alerts.length) {
      for (const a of produced.alerts) metrics.prompt(a.kind);
      output.alerts(this, produced.alerts);
    }
  }

  private state(): CheckpointState {
    return { version: 1, engine: this.engine.snapshot(), normalizer: this.normalizer.state(), lastT: this.lastPushedT };
  }

  private enqueue(write: Write): void {
    this.writes.push(write);
    this.deps.backlog.writes++;
    if (write.kind === 'batch') {
      this.unstoredSamples += write.cols.length;
      this.deps.backlog.samples += write.cols.length;
    } else if (write.kind === 'event') this.unstoredEvents++;
    void this.drain();
  }

  /** Removes the oldest write (done, or dropped with the session). */
  private dequeue(): Write {
    const write = this.writes.shift()!;
    this.deps.backlog.writes--;
    if (write.kind === 'batch') {
      this.unstoredSamples -= write.cols.length;
      this.deps.backlog.samples -= write.cols.length;
    } else if (write.kind === 'event') this.unstoredEvents--;
    return write;
  }

  /** Writes the queue in order, one group of batches at a time, retrying while the store is unavailable. */
  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.writes.length > 0 && !this.ended) {
        const head = this.writes[0]!;
        if (head.kind === 'batch') await this.writeBatches();
        else if (head.kind === 'event') await this.writeEvent(head);
        else {
          await this.writeRaised(head, head.alerts, head.cramps);
          this.dequeue();
        }
      }
    } catch (err) {
      if (err !== DROPPED) this.refused(err);
    } finally {
      this.writing = false;
      if (this.writes.length === 0 || this.ended) {
        const waiters = this.flushWaiters;
        this.flushWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Stores the leading batches in one group commit, then what each raised, and acks them in order. */
  private async writeBatches(): Promise<void> {
    const group: Array<Extract<Write, { kind: 'batch' }>> = [];
    for (const w of this.writes) {
      if (w.kind !== 'batch') break;
      group.push(w);
    }
    const todo = group.filter((w) => !w.stored);
    if (todo.length) {
      const results = await this.retrying(todo, () =>
        Promise.all(todo.map((w) => this.deps.commit.add({ athleteId: this.athleteId, runId: this.id, seq: w.seq, samples: w.cols }))),
      );
      todo.forEach((w, k) => {
        const status = results[k]!.status;
        // After a failed attempt `duplicate` means that attempt did commit (the answer was lost on the way).
        if (status === 'stored' || (status === 'duplicate' && w.attempts > 1)) w.stored = true;
        else if (status === 'not_found') throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
        else if (status === 'not_live') throw new LiveError('RUN_ENDED', 'the run has ended');
        else if (status === 'invalid') throw new LiveError('SAMPLE_INVALID', 'the store refused the batch');
        // A seq this session took as new was already stored: another process has this run too, so this
        // engine is not the store's. Drop the session; the watch's next start rebuilds it from the store.
        else throw new LiveError('UNKNOWN_RUN', 'this run moved to another server process: send start to resume');
      });
    }
    for (const w of group) {
      await this.writeRaised(w, w.alerts, w.cramps);
      if (this.ended) throw DROPPED;
      this.dequeue();
      this.contiguousSeq = w.seq;
      if (w.checkpoint) this.saveCheckpoint(w.seq, w.checkpoint);
      // The alerts ride on the ack as well: the push may be lost between processes, the ack is not.
      const alerts = w.alerts.length ? w.alerts.map((a) => ({ ...a, runId: this.clientRunId })) : null;
      for (const { resolve, duplicate } of w.waiters) {
        resolve({ ok: true, value: { contiguousSeq: w.seq, duplicate, ...(alerts ? { alerts } : {}) } });
      }
    }
  }

  private async writeEvent(w: Extract<Write, { kind: 'event' }>): Promise<void> {
    const added = await this.retrying([w], () => this.deps.store.appendEvents(this.athleteId, this.id, [{ key: w.key, event: w.event }]));
    if (added === null) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
    // Already stored before this session's first attempt: another process took this run (see writeBatches).
    if (added === 0 && w.attempts <= 1) throw new LiveError('UNKNOWN_RUN', 'this run moved to another server process: send start to resume');
    this.dequeue();
    const known = this.eventKeys.get(w.key);
    if (known) known.write = null;
    for (const { resolve, duplicate } of w.waiters) resolve({ ok: true, value: { t: w.event.t, duplicate } });
  }

  /** Stores alerts (the log is idempotent by id) and cramp journal entries the engine raised. */
  private async writeRaised(w: Write, alerts: Alert[], cramps: CrampContext[]): Promise<void> {
    if (alerts.length) {
      const stored = await this.retrying([w], () => this.deps.store.appendAlerts(this.athleteId, this.id, alerts));
      if (stored === null) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
    }
    for (const c of cramps) await this.retrying([w], () => this.journalCramp(c));
  }

  /** Runs `attempt` until it succeeds, sleeping between tries while the store is unavailable. */
  private async retrying<T>(writes: Write[], attempt: () => Promise<T>): Promise<T> {
    const { backlog, log } = this.deps;
    for (;;) {
      if (this.ended) throw DROPPED;
      for (const w of writes) w.attempts++;
      try {
        const value = await attempt();
        if (this.failures > 0) log.info({ runId: this.id, failures: this.failures }, 'live run: store writes resumed');
        this.failures = 0;
        backlog.succeeded();
        return value;
      } catch (err) {
        if (!(err instanceof StoreError) || !RETRIABLE.has(err.code)) throw err;
        backlog.failed(err, this.clock.now());
        if (this.failures++ === 0) {
          log.warn({ err, runId: this.id, unstoredSamples: this.unstoredSamples }, 'live run: store write failed, retrying (prompts go on from memory)');
        }
        const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.failures - 1, 10)) * (0.5 + Math.random() / 2);
        await new Promise<void>((resolve) => this.clock.after(delay, resolve));
      }
    }
  }

  /** The store refused for good while the engine was ahead of it: drop the session, answer what waited. */
  private refused(err: unknown): void {
    if (err instanceof LiveError) {
      this.deps.log.warn({ runId: this.id, code: err.code, reason: err.message }, 'live run refused by the store: session dropped');
      this.drop(err);
    } else if (err instanceof StoreError && err.code === 'STORE_BAD_INPUT') {
      // A foreign key failed: the run was deleted between the write's checks.
      this.drop(new LiveError('UNKNOWN_RUN', 'the run was deleted'));
    } else {
      this.broken(err);
    }
  }

  /** Closes the session now: the oldest waiting write gets `first`, every other one UNKNOWN_RUN. */
  private drop(first: LiveError): void {
    if (this.ended) return;
    this.ended = true;
    let error: LiveError = first;
    while (this.writes.length > 0) {
      const w = this.dequeue();
      if (w.kind !== 'alerts') for (const { resolve } of w.waiters) resolve({ ok: false, error });
      error = this.closedError();
    }
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
    this.onClose?.();
  }

  /**
   * Resolves true once every write accepted so far is done, false if that takes longer than `timeoutMs`
   * (the store is unavailable) or the session closes first.
   */
  flushed(timeoutMs: number): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    if (this.writes.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancel = this.clock.after(timeoutMs, () => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== done);
        resolve(false);
      });
      const done = () => {
        cancel();
        resolve(!this.ended && this.writes.length === 0);
      };
      this.flushWaiters.push(done);
    });
  }

  private async journalCramp(c: CrampContext): Promise<void> {
    await this.deps.store.addJournalEntry(this.athleteId, {
      id: `live-${this.id}-${Math.round(c.t * 1000)}`.slice(0, 128),
      runId: this.id,
      t: c.t,
      muscle: c.muscle ?? 'unknown',
      severity: c.severity ?? 3,
      note: 'reported from the watch',
      context: c as unknown as Record<string, unknown>,
    });
  }

  private saveCheckpoint(seq: number, state: CheckpointState): void {
    this.deps.store.saveCheckpoint(this.athleteId, this.id, seq, state).catch((err: unknown) => {
      this.deps.log.warn({ err, runId: this.id }, 'checkpoint not saved');
    });
  }

  /** An event; its key makes a resend harmless. It takes effect at once (in order) and is answered once stored. */
  submitEvent(key: string, event: RunEvent): Promise<Outcome<EventAnswer>> {
    if (this.ended) return Promise.resolve({ ok: false, error: this.closedError() });
    this.lastActivity = this.clock.now();
    const known = this.eventKeys.get(key);
    if (known) {
      const write = known.write;
      if (!write || write.kind !== 'event') return Promise.resolve({ ok: true, value: { t: known.t, duplicate: true } });
      return new Promise((resolve) => addWaiter(write.waiters, resolve));
    }
    if (this.unstoredEvents >= MAX_UNSTORED_EVENTS_PER_RUN) {
      return Promise.resolve({ ok: false, error: this.behind(`${this.unstoredEvents} events of this run wait to be stored`) });
    }
    // The normaliser has seen every sample that arrived before this event.
    const lastT = this.normalizer.state().lastT ?? 0;
    const effective: RunEvent = event.t < lastT ? { ...event, t: lastT } : event;
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.t > effective.t) i--;
    this.pending.splice(i, 0, effective);
    return new Promise((resolve) => {
      const write: Write = { kind: 'event', key, event: effective, attempts: 0, waiters: [{ resolve, duplicate: false }] };
      this.eventKeys.set(key, { t: effective.t, write });
      this.enqueue(write);
    });
  }

  /** Ends the run: applies the remaining events, waits for the run's writes, analyses the stored run. */
  end(): Promise<Outcome<Report>> {
    if (this.ended) return Promise.resolve({ ok: false, error: this.closedError() });
    if (this.queued >= MAX_QUEUED_PER_RUN) {
      return Promise.resolve({ ok: false, error: new LiveError('RATE_LIMITED', 'too many messages in flight for this run') });
    }
    this.lastActivity = this.clock.now();
    return this.chain(async () => {
      if (this.ended) throw this.closedError();
      // The rest of the events, then the closing tick, exactly as the file path ends (ingest/feed.ts, analyzeRun).
      const closing = this.pending.length > 0 || !this.tickClosed;
      while (this.pending.length > 0) this.engine.event(this.pending.shift()!);
      if (!this.tickClosed) {
        this.tickClosed = true;
        this.engine.finish();
      }
      if (closing) {
        const produced = this.takeProduced();
        this.emit(this.acceptedSeq, null, produced);
        if (produced.alerts.length || produced.cramps.length) {
          this.enqueue({ kind: 'alerts', alerts: produced.alerts, cramps: produced.cramps, attempts: 0 });
        }
      }
      if (!(await this.flushed(END_WAIT_MS))) {
        if (this.ended) throw this.closedError();
        throw new LiveError('STORE_UNAVAILABLE', 'the store is not keeping up: the run stays open, send end again later');
      }
      const { store, analyzer } = this.deps;
      const [cols, events, record] = await Promise.all([
        store.readSamples(this.athleteId, this.id, { throughSeq: this.contiguousSeq }),
        store.listEvents(this.athleteId, this.id),
        store.getRun(this.athleteId, this.id),
      ]);
      if (!cols || !events || !record) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      const run = liveRunToNormalized(cols, events.map((e) => e.event), record.startTime, this.normalizer);
      const report = stampReport(await analyzer.analyzeRun(run, this.options), this.options);
      const ended = await store.endLiveRun(this.athleteId, this.id, { report, meta: run.meta });
      if (!ended) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      // The athlete model learns from the run (its summary row); a failure here loses no run data.
      await recordRunSummary(store, this.athleteId, this.id, run).catch((err: unknown) => {
        this.deps.log.warn({ err, runId: this.id }, 'athlete model: run summary not stored (re-analysis adds it)');
      });
      this.ended = true;
      this.deps.output.ended(this);
      this.onClose?.();
      return report;
    });
  }

  /**
   * Resolves true once every message received so far has been handled and stored, false when the store did
   * not take it within `timeoutMs`.
   */
  async settled(timeoutMs = END_WAIT_MS): Promise<boolean> {
    await this.tail;
    return this.flushed(timeoutMs);
  }

  /** Forgets the session without saving anything (it is behind the store, or another process has the run). */
  discard(): void {
    this.drop(this.closedError());
  }

  /**
   * Saves a checkpoint and closes (idle eviction, hand-over, shutdown). Waits up to `waitMs` for the run's
   * writes; what is still unstored then stays with the watch, which resends it after its next start.
   */
  async close(waitMs = 5000): Promise<void> {
    if (this.ended) return;
    await this.tail;
    const flushed = await this.flushed(waitMs);
    if (this.ended) return;
    if (flushed && this.writes.length === 0 && this.batchesSinceCheckpoint > 0) {
      // Nothing unstored: the engine is exactly at contiguousSeq.
      const state = this.state();
      this.ended = true;
      await this.deps.store.saveCheckpoint(this.athleteId, this.id, this.contiguousSeq, state).catch(() => {});
      this.onClose?.();
      return;
    }
    this.drop(this.closedError());
  }
}

/** Copies a normaliser's output (reused between batches) into columns the store keeps. */
function toColumns(samples: readonly Sample[]): SampleColumns {
  const cols = allocColumns(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    cols.t[i] = s.t;
    cols.timestamp[i] = s.timestamp;
    for (const c of CHANNELS) cols[c][i] = s[c];
    cols.lat[i] = s.lat;
    cols.lon[i] = s.lon;
  }
  return cols;
}

function columnsToSamples(cols: SampleColumns): Sample[] {
  const rows: Sample[] = new Array(cols.length);
  for (let i = 0; i < cols.length; i++) rows[i] = readRow(cols, i, emptySample());
  return rows;
}

/** A finished live run in the shape the FIT path produces, for `analyzeRun` and the store. */
export function liveRunToNormalized(
  samples: SampleColumns,
  events: RunEvent[],
  startTime: string | null,
  normalizer: LiveNormalizer | null,
): NormalizedRun {
  const n = samples.length;
  const firstT = n > 0 ? samples.t[0]! : 0;
  const lastT = n > 0 ? samples.t[n - 1]! : 0;
  const pauses: { startT: number; endT: number }[] = [];
  const laps: { startT: number; endT: number; distanceM: number | null }[] = [];
  let pausedAt: number | null = null;
  let lapStart = firstT;
  for (const e of events) {
    if (e.type === 'pause' && pausedAt === null) pausedAt = e.t;
    else if (e.type === 'resume' && pausedAt !== null) {
      pauses.push({ startT: pausedAt, endT: e.t });
      pausedAt = null;
    } else if (e.type === 'lap') {
      laps.push({ startT: lapStart, endT: e.t, distanceM: null });
      lapStart = e.t;
    }
  }
  if (pausedAt !== null && pausedAt < lastT) pauses.push({ startT: pausedAt, endT: lastT });
  if (laps.length > 0 && lapStart < lastT) laps.push({ startT: lapStart, endT: lastT, distanceM: null });
  let distanceM: number | null = null;
  for (let i = n - 1; i >= 0; i--) {
    if (!Number.isNaN(samples.distance[i]!)) {
      distanceM = samples.distance[i]!;
      break;
    }
  }
  const elapsedS = lastT - firstT;
  const pausedS = pauses.reduce((sum, p) => sum + (p.endT - p.startT), 0);
  const meta: RunMeta = {
    sport: 'running',
    subSport: null,
    manufacturer: null,
    product: null,
    startTime,
    elapsedS,
    timerS: Math.max(0, elapsedS - pausedS),
    distanceM,
    laps,
    pauses,
    legs: [{ sport: 'running', subSport: null, startT: firstT, endT: lastT, running: true }],
  };
  const channels: Channel[] = CHANNELS.filter((c) => {
    const col = samples[c];
    for (let i = 0; i < n; i++) if (!Number.isNaN(col[i]!)) return true;
    return false;
  });
  return { meta, samples, rr: null, events, channels, warnings: normalizer ? normalizer.warnings() : [] };
}
