/**
 * Live runs on the server: one session per open run, holding the run's engine and live normaliser, fed in
 * sequence order, with every batch stored (group commit) before it is acked and before the engine sees it.
 *
 * Ordering, the one rule everything here keeps: per run, messages are handled in arrival order through a
 * promise chain; a batch is normalised at arrival (so a seq is accepted or refused synchronously) and committed
 * with whatever other batches arrived in the same few milliseconds. Events follow the engine's rule (an event at
 * `t` takes effect after every sample with `sample.t <= t`): they wait in `pending` until a later sample comes.
 * An event that arrives after later samples is moved to the last sample's time, and stored that way, so a
 * rebuild from the store (server restart) replays exactly what the live engine saw.
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
import type { Metrics } from './metrics.js';

/** Save an engine checkpoint every this many stored batches, so a restart replays at most that many. */
const CHECKPOINT_EVERY_BATCHES = 20;
/** Most messages waiting in one run's chain; beyond it the watch is flooding. */
const MAX_QUEUED_PER_RUN = 64;

/** A refusal the socket layer turns into an error ack. */
export class LiveError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly expectedSeq?: number,
  ) {
    super(message);
  }
}

// ----------------------------------------------------------------------------------------------- group commit

/**
 * Buffers sample batches of all runs for a few ms and stores them in one transaction: one fsync for many
 * watches. Resolves each batch's promise once its transaction committed ("acked ⇒ stored").
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

// ----------------------------------------------------------------------------------------------- sessions

/** Where a session's output goes (sockets); called after the data is stored. */
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

export interface LiveDeps {
  store: Store;
  commit: GroupCommit;
  analyzer: Analyzer;
  metrics: Metrics;
  log: Logger;
  output: LiveOutput;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: LiveError };

/** One open live run. */
export class LiveSession {
  readonly athleteId: string;
  /** Server run id. */
  readonly id: string;
  readonly clientRunId: string;
  readonly options: EngineOptions;
  /** Highest seq stored and pushed into the engine. */
  contiguousSeq: number;
  /** Highest seq accepted (queued or stored). */
  private acceptedSeq: number;
  private readonly normalizer: LiveNormalizer;
  private readonly out: LiveBatchOutput = createLiveBatchOutput();
  /** Reused for every sample read back from columns. */
  private readonly row: Sample = emptySample();
  private engine!: Engine;
  /** t of the last sample pushed into the engine (-1 before the first). */
  private lastPushedT = -1;
  /** Events stored but not yet applied: sorted by t. */
  private pending: RunEvent[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private batchesSinceCheckpoint = 0;
  private ended = false;
  latestRisk: RiskPoint | null = null;
  /** How the session was opened: the checkpoint seq it restored from (0 = none) and the batches replayed. */
  rebuild = { checkpointSeq: 0, replayedSamples: 0 };
  lastActivity = Date.now();
  /** When this session was opened in this process (ms since epoch). */
  readonly openedAt = Date.now();
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
    this.athleteId = record.athleteId;
    this.id = record.id;
    this.clientRunId = record.clientRunId ?? record.id;
    this.options = record.options ?? {};
    this.contiguousSeq = record.contiguousSeq;
    this.acceptedSeq = record.contiguousSeq;
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
  }

  private takeProduced() {
    const produced = { alerts: this.producedAlerts, risk: this.producedRisk, cramps: this.producedCramps };
    this.producedAlerts = [];
    this.producedRisk = [];
    this.producedCramps = [];
    return produced;
  }

  /** Runs `op` after every message that arrived before it. */
  private chain<T>(op: () => Promise<T>): Promise<Outcome<T>> {
    this.queued++;
    const result = this.tail.then(op).then(
      (value): Outcome<T> => ({ ok: true, value }),
      (err): Outcome<T> => {
        if (err instanceof LiveError) return { ok: false, error: err };
        this.broken(err);
        // Either way the session is dropped and the watch's next start rebuilds it from what was stored.
        return err instanceof StoreError
          ? { ok: false, error: new LiveError('STORE_UNAVAILABLE', 'could not store: resend later') }
          : { ok: false, error: new LiveError('INTERNAL', 'internal error: send start and resend') };
      },
    );
    this.tail = result.finally(() => this.queued--);
    return result;
  }

  /** A failure leaves memory ahead of the store: drop the session; the watch's next start rebuilds it. */
  private broken(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.deps.log.error({ err, runId: this.id }, 'live run failed: session dropped, will rebuild on resume');
    this.onClose?.();
  }

  /** Set by the registry: forget this session. */
  onClose: (() => void) | undefined;

  isOpen(): boolean {
    return !this.ended;
  }

  private guard(): void {
    if (this.ended) throw new LiveError('UNKNOWN_RUN', 'this run is not open here: send start to resume');
    if (this.queued >= MAX_QUEUED_PER_RUN) throw new LiveError('RATE_LIMITED', 'too many messages in flight for this run');
    this.lastActivity = Date.now();
  }

  /** A sample batch (validated by the caller). Refusals are synchronous; the result comes once stored. */
  submitBatch(
    seq: number,
    samples: readonly WireSample[],
  ): Promise<Outcome<{ contiguousSeq: number; duplicate: boolean; alerts?: Array<Alert & { runId: string }> }>> {
    try {
      this.guard();
    } catch (err) {
      return Promise.resolve({ ok: false, error: err as LiveError });
    }
    if (seq <= this.acceptedSeq) {
      // Resent: already stored, or queued (answer once the queue reaches it).
      return this.chain(async () => ({ contiguousSeq: this.contiguousSeq, duplicate: true }));
    }
    if (seq > this.acceptedSeq + 1) {
      const expected = this.acceptedSeq + 1;
      return Promise.resolve({ ok: false, error: new LiveError('SEQ_GAP', `expected seq ${expected}, got ${seq}: resend from ${expected}`, expected) });
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
    const committed = this.deps.commit.add({ athleteId: this.athleteId, runId: this.id, seq, samples: cols });
    // Keep the promise from rejecting unhandled before the chain reaches it.
    committed.catch(() => {});
    return this.chain(async () => {
      const result = await committed;
      if (result.status === 'not_found') throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      if (result.status === 'not_live') throw new LiveError('RUN_ENDED', 'the run has ended');
      if (result.status === 'invalid') throw new LiveError('SAMPLE_INVALID', 'the store refused the batch');
      if (result.status === 'stored') {
        const row = this.row;
        for (let i = 0; i < cols.length; i++) this.pushSample(readRow(cols, i, row));
        this.deps.metrics.samples(cols.length);
        this.contiguousSeq = seq;
        const raised = await this.publish(seq, cols);
        if (++this.batchesSinceCheckpoint >= CHECKPOINT_EVERY_BATCHES) this.checkpoint();
        // The alerts ride on the ack as well: the push may be lost between processes, the ack is not.
        if (raised.length) return { contiguousSeq: this.contiguousSeq, duplicate: false, alerts: raised.map((a) => ({ ...a, runId: this.clientRunId })) };
      } else {
        // A seq this session took as new was already stored: another process has this run too, so this
        // engine is behind. Drop the session; the watch's next start rebuilds it from the store.
        this.discard();
        throw new LiveError('UNKNOWN_RUN', 'this run moved to another server process: send start to resume');
      }
      return { contiguousSeq: this.contiguousSeq, duplicate: false };
    });
  }

  /** Stores and logs what the engine produced, then tells the sockets; returns the alerts new to the log. */
  private async publish(seq: number, cols: SampleColumns | null): Promise<Alert[]> {
    const produced = this.takeProduced();
    let fresh: Alert[] = [];
    if (produced.alerts.length) {
      const stored = await this.deps.store.appendAlerts(this.athleteId, this.id, produced.alerts);
      fresh = (stored ?? []).map((s) => s.alert);
    }
    for (const c of produced.cramps) await this.journalCramp(c);
    if (produced.risk.length) this.latestRisk = produced.risk.at(-1)!;
    const { output, metrics } = this.deps;
    if (cols && output.wantsSamples(this)) output.samples(this, seq, columnsToSamples(cols));
    if (produced.risk.length) output.risk(this, produced.risk);
    if (fresh.length) {
      for (const a of fresh) metrics.prompt(a.kind);
      output.alerts(this, fresh);
    }
    return fresh;
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

  private checkpoint(): void {
    this.batchesSinceCheckpoint = 0;
    const state: CheckpointState = {
      version: 1,
      engine: this.engine.snapshot(),
      normalizer: this.normalizer.state(),
      lastT: this.lastPushedT,
    };
    const seq = this.contiguousSeq;
    this.deps.store.saveCheckpoint(this.athleteId, this.id, seq, state).catch((err: unknown) => {
      this.deps.log.warn({ err, runId: this.id }, 'checkpoint not saved');
    });
  }

  /** An event; its key makes a resend harmless. */
  submitEvent(key: string, event: RunEvent): Promise<Outcome<{ t: number; duplicate: boolean }>> {
    try {
      this.guard();
    } catch (err) {
      return Promise.resolve({ ok: false, error: err as LiveError });
    }
    // The normaliser has seen every sample that arrived before this event.
    const lastT = this.normalizer.state().lastT ?? 0;
    const effective: RunEvent = event.t < lastT ? { ...event, t: lastT } : event;
    return this.chain(async () => {
      const added = await this.deps.store.appendEvents(this.athleteId, this.id, [{ key, event: effective }]);
      if (added === null) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      if (added === 0) {
        const stored = (await this.deps.store.listEvents(this.athleteId, this.id))?.find((e) => e.key === key);
        return { t: stored?.event.t ?? effective.t, duplicate: true };
      }
      let i = this.pending.length;
      while (i > 0 && this.pending[i - 1]!.t > effective.t) i--;
      this.pending.splice(i, 0, effective);
      return { t: effective.t, duplicate: false };
    });
  }

  /** Ends the run: applies the remaining events, analyses the stored run, stores the report. */
  end(): Promise<Outcome<Report>> {
    if (this.ended) return Promise.resolve({ ok: false, error: new LiveError('UNKNOWN_RUN', 'this run is not open here: send start to resume') });
    this.lastActivity = Date.now();
    return this.chain(async () => {
      while (this.pending.length > 0) this.engine.event(this.pending.shift()!);
      await this.publish(this.contiguousSeq, null);
      const { store, analyzer } = this.deps;
      const [cols, events, record] = await Promise.all([
        store.readSamples(this.athleteId, this.id, { throughSeq: this.contiguousSeq }),
        store.listEvents(this.athleteId, this.id),
        store.getRun(this.athleteId, this.id),
      ]);
      if (!cols || !events || !record) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      const run = liveRunToNormalized(cols, events.map((e) => e.event), record.startTime, this.normalizer);
      const report = await analyzer.analyzeRun(run, this.options);
      const ended = await store.endLiveRun(this.athleteId, this.id, { report, meta: run.meta });
      if (!ended) throw new LiveError('UNKNOWN_RUN', 'the run was deleted');
      this.ended = true;
      this.deps.output.ended(this);
      this.onClose?.();
      return report;
    });
  }

  /** Resolves once every message received so far has been handled. */
  async settled(): Promise<void> {
    await this.tail;
  }

  /** Forgets the session without saving anything (it is behind the store). */
  discard(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose?.();
  }

  /** Saves a checkpoint and closes (idle eviction, shutdown). */
  async close(): Promise<void> {
    if (this.ended) return;
    await this.tail;
    if (this.ended) return;
    this.ended = true;
    if (this.batchesSinceCheckpoint > 0) {
      const state: CheckpointState = {
        version: 1,
        engine: this.engine.snapshot(),
        normalizer: this.normalizer.state(),
        lastT: this.lastPushedT,
      };
      await this.deps.store.saveCheckpoint(this.athleteId, this.id, this.contiguousSeq, state).catch(() => {});
    }
    this.onClose?.();
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
