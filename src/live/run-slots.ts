/**
 * Room for live runs in memory: caps per athlete, per connection and per process, with no transport and an
 * injected clock (a slice of issue 14's live core). A run about to open takes a slot; past a cap the least
 * recently active run of the full group is checkpointed out of memory when it has been quiet long enough, else
 * the start is refused `TOO_MANY_RUNS` with the wait until one would be. Without caps one athlete opened
 * ~200,000 runs (~27 KB each) and the process ran out of heap (issue 18).
 * @module
 */

/** Caps (0 = none) and how quiet a run must be to make room for another, ms. */
export interface RunSlotLimits {
  perAthlete: number;
  perConnection: number;
  perProcess: number;
  evictableAfterMs: number;
}

/** What the slots need of an open run. */
export interface SlotRun {
  /** When the run last got a message, on the slots' clock. */
  readonly lastActivity: number;
  isOpen(): boolean;
  /** Checkpoints and closes the run (it leaves the registry). */
  close(): Promise<void>;
}

/** The open runs, as the registry holds them (key: athlete and the watch's run id). */
export interface SlotRegistry<R extends SlotRun> {
  get(key: string): R | undefined;
  values(): Iterable<R>;
  readonly size: number;
}

/** A start refused for want of room. */
export class NoRoomError extends Error {
  readonly code = 'TOO_MANY_RUNS';
  constructor(
    message: string,
    /** When a slot could be free: the quietest run would then be evictable, ms. */
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** At the process cap, how often every run is looked through for one to evict, ms (a flood is refused meanwhile). */
export const PROCESS_SCAN_EVERY_MS = 1000;

export class RunSlots<R extends SlotRun> {
  /** Run keys per athlete and per connection (those of closed runs are pruned when counted). */
  private readonly byAthlete = new Map<string, Set<string>>();
  private readonly byConnection = new Map<string, Set<string>>();
  /** Keys holding a slot whose run is still opening. */
  private readonly reserved = new Set<string>();
  private lastProcessScan = -Infinity;

  constructor(
    private readonly limits: RunSlotLimits,
    private readonly runs: SlotRegistry<R>,
    private readonly now: () => number = Date.now,
    /** Told of each run evicted to make room. */
    private readonly onEvict: (run: R, quietMs: number) => void = () => {},
  ) {}

  /**
   * Takes a slot for the run `key` of `athleteId` opening on connection `connId`, evicting a quiet run when a
   * group is full. Resolves with the release of the reservation (call it once the run is in the registry, or
   * its opening failed); rejects with {@link NoRoomError}.
   */
  async reserve(key: string, athleteId: string, connId: string): Promise<() => void> {
    const L = this.limits;
    const groups: Array<[Map<string, Set<string>>, string, number, string]> = [
      [this.byConnection, connId, L.perConnection, 'this connection'],
      [this.byAthlete, athleteId, L.perAthlete, 'this athlete'],
    ];
    for (const [index, id, cap, what] of groups) {
      if (cap <= 0) continue;
      let keys = index.get(id);
      if (!keys) index.set(id, (keys = new Set<string>()));
      for (;;) {
        for (const k of keys) if (!this.runs.get(k)?.isOpen() && !this.reserved.has(k)) keys.delete(k);
        if (keys.size < cap || keys.has(key)) break;
        const open: R[] = [];
        for (const k of keys) {
          const run = this.runs.get(k);
          if (run) open.push(run);
        }
        await this.evictOne(open, `${keys.size} live runs are open for ${what} (at most ${cap})`);
      }
    }
    if (L.perProcess > 0 && this.runs.size + this.reserved.size >= L.perProcess) {
      const why = `this server has ${this.runs.size} live runs open (at most ${L.perProcess})`;
      const now = this.now();
      if (now - this.lastProcessScan < PROCESS_SCAN_EVERY_MS) throw new NoRoomError(`${why}: send start again later`, PROCESS_SCAN_EVERY_MS);
      this.lastProcessScan = now;
      await this.evictOne(this.runs.values(), why);
    }
    this.reserved.add(key);
    this.byConnection.get(connId)?.add(key);
    this.byAthlete.get(athleteId)?.add(key);
    return () => this.reserved.delete(key);
  }

  /** A connection went away: its runs stay open (counted for their athlete) and become evictable once quiet. */
  forgetConnection(connId: string): void {
    this.byConnection.delete(connId);
  }

  /** Checkpoints and closes the least recently active of `candidates` if it is quiet enough, else refuses. */
  private async evictOne(candidates: Iterable<R>, why: string): Promise<void> {
    let lru: R | null = null;
    for (const r of candidates) if (r.isOpen() && (!lru || r.lastActivity < lru.lastActivity)) lru = r;
    const now = this.now();
    const waitMs = lru ? lru.lastActivity + this.limits.evictableAfterMs - now : this.limits.evictableAfterMs;
    if (!lru || waitMs > 0) throw new NoRoomError(`${why}: end one, or send start again in ${Math.ceil(waitMs / 1000)} s`, Math.max(1, waitMs));
    this.onEvict(lru, now - lru.lastActivity);
    await lru.close();
  }
}
