/**
 * The open live runs of this process, one {@link LiveSession} per run: found by athlete and the watch's run id,
 * loaded (rebuilt from the store) once however many messages ask for it at the same time, held under the caps
 * of src/live/run-slots.ts, evicted (checkpointed) once idle on the clock, and all closed at shutdown.
 *
 * With several processes the transport adds cluster coordination through {@link RegistryDeps.claim} (a run's
 * lease is taken before its engine opens or goes on here) and {@link RegistryDeps.released}.
 * @module
 */
import type { Store } from '../store/types.js';
import { SYSTEM_CLOCK, type LiveClock } from './clock.js';
import { LiveError } from './errors.js';
import { NoRoomError, RunSlots } from './run-slots.js';
import { LiveSession, type LiveDeps, type LiveMetrics } from './session.js';

/** Caps on the live runs in memory (LIVE_RUNS_* settings); 0 = no cap. */
export interface LiveRunLimits {
  /** Open live runs one athlete may have in this process. @default 4 */
  perAthlete: number;
  /** Open live runs one connection may have started (a watch has one or two). @default 2 */
  perSocket: number;
  /** Open live runs in this process, all athletes. @default 20 000 (~27 KB each: ~540 MB) */
  perProcess: number;
  /** A run with no message for this long may be evicted (checkpointed) to make room for a new one, ms. @default 60 s */
  evictableAfterMs: number;
  /** A run with no message for this long is checkpointed and dropped from memory by the sweeper, ms. @default 15 min */
  idleEvictMs: number;
}
export const DEFAULT_LIVE_RUN_LIMITS: LiveRunLimits = {
  perAthlete: 4,
  perSocket: 2,
  perProcess: 20_000,
  evictableAfterMs: 60_000,
  idleEvictMs: 15 * 60_000,
};

/** How often idle runs are looked for, ms. */
export const IDLE_SWEEP_EVERY_MS = 60_000;
/** How long a resuming start waits for an open session's writes before answering STORE_UNAVAILABLE, ms. */
const START_SETTLE_MS = 2000;

/** What a start asks the store to create (or find) for a run not open here. */
export type StartRun = Parameters<Store['startLiveRun']>[1];

export interface RegistryDeps extends LiveDeps {
  metrics: LiveMetrics & { liveRuns: number };
  /** Caps on the runs in memory. @default {@link DEFAULT_LIVE_RUN_LIMITS} */
  limits?: Partial<LiveRunLimits>;
  /**
   * Takes (or confirms) this process's claim on a run before its engine opens (`open` null) or goes on here;
   * throws a {@link LiveError} (RUN_ELSEWHERE) to refuse. @default every run is this process's
   */
  claim?(runId: string, open: LiveSession | null): Promise<void>;
  /** A run left memory here (closed, dropped, or its opening failed): its claim may go. */
  released?(runId: string): void;
}

export class LiveRegistry {
  /** Open sessions by {@link key}. */
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions being loaded, by key: a second message for the run waits for the same load. */
  private readonly loading = new Map<string, Promise<LiveSession>>();
  /** Server run ids whose session is being loaded (their claim is held already). */
  private readonly loadingIds = new Set<string>();
  private readonly slots: RunSlots<LiveSession>;
  private readonly limits: LiveRunLimits;
  private readonly clock: LiveClock;
  private cancelSweep: (() => void) | null = null;

  constructor(private readonly deps: RegistryDeps) {
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.limits = { ...DEFAULT_LIVE_RUN_LIMITS, ...deps.limits };
    const L = this.limits;
    this.slots = new RunSlots(
      { perAthlete: L.perAthlete, perConnection: L.perSocket, perProcess: L.perProcess, evictableAfterMs: L.evictableAfterMs },
      this.sessions,
      () => this.clock.now(),
      (run, quietMs) => deps.log.info({ runId: run.id, quietMs }, 'quiet live run evicted to make room for a new one'),
    );
    this.scheduleSweep();
  }

  /** The key of a watch's run: a caller that asks for the same run message after message can keep it (see getByKey). */
  key(athleteId: string, clientRunId: string): string {
    return `${athleteId}\u0000${clientRunId}`;
  }

  /** Sessions in memory. */
  get size(): number {
    return this.sessions.size;
  }

  /** The open session of a watch's run, if it is in memory (nothing is loaded). */
  get(athleteId: string, clientRunId: string): LiveSession | undefined {
    return this.getByKey(this.key(athleteId, clientRunId));
  }

  /** {@link get} by a {@link key} kept from before: no string built and hashed again for each message. */
  getByKey(key: string): LiveSession | undefined {
    const s = this.sessions.get(key);
    return s?.isOpen() ? s : undefined;
  }

  /** The session in memory of the watch's run, open or not (its risk history stays readable). */
  peek(athleteId: string, clientRunId: string): LiveSession | undefined {
    return this.sessions.get(this.key(athleteId, clientRunId));
  }

  /** The sessions in memory of a server run id (one, unless a closed one is still registered). */
  *byRunId(runId: string): Iterable<LiveSession> {
    for (const s of this.sessions.values()) if (s.id === runId) yield s;
  }

  /** Whether a session of the server run id is being loaded. */
  isLoading(runId: string): boolean {
    return this.loadingIds.has(runId);
  }

  /**
   * The open session of a watch's run, loading (rebuilding) it from the store when it is not in memory. Without
   * `create` (samples, events, end) a run not open here is null. With it (a start) the run is created or found in
   * the store (null when it has ended), under the caps, claimed first; an open session is checked against the
   * store (another process may have stored batches meanwhile) and rebuilt if it is behind.
   */
  async session(athleteId: string, clientRunId: string, create?: StartRun, connId = ''): Promise<LiveSession | null> {
    const key = this.key(athleteId, clientRunId);
    const open = this.sessions.get(key);
    if (open?.isOpen()) {
      if (!create) return open;
      // A start (resume) checks the session against the store: with several processes, another one may have
      // stored batches of this run meanwhile, and this engine has not seen them. That needs this session's own
      // writes done first (while the store is unavailable they are not: the watch retries its start).
      if (!(await open.settled(START_SETTLE_MS))) {
        if (!open.isOpen()) return this.session(athleteId, clientRunId, create, connId);
        throw new LiveError('STORE_UNAVAILABLE', 'the store is not keeping up: send start again shortly');
      }
      const current = await this.deps.store.getRun(athleteId, open.id);
      if (open.isOpen() && current?.status === 'live' && current.contiguousSeq === open.contiguousSeq) {
        await this.deps.claim?.(open.id, open);
        return open;
      }
      open.discard();
    }
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    if (!create) return null;
    // Room under the caps first, before the store makes a record: a refused start costs nothing kept. The slot
    // stays reserved until the session is registered (or its opening failed).
    const release = await this.slots.reserve(key, athleteId, connId).catch((err: unknown) => {
      throw err instanceof NoRoomError ? new LiveError(err.code, err.message, undefined, err.retryAfterMs) : err;
    });
    let record;
    try {
      const again = this.loading.get(key);
      if (again) {
        release();
        return await again;
      }
      record = (await this.deps.store.startLiveRun(athleteId, create)).run;
      if (record.status !== 'live') {
        release();
        return null;
      }
      await this.deps.claim?.(record.id, null);
      // Another message for the run may have begun loading it while this one waited for the store or the claim.
      const meanwhile = this.loading.get(key) ?? this.get(athleteId, clientRunId);
      if (meanwhile) {
        release();
        return await meanwhile;
      }
    } catch (err) {
      release();
      throw err;
    }
    const runId = record.id;
    this.loadingIds.add(runId);
    const loading = LiveSession.load(this.deps, record).then((s) => {
      if (record.contiguousSeq > 0) {
        this.deps.log.info({ runId: s.id, contiguousSeq: s.contiguousSeq, ...s.rebuild }, 'live run rebuilt from the store');
      }
      s.onClose = () => {
        if (this.sessions.get(key) === s) this.sessions.delete(key);
        this.deps.metrics.liveRuns = this.sessions.size;
        this.deps.released?.(s.id);
      };
      this.sessions.set(key, s);
      this.deps.metrics.liveRuns = this.sessions.size;
      return s;
    });
    this.loading.set(key, loading);
    try {
      return await loading;
    } catch (err) {
      if (!this.sessions.has(key)) this.deps.released?.(runId);
      throw err;
    } finally {
      this.loading.delete(key);
      this.loadingIds.delete(runId);
      release();
    }
  }

  /**
   * Takes a watch's run out of memory now: `checkpoint` saves the engine and closes (as idle eviction does),
   * `discard` drops it without saving (as a lost lease does). Its next message rebuilds it from the store.
   * Returns whether a session was open.
   */
  async evict(athleteId: string, clientRunId: string, how: 'checkpoint' | 'discard' = 'checkpoint'): Promise<boolean> {
    const s = this.get(athleteId, clientRunId);
    if (!s) return false;
    if (how === 'discard') s.discard();
    else await s.close();
    return true;
  }

  /** A run deleted over REST: forget its session. */
  forget(athleteId: string, runId: string): void {
    for (const s of this.sessions.values()) {
      if (s.athleteId === athleteId && s.id === runId) void s.close();
    }
  }

  /** A connection went away: its runs stay open (counted per athlete) and become evictable once quiet. */
  forgetConnection(connId: string): void {
    this.slots.forgetConnection(connId);
  }

  /** Checkpoints and closes every session with no message for the idle limit (the sweeper calls it). */
  evictIdle(): void {
    const cutoff = this.clock.now() - this.limits.idleEvictMs;
    for (const s of this.sessions.values()) if (s.lastActivity < cutoff) void s.close();
  }

  private scheduleSweep(): void {
    this.cancelSweep = this.clock.after(
      IDLE_SWEEP_EVERY_MS,
      () => {
        this.evictIdle();
        this.scheduleSweep();
      },
      true,
    );
  }

  /** Stops the sweeper, stores what waits and checkpoints every open session (graceful shutdown). */
  async close(): Promise<void> {
    this.cancelSweep?.();
    this.cancelSweep = null;
    this.deps.commit.flush();
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
  }
}
