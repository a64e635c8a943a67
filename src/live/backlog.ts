/**
 * Bounded memory: what every live run of the process holds in memory but has not stored yet, and the caps on
 * it. Unstored samples are capped per run and per process; beyond a cap a new batch is refused (STORE_UNAVAILABLE
 * in an outage, RATE_LIMITED otherwise) before anything is stepped, so its seq stays free (src/live/session.ts).
 * @module
 */

/** Default caps of unstored live samples (see `LIVE_BACKLOG_RUN_SAMPLES` / `LIVE_BACKLOG_SAMPLES`). */
export const DEFAULT_BACKLOG_RUN_SAMPLES = 3600;
export const DEFAULT_BACKLOG_SAMPLES = 1_000_000;

/**
 * The unstored backlog of the process, its caps, and whether the store's writes are failing now (for /healthz).
 * One per process, shared by the sessions.
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

  /**
   * Whether a batch of `batchSamples` more would pass a cap, for a run holding `runSamples` unstored. A run with
   * nothing unstored may always hold one batch, so a cap below the batch size cannot lock a run out.
   */
  full(runSamples: number, batchSamples: number): boolean {
    const overRun = runSamples > 0 && runSamples + batchSamples > this.maxRunSamples;
    return overRun || this.samples + batchSamples > this.maxSamples;
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
