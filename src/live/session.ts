/**
 * One open live run: the run's engine and live normaliser. A batch is stepped through the engine the moment it
 * is accepted, so prompts reach the watch at once, from memory ({@link LiveOutput}); it is stored behind that
 * (src/live/write-queue.ts: group commit, retried while the database is unavailable) and acked only once stored.
 *
 * The rules kept here:
 * - **Seq.** Batches count from 1 with no gaps. A seq already stored is answered `duplicate` at once; a seq
 *   accepted but not stored yet (a resend, or the same seq from a second socket of the athlete) is not stepped
 *   again, it waits for the same write; a seq beyond the next is refused `SEQ_GAP` with `expectedSeq`.
 * - **Order.** A batch is checked (seq, caps, normaliser) and stepped synchronously on arrival, so the engine sees
 *   batches and events in the order the watch sent them. Events follow the engine's rule (an event at `t` takes
 *   effect after every sample with `sample.t <= t`): they wait in `pending` until a later sample comes. An event
 *   that arrives after later samples is moved to the last sample's time, and stored that way, so a rebuild from
 *   the store (src/live/rebuild.ts) replays exactly what the live engine saw.
 * - **Bounded memory.** Past a cap on unstored samples (src/live/backlog.ts) or events a new message is refused
 *   before anything is stepped (its seq stays free): STORE_UNAVAILABLE in an outage, RATE_LIMITED otherwise.
 * - **End.** `end` applies the remaining events and closes the engine's last tick as the file path does
 *   (`Engine.finish`, once: an `end` sent again after a refusal does not close it twice, a new sample reopens it),
 *   waits for the run's writes, and analyses the stored run as an upload is analysed.
 * @module
 */
import type { Logger } from 'pino';
import { createEngine, restoreEngine } from '../../alerts/engine.js';
import type { Alert, AlertKind, CrampContext, Engine, EngineOptions, EngineSink, Report, RiskPoint } from '../../alerts/types.js';
import {
  createLiveBatchOutput,
  createLiveNormalizer,
  MAX_BATCH_SAMPLES,
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
  type NormalizedRun,
  type RunEvent,
  type Sample,
  type SampleColumns,
} from '../../ingest/sample.js';
import { encodeChunkOf, type EncodedChunk } from '../store/codec.js';
import { StoreError, type RunRecord, type Store } from '../store/types.js';
import type { LiveBacklog } from './backlog.js';
import { SYSTEM_CLOCK, type LiveClock } from './clock.js';
import { LiveError, type Outcome } from './errors.js';
import { liveRunToNormalized } from './finished-run.js';
import type { GroupCommit } from './group-commit.js';
import { CHECKPOINT_EVERY_BATCHES, firstCheckpointAfter, readRebuildSource, type CheckpointState } from './rebuild.js';
import { RiskPushGate } from './risk-push.js';
import { RiskTrail } from './risk-trail.js';
import { journalCramp, RETRIABLE, WriteQueue, type Answer, type BatchAnswer, type EventAnswer } from './write-queue.js';

export type { Answer, BatchAnswer, EventAnswer } from './write-queue.js';

/** Most `end` messages waiting in one run's chain; beyond it the watch is flooding. */
const MAX_QUEUED_PER_RUN = 64;
/** Unstored events one run may hold (each is a few hundred bytes; a watch sends a few an hour). */
const MAX_UNSTORED_EVENTS_PER_RUN = 256;
/** How long `end` waits for the run's writes before answering STORE_UNAVAILABLE (the run stays open), ms. */
const END_WAIT_MS = 10_000;

/** Where a session's output goes (the transport); called as soon as the engine produced it, before it is stored. */
export interface LiveOutput {
  alerts(session: LiveSession, alerts: readonly Alert[]): void;
  /** A risk point the watch face would show differently, or a minute on (src/live/risk-push.ts). */
  risk(session: LiveSession, point: RiskPoint): void;
  /** Whether anyone follows the run's samples (they are copied into objects only then). */
  wantsSamples(session: LiveSession): boolean;
  samples(session: LiveSession, seq: number, samples: readonly Sample[]): void;
  ended(session: LiveSession): void;
}

/** What becomes of a run whose samples are all stored. */
export interface RunFinisher {
  /** Analyses the run as an upload is analysed (the server's pool; the report stamped with the athlete model). */
  analyze(run: NormalizedRun, options: EngineOptions): Promise<Report>;
  /** Stores what the athlete model learns from the run (its summary row). */
  learn(athleteId: string, runId: string, run: NormalizedRun): Promise<void>;
}

/** The counters a session feeds. */
export interface LiveMetrics {
  samples(n: number): void;
  prompt(kind: AlertKind): void;
}

export interface LiveDeps {
  /** @default SYSTEM_CLOCK */
  clock?: LiveClock;
  store: Store;
  commit: GroupCommit;
  backlog: LiveBacklog;
  finisher: RunFinisher;
  metrics: LiveMetrics;
  log: Logger;
  output: LiveOutput;
}

/**
 * Scratch for every session of the process: a batch's samples are normalised, stepped and encoded without an
 * await, and nothing keeps the Sample objects (the samples push copies them), so one set serves all runs. Kept
 * per session, each held the largest batch it had seen (30 objects of 12 boxed doubles after a 30-sample
 * message): about a third of the heap's objects at 2,000 runs, all of them marked by every major GC.
 */
const BATCH_SCRATCH: LiveBatchOutput = createLiveBatchOutput();
/** The same for the samples read back from the store when a run is rebuilt (also without an await). */
const ROW_SCRATCH: Sample = emptySample();

interface Produced {
  alerts: Alert[];
  risk: RiskPoint[];
  cramps: CrampContext[];
}

/**
 * A batch that raised nothing: one frozen value for all (fresh empty arrays each batch lived until the run's next
 * message, long enough to be promoted out of V8's young generation: ~140 bytes a message).
 */
const NOTHING_PRODUCED: Produced = Object.freeze({
  alerts: Object.freeze([]) as unknown as Alert[],
  risk: Object.freeze([]) as unknown as RiskPoint[],
  cramps: Object.freeze([]) as unknown as CrampContext[],
});

/** One open live run. */
export class LiveSession {
  readonly athleteId: string;
  /** Server run id. */
  readonly id: string;
  readonly clientRunId: string;
  readonly options: EngineOptions;
  /** Highest seq accepted and stepped through the engine (stored or not). */
  private acceptedSeq: number;
  private readonly normalizer: LiveNormalizer;
  private engine!: Engine;
  /** t of the last sample pushed into the engine (-1 before the first). */
  private lastPushedT = -1;
  /** Events accepted but not yet applied: sorted by t. */
  private pending: RunEvent[] = [];
  private readonly queue: WriteQueue;
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
   * from), so a dashboard that opens mid-run gets the history (`follow` ack). Packed, and thinned past a day's worth.
   */
  readonly riskTrail = new RiskTrail();
  private readonly riskPush = new RiskPushGate();
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

  /** Set by the registry: forget this session. */
  onClose: (() => void) | undefined;

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
    this.acceptedSeq = record.contiguousSeq;
    this.batchesUntilCheckpoint = firstCheckpointAfter(record.id);
    this.normalizer = createLiveNormalizer(normalizerState);
    this.queue = new WriteQueue(this, record.contiguousSeq, { ...deps, clock: this.clock }, {
      refused: (error) => {
        deps.log.warn({ runId: this.id, code: error.code, reason: error.message }, 'live run refused by the store: session dropped');
        this.drop(error);
      },
      broken: (err) => this.broken(err),
    });
    this.sink = {
      alert: (a) => void this.producedAlerts.push(a),
      risk: (p) => void this.producedRisk.push(p),
      cramp: (c) => void this.producedCramps.push(c),
    };
  }

  /** Opens a session for a stored live run: a fresh engine, or one rebuilt from the checkpoint and samples. */
  static async load(deps: LiveDeps, record: RunRecord): Promise<LiveSession> {
    const { store } = deps;
    const source = await readRebuildSource(store, record);
    const { checkpoint, cols } = source;
    const session = new LiveSession(deps, record, source.normalizerState);
    let restored = false;
    if (checkpoint) {
      try {
        session.engine = restoreEngine(checkpoint.state.engine, session.sink);
        session.lastPushedT = checkpoint.state.lastT;
        restored = true;
      } catch (err) {
        deps.log.warn({ err, runId: record.id }, 'checkpoint unusable: rebuilding from all samples');
      }
    }
    for (const e of source.events) session.queue.storedEvent(e.key, e.event.t);
    const allEvents = source.events.map((e) => e.event);
    if (!restored) {
      session.engine = createEngine(session.options, session.sink);
      session.pending = allEvents;
      const all = source.afterSeq === 0 ? cols : await store.readSamples(record.athleteId, record.id, { throughSeq: record.contiguousSeq });
      session.replayStored(all);
    } else {
      // Events at or after the checkpoint's last sample had not taken effect yet.
      session.pending = allEvents.filter((e) => e.t >= session.lastPushedT);
      session.replayStored(cols);
    }
    session.rebuild = {
      checkpointSeq: restored ? checkpoint!.seq : 0,
      replayedSamples: (restored || source.afterSeq === 0 ? cols?.length : undefined) ?? 0,
    };
    // Alerts raised while rebuilding were raised (and logged) before the restart; the log is idempotent by id.
    const rebuilt = session.takeProduced();
    if (rebuilt.alerts.length) await store.appendAlerts(record.athleteId, record.id, rebuilt.alerts);
    for (const c of rebuilt.cramps) await journalCramp(store, session, c);
    session.latestRisk = rebuilt.risk.at(-1) ?? null;
    session.keepRisk(rebuilt.risk);
    return session;
  }

  /** Highest seq stored (with everything it raised): what the watch is acked. */
  get contiguousSeq(): number {
    return this.queue.contiguousSeq;
  }

  /** Unstored samples this session holds. */
  get backlogSamples(): number {
    return this.queue.samples;
  }

  isOpen(): boolean {
    return !this.ended;
  }

  private replayStored(cols: SampleColumns | null): void {
    if (!cols) return;
    for (let i = 0; i < cols.length; i++) this.pushSample(readRow(cols, i, ROW_SCRATCH));
  }

  /** Applies due events, then the sample. */
  private pushSample(s: Sample): void {
    while (this.pending.length > 0 && this.pending[0]!.t < s.t) this.engine.event(this.pending.shift()!);
    this.engine.push(s);
    this.lastPushedT = s.t;
    this.tickClosed = false;
  }

  /** What the engine raised since the last call; most batches raise nothing and share {@link NOTHING_PRODUCED}. */
  private takeProduced(): Produced {
    if (this.producedAlerts.length === 0 && this.producedRisk.length === 0 && this.producedCramps.length === 0) return NOTHING_PRODUCED;
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

  /** Closes the session now: the oldest waiting write gets `first`, every other one UNKNOWN_RUN. */
  private drop(first: LiveError): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.close(first, () => this.closedError());
    this.onClose?.();
  }

  /**
   * The refusal past a cap: STORE_UNAVAILABLE while the store's writes fail (an outage), RATE_LIMITED when they
   * do not (the watch sends faster than the store takes it). Either way nothing was stepped; resend later.
   */
  private behind(what: string): LiveError {
    return this.queue.failing || this.deps.backlog.degraded
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
    return new Promise((resolve) => this.stepBatch(seq, samples, resolve));
  }

  /** {@link submitBatch} with a callback: `answer` is called once, synchronously for a refusal. */
  stepBatch(seq: number, samples: readonly WireSample[], answer: Answer<BatchAnswer>): void {
    if (this.ended) return answer({ ok: false, error: this.closedError() });
    this.lastActivity = this.clock.now();
    if (seq <= this.contiguousSeq) return answer({ ok: true, value: { contiguousSeq: this.contiguousSeq, duplicate: true } });
    if (seq <= this.acceptedSeq) {
      // Resent while still in memory (or the same seq from another socket of the athlete): not stepped again;
      // every copy is answered when the write is done, so each sender gets its own ack.
      if (!this.queue.resendBatch(seq, answer)) answer({ ok: false, error: this.closedError() });
      return;
    }
    if (seq > this.acceptedSeq + 1) {
      const expected = this.acceptedSeq + 1;
      return answer({ ok: false, error: new LiveError('SEQ_GAP', `expected seq ${expected}, got ${seq}: resend from ${expected}`, expected) });
    }
    // Caps on unstored samples, checked before anything is stepped.
    if (this.deps.backlog.full(this.queue.samples, samples.length)) {
      return answer({ ok: false, error: this.behind(`${this.queue.samples} samples of this run wait to be stored`) });
    }
    const out = this.normalizer.push(samples, BATCH_SCRATCH);
    if (out.accepted === 0) {
      return answer({
        ok: false,
        error: new LiveError('SAMPLE_INVALID', 'no sample in the batch is later than the last one stored: the seq stays free'),
      });
    }
    this.acceptedSeq = seq;
    const accepted = out.samples;
    for (let i = 0; i < accepted.length; i++) this.pushSample(accepted[i]!);
    const chunk = encodeSamples(accepted);
    this.deps.metrics.samples(chunk.rows);
    const produced = this.takeProduced();
    let checkpoint: CheckpointState | null = null;
    this.batchesSinceCheckpoint++;
    if (--this.batchesUntilCheckpoint <= 0) {
      this.batchesSinceCheckpoint = 0;
      this.batchesUntilCheckpoint = CHECKPOINT_EVERY_BATCHES;
      checkpoint = this.state();
    }
    this.queue.addBatch(seq, chunk, produced.alerts, produced.cramps, checkpoint, answer);
    this.emit(seq, accepted, produced);
  }

  /** An event; its key makes a resend harmless. It takes effect at once (in order) and is answered once stored. */
  submitEvent(key: string, event: RunEvent): Promise<Outcome<EventAnswer>> {
    if (this.ended) return Promise.resolve({ ok: false, error: this.closedError() });
    this.lastActivity = this.clock.now();
    const resent = this.queue.resendEvent(key);
    if (resent) return resent;
    if (this.queue.events >= MAX_UNSTORED_EVENTS_PER_RUN) {
      return Promise.resolve({ ok: false, error: this.behind(`${this.queue.events} events of this run wait to be stored`) });
    }
    // The normaliser has seen every sample that arrived before this event.
    const lastT = this.normalizer.state().lastT ?? 0;
    const effective: RunEvent = event.t < lastT ? { ...event, t: lastT } : event;
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.t > effective.t) i--;
    this.pending.splice(i, 0, effective);
    return this.queue.addEvent(key, effective);
  }

  private keepRisk(points: readonly RiskPoint[]): void {
    for (const p of points) this.riskTrail.push(p);
  }

  /** Sends what the engine just produced to the watch and followers: before it is stored. */
  private emit(seq: number, samples: readonly Sample[] | null, produced: Produced): void {
    const { output, metrics } = this.deps;
    const newest = produced.risk.at(-1);
    if (newest) {
      this.latestRisk = newest;
      this.keepRisk(produced.risk);
    }
    // Copies: the normaliser reuses its sample objects for the next batch.
    if (samples && output.wantsSamples(this)) output.samples(this, seq, samples.map((x) => ({ ...x })));
    // The batch's newest point, when it changes what the watch shows.
    if (newest && this.riskPush.due(newest)) output.risk(this, newest);
    if (produced.alerts.length) {
      for (const a of produced.alerts) metrics.prompt(a.kind);
      output.alerts(this, produced.alerts);
    }
  }

  private state(): CheckpointState {
    return { version: 1, engine: this.engine.snapshot(), normalizer: this.normalizer.state(), lastT: this.lastPushedT };
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
        this.queue.addRaised(produced.alerts, produced.cramps);
      }
      if (!(await this.queue.flushed(END_WAIT_MS))) {
        if (this.ended) throw this.closedError();
        throw new LiveError('STORE_UNAVAILABLE', 'the store is not keeping up: the run stays open, send end again later');
      }
      const { store, finisher } = this.deps;
      const [cols, events, record] = await Promise.all([
        store.readSamples(this.athleteId, this.id, { throughSeq: this.contiguousSeq }),
        store.listEvents(this.athleteId, this.id),
        store.getRun(this.athleteId, this.id),
      ]);
      if (!cols || !events || !record) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      const run = liveRunToNormalized(cols, events.map((e) => e.event), record.startTime, this.normalizer);
      const report = await finisher.analyze(run, this.options);
      const ended = await store.endLiveRun(this.athleteId, this.id, { report, meta: run.meta });
      if (!ended) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      // The athlete model learns from the run (its summary row); a failure here loses no run data.
      await finisher.learn(this.athleteId, this.id, run).catch((err: unknown) => {
        this.deps.log.warn({ err, runId: this.id }, 'athlete model: run summary not stored (re-analysis adds it)');
      });
      this.finished(new LiveError('RUN_ENDED', 'the run has ended'));
      this.deps.output.ended(this);
      this.onClose?.();
      return report;
    });
  }

  /** Closes the session once its writes are done; a message that slipped in meanwhile is answered `refusal`. */
  private finished(refusal: LiveError): void {
    this.ended = true;
    this.queue.close(refusal, () => refusal);
  }

  /**
   * Resolves true once every message received so far has been handled and stored, false when the store did
   * not take it within `timeoutMs`.
   */
  async settled(timeoutMs = END_WAIT_MS): Promise<boolean> {
    await this.tail;
    return this.queue.flushed(timeoutMs);
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
    const flushed = await this.queue.flushed(waitMs);
    if (this.ended) return;
    if (flushed && this.queue.empty && this.batchesSinceCheckpoint > 0) {
      // Nothing unstored: the engine is exactly at contiguousSeq.
      const state = this.state();
      this.finished(this.closedError());
      await this.deps.store.saveCheckpoint(this.athleteId, this.id, this.contiguousSeq, state).catch(() => {});
      this.onClose?.();
      return;
    }
    this.drop(this.closedError());
  }
}

/** Rows of one batch, filled and encoded at once (the session is synchronous here): one per process, not per run. */
const batchRows = allocColumns(MAX_BATCH_SAMPLES);

/** Encodes a normaliser's output (reused between batches) as the chunk the store keeps. */
function encodeSamples(samples: readonly Sample[]): EncodedChunk {
  const cols = batchRows;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    cols.t[i] = s.t;
    cols.timestamp[i] = s.timestamp;
    for (const c of CHANNELS) cols[c][i] = s[c];
    cols.lat[i] = s.lat;
    cols.lon[i] = s.lon;
  }
  return encodeChunkOf(cols, 0, samples.length);
}
