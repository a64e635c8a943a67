/**
 * Group commit: sample batches of all live runs of the process are buffered for a few ms and stored in one
 * transaction, one fsync for many watches.
 * @module
 */
import type { SampleBatch, SampleBatchResult, Store } from '../store/types.js';
import { SYSTEM_CLOCK, type LiveClock } from './clock.js';

/**
 * Told how a batch's transaction went, with the `token` its caller gave: one waiter can serve every batch of a run,
 * so a batch costs the live path no promise and no closures (see WriteQueue.writeAlone). Neither may throw: the
 * transaction's other batches are told after it, in the same loop.
 */
export interface CommitWaiter<T> {
  committed(token: T, result: SampleBatchResult): void;
  failed(token: T, err: unknown): void;
}

interface Pending {
  batch: SampleBatch;
  waiter: CommitWaiter<unknown>;
  token: unknown;
}

/** The waiter behind {@link GroupCommit.add}: its token is the promise's two functions. */
const SETTLES: CommitWaiter<{ resolve: (r: SampleBatchResult) => void; reject: (e: unknown) => void }> = {
  committed: (p, result) => p.resolve(result),
  failed: (p, err) => p.reject(err),
};

/**
 * Tells each batch's waiter once its transaction committed ("acked ⇒ stored"), or that it failed (every batch of
 * the transaction; the sessions retry). One per process, shared by the sessions.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    /** How long to wait for more batches, ms. @default 4 */
    private readonly windowMs = 4,
    /** Flush at once when this many batches wait. @default 256 */
    private readonly maxBatches = 256,
    private readonly clock: LiveClock = SYSTEM_CLOCK,
  ) {}

  /** Resolves with the batch's result once its transaction committed; rejects when it failed. */
  add(batch: SampleBatch): Promise<SampleBatchResult> {
    return new Promise((resolve, reject) => this.enqueue(batch, SETTLES, { resolve, reject }));
  }

  /** Queues a batch for the next transaction; `waiter` is told with `token` how it went. */
  enqueue<T>(batch: SampleBatch, waiter: CommitWaiter<T>, token: T): void {
    this.pending.push({ batch, waiter: waiter as CommitWaiter<unknown>, token });
    if (this.pending.length >= this.maxBatches) this.flush();
    else this.cancelTimer ??= this.clock.after(this.windowMs, () => this.flush());
  }

  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    this.store.appendSampleBatches(items.map((i) => i.batch)).then(
      (results) => {
        for (let k = 0; k < items.length; k++) items[k]!.waiter.committed(items[k]!.token, results[k]!);
      },
      (err: unknown) => {
        for (const item of items) item.waiter.failed(item.token, err);
      },
    );
  }
}
