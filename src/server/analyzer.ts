/**
 * The upload path's thread pool: FIT decoding and whole-run analysis run in piscina workers, behind a bounded,
 * fair admission (so one athlete cannot fill the queue, and memory held by queued uploads stays bounded) and a
 * deadline that counts decoding only, not the wait for a worker.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { EngineOptions, Report } from '../../alerts/types.js';
import { IngestError, type IngestCode } from '../../ingest/errors.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import type { RunSummary } from '../athlete/summary.js';
import type { EncodedChunk } from '../store/codec.js';
import type { AnalyzeResult, AnalyzeTask, UploadCaps } from './analyze-worker.js';
import { workerFile } from '../worker-file.js';
import { ApiError } from './errors.js';

/** An admitted upload's place; `release` (idempotent) frees it once the request is answered. */
export interface Admission {
  release(): void;
}

export interface Analyzer {
  /**
   * A place for one upload by `owner`, taken before its body is read. @throws ApiError 429 UPLOAD_QUEUE_FULL (with
   * `retryAfterS`) when the queue or the owner's share of it is full.
   */
  admit(owner: string): Admission;
  /**
   * Decodes, analyses and summarises (for the athlete model) an activity file. @throws IngestError for files that
   * are not valid activities.
   */
  analyze(bytes: Uint8Array, options: EngineOptions): Promise<{ run: NormalizedRun; report: Report; summary: RunSummary; chunks: EncodedChunk[] }>;
  /** Analyses a normalised run (a live run that ended) off the event loop; goes ahead of waiting uploads. */
  analyzeRun(run: NormalizedRun, options: EngineOptions): Promise<Report>;
  /** Uploads admitted now (receiving, waiting for a worker, decoding). */
  readonly admitted: number;
  close(): Promise<void>;
}

/**
 * The workers' Node flags: the server's, with require(esm) off. piscina loads its worker file with `require()` first
 * and falls back to `import()`. On Node 20.20, `require()` of this ES module worker once aborted a whole test process
 * in CI (V8 fatal "IsGraphAsync must be used on an instantiated module", from piscina's require), so the workers take
 * the `import()` path, which Node has had far longer. Undefined (inherit, as Node does by default) where require(esm)
 * is off.
 *
 * The server's own flags go along only where a worker takes them: given explicitly, a V8 or process-wide flag
 * (`--max-old-space-size`, `--expose-gc`, `--trace-gc`, `--title`) makes `new Worker` throw, and the server would not
 * start. Checked once, by constructing a worker that does nothing.
 */
export function workerExecArgv(): string[] | undefined {
  const features = process.features as { require_module?: boolean };
  if (!features.require_module) return undefined;
  inheritable ??= workerTakes(process.execArgv) ? [...process.execArgv] : [];
  return [...inheritable, '--no-experimental-require-module'];
}
let inheritable: string[] | undefined;

function workerTakes(execArgv: string[]): boolean {
  if (execArgv.length === 0) return true;
  try {
    void new Worker('', { eval: true, execArgv }).terminate();
    return true;
  } catch (err) {
    if ((err as { code?: unknown })?.code === 'ERR_WORKER_INVALID_EXEC_ARGV') return false;
    throw err;
  }
}

/** Longest elapsed time an upload may span: a week (the longest multi-day races are under that). */
export const MAX_RUN_DURATION_S = 7 * 86_400;

export interface AnalyzerLimits {
  /** An upload's decoding and analysis is stopped (its worker ended) after this long, counted from when a worker takes it, ms; 0 = none. */
  timeLimitMs?: number;
  /** Heap limit of each worker, MB; a file needing more fails instead of taking the machine's memory. */
  memoryLimitMb?: number;
  /**
   * Niceness added to each worker thread (piscina's niceIncrement; on Linux nice applies to the calling thread
   * only). On a busy machine the event loop, which delivers live prompts, then gets the CPU before decoding.
   */
  nice?: number;
  /** Uploads admitted at once. @default 16 */
  queueMax?: number;
  /** Uploads one owner may have admitted at once. @default 2 */
  perOwner?: number;
  /** Most samples one upload may have (413 RUN_TOO_LARGE). @default 200 000 */
  maxSamples?: number;
}

/** A FIT file that is small on disk but would take too long or too much memory to decode (a "FIT bomb"). */
const tooComplex = (why: string) => new ApiError(413, 'FIT_TOO_COMPLEX', `the file is too complex to decode: ${why}`);

/** Refusals the worker reports for a decoded run past the caps. */
const CAP_STATUS: Record<string, number> = { RUN_TOO_LARGE: 413, RUN_TOO_LONG: 422 };

/** Worker slots: at most `size` tasks in the pool at once, so a task's deadline starts when a worker takes it. */
class Slots {
  private busy = 0;
  private readonly urgent: (() => void)[] = [];
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async take(urgent: boolean): Promise<() => void> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => (urgent ? this.urgent : this.waiting).push(resolve));
    else this.busy++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // The slot passes straight to the next waiter (busy stays the same), live analyses first.
      const next = this.urgent.shift() ?? this.waiting.shift();
      if (next) next();
      else this.busy--;
    };
  }
}

export function createAnalyzer(threads: number, limits: AnalyzerLimits = {}): Analyzer {
  const execArgv = workerExecArgv();
  const pool = new Piscina({
    filename: workerFile(new URL('./analyze-worker.js', import.meta.url)),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    niceIncrement: limits.nice ?? 0,
    ...(execArgv ? { execArgv } : {}),
    ...(limits.memoryLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: limits.memoryLimitMb } } : {}),
  });
  const slots = new Slots(threads);
  const queueMax = limits.queueMax ?? 16;
  const perOwner = limits.perOwner ?? 2;
  const caps: UploadCaps = { maxSamples: limits.maxSamples ?? 200_000, maxDurationS: MAX_RUN_DURATION_S };
  const byOwner = new Map<string, number>();
  let admitted = 0;
  // Mean seconds an upload holds a worker (exponentially weighted), for Retry-After.
  let meanDecodeS = 1;

  const retryAfterS = () => Math.min(60, Math.max(1, Math.ceil((admitted * meanDecodeS) / threads)));

  return {
    get admitted() {
      return admitted;
    },
    admit(owner) {
      const mine = byOwner.get(owner) ?? 0;
      if (mine >= perOwner) {
        throw new ApiError(429, 'UPLOAD_QUEUE_FULL', `you already have ${mine} uploads in progress: wait for one to finish`, { retryAfterS: retryAfterS() });
      }
      if (admitted >= queueMax) {
        throw new ApiError(429, 'UPLOAD_QUEUE_FULL', 'the server is decoding as many uploads as it can: try again shortly', { retryAfterS: retryAfterS() });
      }
      admitted++;
      byOwner.set(owner, mine + 1);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          admitted--;
          const left = (byOwner.get(owner) ?? 1) - 1;
          if (left > 0) byOwner.set(owner, left);
          else byOwner.delete(owner);
        },
      };
    },
    async analyze(bytes, options) {
      const task: AnalyzeTask = { bytes, options, caps };
      const free = await slots.take(false);
      const started = performance.now();
      // The clock starts now that a worker is free for this upload. Aborting a running task ends its worker
      // thread; the pool starts a fresh one.
      const signal = limits.timeLimitMs ? AbortSignal.timeout(limits.timeLimitMs) : undefined;
      let result: AnalyzeResult;
      try {
        result = (await pool.run(task, signal ? { signal } : {})) as AnalyzeResult;
      } catch (err) {
        if (signal?.aborted) throw tooComplex(`stopped after ${Math.round(limits.timeLimitMs! / 1000)} s`);
        if ((err as { code?: string } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') throw tooComplex('over the memory limit');
        throw err;
      } finally {
        meanDecodeS = 0.8 * meanDecodeS + 0.2 * ((performance.now() - started) / 1000);
        free();
      }
      if (!result.ok) {
        const status = CAP_STATUS[result.code];
        if (status) throw new ApiError(status, result.code, result.message);
        throw new IngestError(result.code as IngestCode, result.message);
      }
      // The worker summarises and encodes every upload (see AnalyzeResult).
      return { run: result.run, report: result.report, summary: result.summary!, chunks: result.chunks! };
    },
    async analyzeRun(run, options) {
      const task: AnalyzeTask = { run, options };
      const free = await slots.take(true);
      let result: AnalyzeResult;
      try {
        result = (await pool.run(task)) as AnalyzeResult;
      } finally {
        free();
      }
      if (!result.ok) throw new IngestError(result.code as IngestCode, result.message);
      return result.report;
    },
    async close() {
      await pool.destroy();
    },
  };
}
