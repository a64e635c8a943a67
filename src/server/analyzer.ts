/**
 * The upload path's thread pool: FIT decoding and whole-run analysis run in piscina workers.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { EngineOptions, Report } from '../../alerts/types.js';
import { IngestError, type IngestCode } from '../../ingest/errors.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import type { AnalyzeResult, AnalyzeTask } from './analyze-worker.js';
import { ApiError } from './errors.js';

export interface Analyzer {
  /** Decodes and analyses a FIT file. @throws IngestError for files that are not valid FIT activities. */
  analyze(bytes: Uint8Array, options: EngineOptions): Promise<{ run: NormalizedRun; report: Report }>;
  /** Analyses a normalised run (a live run that ended) off the event loop. */
  analyzeRun(run: NormalizedRun, options: EngineOptions): Promise<Report>;
  close(): Promise<void>;
}

/**
 * The compiled worker next to this module; when this module runs from TypeScript sources (vitest), the
 * build's copy under dist/ (`npm test` builds first).
 */
function workerFile(): string {
  const here = new URL('./analyze-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here.href;
  const fromDist = fileURLToPath(here).replace(/([\\/])src([\\/])server([\\/])/, '$1dist$2src$2server$3');
  if (existsSync(fromDist)) return pathToFileURL(fromDist).href;
  throw new Error(`analyze worker not found (${fileURLToPath(here)}); run \`npm run build\``);
}

export interface AnalyzerLimits {
  /** An upload's decoding and analysis is stopped (its worker ended) after this long, ms; 0 = none. */
  timeLimitMs?: number;
  /** Heap limit of each worker, MB; a file needing more fails instead of taking the machine's memory. */
  memoryLimitMb?: number;
  /**
   * Niceness added to each worker thread (piscina's niceIncrement; on Linux nice applies to the calling thread
   * only). On a busy machine the event loop, which delivers live prompts, then gets the CPU before decoding.
   */
  nice?: number;
}

/** A FIT file that is small on disk but would take too long or too much memory to decode (a "FIT bomb"). */
const tooComplex = (why: string) => new ApiError(413, 'FIT_TOO_COMPLEX', `the file is too complex to decode: ${why}`);

export function createAnalyzer(threads: number, limits: AnalyzerLimits = {}): Analyzer {
  const pool = new Piscina({
    filename: workerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    niceIncrement: limits.nice ?? 0,
    ...(limits.memoryLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: limits.memoryLimitMb } } : {}),
  });
  return {
    async analyze(bytes, options) {
      const task: AnalyzeTask = { bytes, options };
      // Aborting a running task ends its worker thread; the pool starts a fresh one.
      const signal = limits.timeLimitMs ? AbortSignal.timeout(limits.timeLimitMs) : undefined;
      let result: AnalyzeResult;
      try {
        result = (await pool.run(task, signal ? { signal } : {})) as AnalyzeResult;
      } catch (err) {
        if (signal?.aborted) throw tooComplex(`stopped after ${Math.round(limits.timeLimitMs! / 1000)} s`);
        if ((err as { code?: string } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') throw tooComplex('over the memory limit');
        throw err;
      }
      if (!result.ok) throw new IngestError(result.code as IngestCode, result.message);
      return { run: result.run, report: result.report };
    },
    async analyzeRun(run, options) {
      const task: AnalyzeTask = { run, options };
      const result = (await pool.run(task)) as AnalyzeResult;
      if (!result.ok) throw new IngestError(result.code as IngestCode, result.message);
      return result.report;
    },
    async close() {
      await pool.destroy();
    },
  };
}
