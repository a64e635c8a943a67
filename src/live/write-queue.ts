/**
 * One live run's writes, in the order they were accepted: a batch's samples (through the process's group
 * commit), then the alerts and cramp journal entries stepping it raised; an event; the alerts `end` raised.
 *
 * The rules kept here:
 * - **acked ⇒ stored.** An ack (`contiguousSeq`, an event's `t`) comes only when everything its write owes the
 *   store is stored, in arrival order. A transient store failure (`STORE_UNAVAILABLE`, `STORE_FULL`) is retried
 *   with back-off on the injected clock for as long as the run is open; the watch keeps the unacked batches and
 *   resends them, and a resend of a seq (or event key) still in memory is not stepped again: it waits for the
 *   same write, each copy answered for real up to {@link MAX_WAITERS_PER_WRITE}.
 * - **Memory ahead of the store.** When the store refuses for a reason that is not an outage (the run was
 *   deleted or ended, or another process stored this seq first), the engine has consumed what the store does not
 *   hold: the queue stops and tells its run ({@link WriteQueueListener}), which drops itself; the watch's next
 *   start rebuilds it from the store.
 * @module
 */
import type { Logger } from 'pino';
import type { Alert, CrampContext } from '../../alerts/types.js';
import type { RunEvent } from '../../ingest/sample.js';
import type { EncodedChunk } from '../store/codec.js';
import { StoreError, type SampleBatchResult, type Store } from '../store/types.js';
import type { LiveBacklog } from './backlog.js';
import type { LiveClock } from './clock.js';
import { LiveError, type Outcome } from './errors.js';
import type { CommitWaiter, GroupCommit } from './group-commit.js';
import type { CheckpointState } from './rebuild.js';

/** Back-off between attempts of a failing write, ms: doubles from the first to the last, with jitter. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;

/** Store failures that are worth retrying: the database is down or locked, or the disk is full. */
export const RETRIABLE: ReadonlySet<string> = new Set(['STORE_UNAVAILABLE', 'STORE_FULL']);

/**
 * Copies of one message (resends, or the same seq from a second socket of the athlete) waiting for its write at
 * once: each is answered for real, up to this many; beyond it the oldest copy is answered SUPERSEDED.
 */
export const MAX_WAITERS_PER_WRITE = 4;
/** The answer to the oldest copy of a message sent more than {@link MAX_WAITERS_PER_WRITE} times before it was stored. */
const SUPERSEDED = new LiveError('RATE_LIMITED', 'the same message was sent again several times before it was stored: the newer copies are answered');

export interface BatchAnswer {
  contiguousSeq: number;
  duplicate: boolean;
  alerts?: Array<Alert & { runId: string }>;
}
export interface EventAnswer {
  t: number;
  duplicate: boolean;
}

/** Told a message's outcome, once (a callback, not a promise: a batch's is on the live path's every message). */
export type Answer<T> = (o: Outcome<T>) => void;

/** An ack waiting for a write; `duplicate`: this copy of the message came after the first. */
interface Waiter<T> {
  resolve: Answer<T>;
  duplicate: boolean;
}

type BatchWrite = {
  kind: 'batch';
  seq: number;
  chunk: EncodedChunk;
  /** What stepping the batch produced, stored after its samples. */
  alerts: Alert[];
  cramps: CrampContext[];
  /** Engine state right after this batch, saved once the batch is stored. */
  checkpoint: CheckpointState | null;
  attempts: number;
  stored: boolean;
  waiters: Waiter<BatchAnswer>[];
};
type EventWrite = { kind: 'event'; key: string; event: RunEvent; attempts: number; waiters: Waiter<EventAnswer>[] };
type RaisedWrite = { kind: 'alerts'; alerts: Alert[]; cramps: CrampContext[]; attempts: number };
/** A write the run still owes the store, in arrival order. `waiters` are the acks waiting for it. */
type Write = BatchWrite | EventWrite | RaisedWrite;

/** Adds a copy's ack to a write's waiters (a resend: `duplicate`), answering the oldest SUPERSEDED past the cap. */
function addWaiter<T>(waiters: Waiter<T>[], resolve: Answer<T>): void {
  waiters.push({ resolve, duplicate: waiters.length > 0 });
  if (waiters.length > MAX_WAITERS_PER_WRITE) tell(waiters.shift()!.resolve, { ok: false, error: SUPERSEDED });
}

/**
 * Gives an ack its outcome. A batch's ack is a callback into the socket's layer: whatever it throws is not this
 * run's failure, so it must not stop the queue (which would drop the run) nor keep the other copies unanswered.
 */
function tell<T>(answer: Answer<T>, outcome: Outcome<T>): void {
  try {
    answer(outcome);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/** The queue was closed while a write was retried: stop quietly. */
const DROPPED = Symbol('dropped');

/** The run a queue writes for. */
export interface RunRef {
  readonly athleteId: string;
  /** Server run id. */
  readonly id: string;
  /** The watch's run id (alerts riding on an ack carry it). */
  readonly clientRunId: string;
}

export interface WriteQueueDeps {
  clock: LiveClock;
  store: Store;
  commit: GroupCommit;
  backlog: LiveBacklog;
  log: Logger;
}

/** How a queue tells its run that it stopped for good (memory is ahead of the store). */
export interface WriteQueueListener {
  /** The store refused a write for a known reason (the run was deleted, ended, or moved to another process). */
  refused(error: LiveError): void;
  /** Anything else failed. */
  broken(err: unknown): void;
}

/** Stores a cramp the engine raised as a journal entry (idempotent by its id: run and time). */
export async function journalCramp(store: Store, run: Pick<RunRef, 'athleteId' | 'id'>, c: CrampContext): Promise<void> {
  await store.addJournalEntry(run.athleteId, {
    id: `live-${run.id}-${Math.round(c.t * 1000)}`.slice(0, 128),
    runId: run.id,
    t: c.t,
    muscle: c.muscle ?? 'unknown',
    severity: c.severity ?? 3,
    note: 'reported from the watch',
    context: c as unknown as Record<string, unknown>,
  });
}

/**
 * The store's refusal of a write, for good, as the watch is told it; null when it is no known refusal.
 * A foreign key that failed (STORE_BAD_INPUT "unknown athlete or run") means the run was deleted between the
 * write's checks; a constraint conflict (STORE_CONFLICT) means another process wrote this run meanwhile.
 */
function refusal(err: unknown): LiveError | null {
  if (err instanceof LiveError) return err;
  if (err instanceof StoreError && err.code === 'STORE_BAD_INPUT') return new LiveError('UNKNOWN_RUN', 'the run was deleted');
  if (err instanceof StoreError && err.code === 'STORE_CONFLICT') return movedError();
  return null;
}

const movedError = () => new LiveError('UNKNOWN_RUN', 'this run moved to another server process: send start to resume');
const deletedError = () => new LiveError('UNKNOWN_RUN', 'the run was deleted');

export class WriteQueue implements CommitWaiter<BatchWrite> {
  /** Highest seq stored (with everything it raised): what the watch is acked. */
  contiguousSeq: number;
  /** Writes not yet done, oldest first. */
  private writes: Write[] = [];
  private writing = false;
  private unstoredSamples = 0;
  private unstoredEvents = 0;
  private flushWaiters: Array<() => void> = [];
  /** The current run of failed attempts (for the back-off and to log once per outage). */
  private failures = 0;
  private closed = false;
  /** Event keys this run knows: stored (write null) or waiting for their write. */
  private readonly eventKeys = new Map<string, { t: number; write: EventWrite | null }>();

  constructor(
    private readonly run: RunRef,
    contiguousSeq: number,
    private readonly deps: WriteQueueDeps,
    private readonly listener: WriteQueueListener,
  ) {
    this.contiguousSeq = contiguousSeq;
  }

  /** Unstored samples this run holds. */
  get samples(): number {
    return this.unstoredSamples;
  }

  /** Unstored events this run holds. */
  get events(): number {
    return this.unstoredEvents;
  }

  /** Whether the latest attempt of a write failed (an outage is going on). */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Nothing waits to be written. */
  get empty(): boolean {
    return this.writes.length === 0;
  }

  /** An event key already stored (a rebuild seeds them from the store). */
  storedEvent(key: string, t: number): void {
    this.eventKeys.set(key, { t, write: null });
  }

  /** A batch (stepped already); `answer` is called once it and what it raised are stored (or the queue stops). */
  addBatch(seq: number, chunk: EncodedChunk, alerts: Alert[], cramps: CrampContext[], checkpoint: CheckpointState | null, answer: Answer<BatchAnswer>): void {
    this.enqueue({ kind: 'batch', seq, chunk, alerts, cramps, checkpoint, attempts: 0, stored: false, waiters: [{ resolve: answer, duplicate: false }] });
  }

  /**
   * Another copy of an accepted batch that is not stored yet: answered with the same write. False when no such
   * write waits (the queue was closed meanwhile).
   */
  resendBatch(seq: number, answer: Answer<BatchAnswer>): boolean {
    const write = this.writes.find((w): w is BatchWrite => w.kind === 'batch' && w.seq === seq);
    if (!write) return false;
    addWaiter(write.waiters, answer);
    return true;
  }

  /** An event (applied in memory already, at `event.t`); answered once stored. */
  addEvent(key: string, event: RunEvent): Promise<Outcome<EventAnswer>> {
    return new Promise((resolve) => {
      const write: EventWrite = { kind: 'event', key, event, attempts: 0, waiters: [{ resolve, duplicate: false }] };
      this.eventKeys.set(key, { t: event.t, write });
      this.enqueue(write);
    });
  }

  /** Another copy of an event with a known key: answered now when stored, else with its write. Undefined for a new key. */
  resendEvent(key: string): Promise<Outcome<EventAnswer>> | undefined {
    const known = this.eventKeys.get(key);
    if (!known) return undefined;
    const write = known.write;
    if (!write) return Promise.resolve({ ok: true, value: { t: known.t, duplicate: true } });
    return new Promise((resolve) => addWaiter(write.waiters, resolve));
  }

  /** Alerts and cramps raised by no batch (the run's end). */
  addRaised(alerts: Alert[], cramps: CrampContext[]): void {
    if (alerts.length || cramps.length) this.enqueue({ kind: 'alerts', alerts, cramps, attempts: 0 });
  }

  /**
   * Resolves true once every write accepted so far is done, false if that takes longer than `timeoutMs`
   * (the store is unavailable) or the queue closes first.
   */
  flushed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.writes.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancel = this.deps.clock.after(timeoutMs, () => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== done);
        resolve(false);
      });
      const done = () => {
        cancel();
        resolve(!this.closed && this.writes.length === 0);
      };
      this.flushWaiters.push(done);
    });
  }

  /**
   * Stops writing: the oldest waiting write is answered `first`, every other one `rest`, and whoever waits for
   * the queue to flush is told. Nothing unstored is kept (the watch resends it after its next start).
   */
  close(first: LiveError, rest: () => LiveError): void {
    if (this.closed) return;
    this.closed = true;
    let error = first;
    while (this.writes.length > 0) {
      const w = this.dequeue();
      if (w.kind !== 'alerts') for (const { resolve } of w.waiters as Waiter<unknown>[]) tell(resolve, { ok: false, error });
      error = rest();
    }
    this.wakeFlushWaiters();
  }

  private enqueue(write: Write): void {
    this.writes.push(write);
    this.deps.backlog.writes++;
    if (write.kind === 'batch') {
      this.unstoredSamples += write.chunk.rows;
      this.deps.backlog.samples += write.chunk.rows;
    } else if (write.kind === 'event') this.unstoredEvents++;
    if (write.kind === 'batch' && this.writes.length === 1 && !this.writing && this.failures === 0 && !this.closed) this.writeAlone(write);
    else void this.drain();
  }

  /**
   * The usual write: one batch into an idle queue while the store answers. The same steps as {@link drain} and
   * {@link writeBatches} take, as plain callbacks: their async frames were a quarter of the bytes the server
   * allocates per watch message (~3.7 of ~16 KB at 5,000 watches × 1 Hz) and garbage that V8 then collects; this
   * queue is the batch's {@link CommitWaiter}, so the group commit holds no promise for it either. Anything else
   * (what the batch raised, a failure, writes that came meanwhile) goes on through `drain`.
   */
  private writeAlone(w: BatchWrite): void {
    this.writing = true;
    w.attempts++;
    this.deps.commit.enqueue({ athleteId: this.run.athleteId, runId: this.run.id, seq: w.seq, samples: w.chunk }, this, w);
  }

  /** The group commit's answer to a {@link writeAlone} (this queue is the batch's CommitWaiter). */
  committed(w: BatchWrite, result: SampleBatchResult): void {
    try {
      this.attemptSucceeded();
      this.markStored(w, result.status);
      // What the batch raised is written (and the batch acked) by drain, which knows the stored batch.
      if (w.alerts.length || w.cramps.length) return this.handOver();
      if (this.closed) throw DROPPED;
      this.acked(w);
      this.handOver();
    } catch (err) {
      if (err !== DROPPED) this.stopped(err);
      this.doneWriting();
    }
  }

  /** A {@link writeAlone} whose transaction failed: retried by drain after the back-off, alone, as drain retries a group. */
  failed(w: BatchWrite, err: unknown): void {
    let delay: number;
    try {
      delay = this.attemptFailed(err);
    } catch (fatal) {
      this.stopped(fatal);
      return this.doneWriting();
    }
    // Still writing meanwhile.
    this.deps.clock.after(delay, () => {
      this.writing = false;
      void this.drain([w]);
    });
  }

  /** Ends a {@link writeAlone} that went well: `drain` takes the writes that came meanwhile, if any. */
  private handOver(): void {
    if (this.writes.length > 0 && !this.closed) {
      this.writing = false;
      void this.drain();
    } else this.doneWriting();
  }

  /** No write in progress any more; whoever waits for an empty (or closed) queue is told. */
  private doneWriting(): void {
    this.writing = false;
    if (this.writes.length === 0 || this.closed) this.wakeFlushWaiters();
  }

  /** Removes the oldest write (done, or dropped with the queue). */
  private dequeue(): Write {
    const write = this.writes.shift()!;
    this.deps.backlog.writes--;
    if (write.kind === 'batch') {
      this.unstoredSamples -= write.chunk.rows;
      this.deps.backlog.samples -= write.chunk.rows;
    } else if (write.kind === 'event') this.unstoredEvents--;
    return write;
  }

  private wakeFlushWaiters(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Writes the queue in order, one group of batches at a time, retrying while the store is unavailable; `retry`:
   * the group a failed {@link writeAlone} attempt left, tried first on its own.
   */
  private async drain(retry: BatchWrite[] | null = null): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.writes.length > 0 && !this.closed) {
        const head = this.writes[0]!;
        if (head.kind === 'batch') {
          await this.writeBatches(retry);
          retry = null;
        }
        else if (head.kind === 'event') await this.writeEvent(head);
        else {
          await this.writeRaised(head, head.alerts, head.cramps);
          this.dequeue();
        }
      }
    } catch (err) {
      if (err !== DROPPED) this.stopped(err);
    } finally {
      this.doneWriting();
    }
  }

  /** The store refused for good while the engine was ahead of it: the run drops itself. */
  private stopped(err: unknown): void {
    const error = refusal(err);
    if (error) this.listener.refused(error);
    else this.listener.broken(err);
  }

  /**
   * Stores the leading batches in one group commit (or `only`, the head's group of a failed attempt), then what
   * each raised, and acks them in order.
   */
  private async writeBatches(only: BatchWrite[] | null): Promise<void> {
    let group = only;
    if (!group) {
      group = [];
      for (const w of this.writes) {
        if (w.kind !== 'batch') break;
        group.push(w);
      }
    }
    const { athleteId, id: runId } = this.run;
    const todo = group.filter((w) => !w.stored);
    if (todo.length) {
      const { commit } = this.deps;
      const add = (w: BatchWrite) => commit.add({ athleteId, runId, seq: w.seq, samples: w.chunk });
      // One batch is the usual group (a watch sends its next after the ack): no Promise.all for it.
      const results = await this.retrying(todo, () => (todo.length === 1 ? add(todo[0]!).then((r) => [r]) : Promise.all(todo.map(add))));
      for (let k = 0; k < todo.length; k++) this.markStored(todo[k]!, results[k]!.status);
    }
    for (const w of group) {
      if (w.alerts.length || w.cramps.length) await this.writeRaised(w, w.alerts, w.cramps);
      // Closed while the commit or these writes were awaited: close() has answered every waiter.
      if (this.closed) throw DROPPED;
      this.acked(w);
    }
  }

  /** A batch's status from its commit: stored, or the refusal (thrown) that stops the queue. */
  private markStored(w: BatchWrite, status: SampleBatchResult['status']): void {
    // After a failed attempt `duplicate` means that attempt did commit (the answer was lost on the way).
    if (status === 'stored' || (status === 'duplicate' && w.attempts > 1)) w.stored = true;
    else if (status === 'not_found') throw deletedError();
    else if (status === 'not_live') throw new LiveError('RUN_ENDED', 'the run has ended');
    else if (status === 'invalid') throw new LiveError('SAMPLE_INVALID', 'the store refused the batch');
    // A seq this run took as new was already stored: another process has this run too, so this engine
    // is not the store's. Drop the run; the watch's next start rebuilds it from the store.
    else throw movedError();
  }

  /** The oldest write, a batch, is stored with what it raised: it leaves the queue and its acks go out. */
  private acked(w: BatchWrite): void {
    this.dequeue();
    this.contiguousSeq = w.seq;
    if (w.checkpoint) this.saveCheckpoint(w.seq, w.checkpoint);
    // The alerts ride on the ack as well: the push may be lost between processes, the ack is not.
    const alerts = w.alerts.length ? w.alerts.map((a) => ({ ...a, runId: this.run.clientRunId })) : null;
    for (const { resolve, duplicate } of w.waiters) {
      tell(resolve, { ok: true, value: alerts ? { contiguousSeq: w.seq, duplicate, alerts } : { contiguousSeq: w.seq, duplicate } });
    }
  }

  private async writeEvent(w: EventWrite): Promise<void> {
    const { athleteId, id: runId } = this.run;
    const added = await this.retrying([w], () => this.deps.store.appendEvents(athleteId, runId, [{ key: w.key, event: w.event }]));
    if (added === null) throw deletedError();
    // Already stored before this run's first attempt: another process took this run (see writeBatches).
    if (added === 0 && w.attempts <= 1) throw movedError();
    this.dequeue();
    const known = this.eventKeys.get(w.key);
    if (known) known.write = null;
    for (const { resolve, duplicate } of w.waiters) resolve({ ok: true, value: { t: w.event.t, duplicate } });
  }

  /** Stores alerts (the log is idempotent by id) and cramp journal entries the engine raised. */
  private async writeRaised(w: Write, alerts: Alert[], cramps: CrampContext[]): Promise<void> {
    const { store } = this.deps;
    if (alerts.length) {
      const stored = await this.retrying([w], () => store.appendAlerts(this.run.athleteId, this.run.id, alerts));
      if (stored === null) throw deletedError();
    }
    for (const c of cramps) await this.retrying([w], () => journalCramp(store, this.run, c));
  }

  /** Runs `attempt` until it succeeds, sleeping between tries (on the clock) while the store is unavailable. */
  private async retrying<T>(writes: Write[], attempt: () => Promise<T>): Promise<T> {
    const { clock } = this.deps;
    for (;;) {
      if (this.closed) throw DROPPED;
      for (const w of writes) w.attempts++;
      try {
        const value = await attempt();
        this.attemptSucceeded();
        return value;
      } catch (err) {
        const delay = this.attemptFailed(err);
        await new Promise<void>((resolve) => clock.after(delay, resolve));
      }
    }
  }

  private attemptSucceeded(): void {
    if (this.failures > 0) this.deps.log.info({ runId: this.run.id, failures: this.failures }, 'live run: store writes resumed');
    this.failures = 0;
    this.deps.backlog.succeeded();
  }

  /** A failed attempt: the back-off before the next, ms; rethrows a failure that is not worth retrying. */
  private attemptFailed(err: unknown): number {
    if (!(err instanceof StoreError) || !RETRIABLE.has(err.code)) throw err;
    this.deps.backlog.failed(err, this.deps.clock.now());
    if (this.failures++ === 0) {
      this.deps.log.warn({ err, runId: this.run.id, unstoredSamples: this.unstoredSamples }, 'live run: store write failed, retrying (prompts go on from memory)');
    }
    return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.failures - 1, 10)) * (0.5 + Math.random() / 2);
  }

  /** Saves the engine's state after `seq` (a failure costs a longer replay on the next rebuild, nothing else). */
  private saveCheckpoint(seq: number, state: CheckpointState): void {
    this.deps.store.saveCheckpoint(this.run.athleteId, this.run.id, seq, state).catch((err: unknown) => {
      this.deps.log.warn({ err, runId: this.run.id }, 'checkpoint not saved');
    });
  }
}
