/**
 * Group commit: sample batches of all live runs of the process are buffered for a few ms and stored in one
 * transaction, one fsync for many watches.
 * @module
 */
import type { SampleBatch, SampleBatchResult, Store } from '../store/types.js';
import { SYSTEM_CLOCK, type LiveClock } from './clock.js';

/**
 * Resolves each batch's promise once its transaction committed ("acked ⇒ stored"); rejects them all when the
 * transaction fails (the sessions retry). One per process, shared by the sessions.
 */
export class GroupCommit {
  private pending: { batch: SampleBatch; resolve: (r: SampleBatchResult) => void; reject: (e: unknown) => void }[] = [];
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    /** How long to wait for more batches, ms. @default 4 */
    private readonly windowMs = 4,
    /** Flush at once when this many batches wait. @default 256 */
    private readonly maxBatches = 256,
    private readonly clock: LiveClock = SYSTEM_CLOCK,
  ) {}

  add(batch: SampleBatch): Promise<SampleBatchResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      if (this.pending.length >= this.maxBatches) this.flush();
      else this.cancelTimer ??= this.clock.after(this.windowMs, () => this.flush());
    });
  }

  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    this.store.appendSampleBatches(items.map((i) => i.batch)).then(
      (results) => items.forEach((item, k) => item.resolve(results[k]!)),
      (err) => items.forEach((item) => item.reject(err)),
    );
  }
}
