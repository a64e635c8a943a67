/**
 * The embedded store on its own thread: a worker (sqlite-worker.ts) owns the SQLite connection and runs every
 * statement, so the event loop that serves the watches never runs one. better-sqlite3 is synchronous, and on the
 * event loop its transactions were about a quarter of the live path's CPU at saturation and the upload's write
 * transaction a stall of every socket (docs/benchmarks.md). The contract is SqliteStore's, run by the worker; this
 * side forwards each call as a message and settles it with the answer, in the order the worker answers.
 *
 * - Values cross by structured clone (the Store's values are plain data); the typed arrays a result owns (a run's
 *   sample columns) are moved, not copied.
 * - A thread that stops (out of memory, a bug) fails the calls in flight with STORE_UNAVAILABLE, which the live
 *   path retries and the API answers 503; the next call starts a fresh thread (the file holds all the state).
 * - The thread keeps the process alive only while a call is in flight, as an in-process store would.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { workerFile } from '../worker-file.js';
import { packBatches, packedBuffers, unpackResults } from './batch-wire.js';
import { StoreError, type SampleBatch, type SampleBatchResult, type Store, type StoreConfig, type StoreErrorCode } from './types.js';

/** A Store method a call names. */
type Method = Exclude<keyof Store, 'kind'>;
/**
 * Every Store method the thread runs as it is, which is all but `close` (that ends the thread too) and
 * `appendSampleBatches` (its encoded batches cross packed, batch-wire.ts). A record, so the compiler says when the
 * Store gains a method this list lacks.
 */
const FORWARDED: Record<Exclude<Method, 'close' | 'appendSampleBatches'>, true> = {
  ping: true,
  schemaVersion: true,
  createAthlete: true,
  authenticate: true,
  getAthlete: true,
  updateAthleteProfile: true,
  createUploadedRun: true,
  findRunByFileSha: true,
  startLiveRun: true,
  endLiveRun: true,
  setReport: true,
  getRun: true,
  listRuns: true,
  findRunsStartingNear: true,
  deleteRun: true,
  readSamples: true,
  appendEvents: true,
  listEvents: true,
  appendAlerts: true,
  listAlerts: true,
  markAlertsDelivered: true,
  saveCheckpoint: true,
  getCheckpoint: true,
  addJournalEntry: true,
  listJournal: true,
  getJournalEntry: true,
  deleteJournalEntry: true,
  saveRunSummary: true,
  listRunSummaries: true,
  runSummaryDigest: true,
  listRunSummaryStamps: true,
};
/** The methods a call may name (what the worker accepts). */
export const STORE_METHODS: ReadonlySet<string> = new Set([...Object.keys(FORWARDED), 'appendSampleBatches', 'close']);
/** One call to the thread. */
export interface StoreCall {
  id: number;
  method: string;
  args: unknown[];
}
/** A StoreError as it crosses (`code` null: some other error, answered as a plain Error). */
export interface WireError {
  code: StoreErrorCode | null;
  message: string;
}
/** The thread's answer to call `id`. */
export type StoreReply = { id: number; value: unknown; error?: undefined } | { id: number; error: WireError };

/** The running thread's worker, for tests that stop it as a crash would (tests/store/sqlite-thread.test.ts). */
export const STORE_WORKER = Symbol('store worker');

const closedError = () => new StoreError('STORE_UNAVAILABLE', 'store is closed');

function fromWire(error: WireError): Error {
  return error.code === null ? new Error(error.message) : new StoreError(error.code, error.message);
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One worker and the calls it has not answered. */
class StoreThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Closing: the thread keeps the process alive until it has ended. */
  private closing = false;
  stopped = false;

  private constructor(readonly worker: Worker) {
    worker.on('message', (reply: StoreReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.settled(reply.id);
      if (reply.error) p.reject(fromWire(reply.error));
      else p.resolve(reply.value);
    });
    worker.on('exit', (code) => {
      this.stopped = true;
      const error = new StoreError('STORE_UNAVAILABLE', `storage unavailable: the store thread stopped (exit code ${code})`);
      const calls = [...this.pending.values()];
      this.pending.clear();
      for (const p of calls) p.reject(error);
    });
    // An uncaught error in the thread is followed by its exit, which fails the calls in flight.
    worker.on('error', () => {});
  }

  /** Starts a thread on `config` and resolves once its store is open; rejects with the open's StoreError. */
  static start(config: StoreConfig): Promise<StoreThread> {
    // No flags from the process: the thread runs the built store and needs none, and some (`--input-type`, a V8 flag
    // given explicitly) stop a worker from starting.
    const worker = new Worker(new URL(workerFile(new URL('./sqlite-worker.js', import.meta.url))), { workerData: config, execArgv: [] });
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => {
        worker.off('message', opened);
        reject(error);
      };
      const onExit = (code: number) => failed(new StoreError('STORE_UNAVAILABLE', `storage unavailable: the store thread stopped while opening (exit code ${code})`));
      const onError = (err: Error) => failed(new StoreError('STORE_UNAVAILABLE', `storage unavailable: the store thread failed: ${err.message}`, { cause: err }));
      const opened = (m: { ready: boolean; error?: WireError }) => {
        worker.off('exit', onExit);
        worker.off('error', onError);
        if (m.ready) {
          const thread = new StoreThread(worker);
          worker.unref();
          resolve(thread);
        } else {
          reject(fromWire(m.error!));
          void worker.terminate();
        }
      };
      worker.once('message', opened);
      worker.once('exit', onExit);
      worker.once('error', onError);
    });
  }

  /** Sends a call (moving the buffers in `transfer`) and settles with its answer. */
  call(method: Method, args: unknown[], transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.stopped) return Promise.reject(new StoreError('STORE_UNAVAILABLE', 'storage unavailable: the store thread stopped'));
    const id = this.nextId++;
    const call: StoreCall = { id, method, args };
    try {
      this.worker.postMessage(call, transfer);
    } catch (error) {
      return Promise.reject(new StoreError('STORE_BAD_INPUT', `the store cannot take this value: ${(error as Error).message}`));
    }
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
  }

  /** Closes the store and waits for the thread to end. */
  async close(): Promise<void> {
    if (this.stopped) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.closing = true;
    this.worker.ref();
    await this.call('close', []).catch(() => this.worker.terminate());
    await exited;
  }
}

// The forwarding methods are defined in the class's static block, from FORWARDED.
export interface SqliteThreadStore extends Omit<Store, 'kind' | 'close'> {}
export class SqliteThreadStore implements Store {
  static {
    for (const method of Object.keys(FORWARDED) as Array<keyof typeof FORWARDED>) {
      Object.defineProperty(SqliteThreadStore.prototype, method, {
        value: function (this: SqliteThreadStore, ...args: unknown[]) {
          return this.#call(method, args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  readonly kind = 'sqlite' as const;
  #thread: StoreThread | null = null;
  #starting: Promise<StoreThread> | null = null;
  #closed = false;

  private constructor(private readonly config: StoreConfig) {}

  /** Opens (creating if needed) `<dataDir>/crampguard.sqlite` on a store thread; rejects as SqliteStore.open throws. */
  static async open(config: Pick<StoreConfig, 'dataDir' | 'synchronous'> = {}): Promise<SqliteThreadStore> {
    const store = new SqliteThreadStore({ dataDir: config.dataDir, synchronous: config.synchronous });
    await store.#running();
    return store;
  }

  [STORE_WORKER](): Worker | null {
    return this.#thread?.worker ?? null;
  }

  /** The running thread, started again when the last one stopped. */
  #running(): Promise<StoreThread> {
    if (this.#starting) return this.#starting;
    this.#starting = StoreThread.start(this.config).then(
      (thread) => {
        this.#starting = null;
        this.#thread = thread;
        return thread;
      },
      (error: unknown) => {
        this.#starting = null;
        throw error;
      },
    );
    return this.#starting;
  }

  #call<T>(method: Method, args: unknown[], transfer?: ArrayBuffer[]): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    const thread = this.#thread;
    if (thread && !thread.stopped) return thread.call(method, args, transfer) as Promise<T>;
    return this.#running().then((t) => t.call(method, args, transfer) as Promise<T>);
  }

  /** The live path's group commit: encoded batches cross packed and their results come back packed. */
  appendSampleBatches(batches: readonly SampleBatch[]): Promise<SampleBatchResult[]> {
    const packed = packBatches(batches);
    if (packed === null) return this.#call('appendSampleBatches', [batches]);
    return this.#call<Float64Array>('appendSampleBatches', [packed], packedBuffers(packed)).then((results) => unpackResults(batches, results));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const thread = this.#thread ?? (await this.#starting?.catch(() => null)) ?? null;
    this.#thread = null;
    await thread?.close();
  }
}
