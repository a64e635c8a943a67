/**
 * Piscina worker: decodes a FIT file and analyses it off the event loop, so a large upload never delays live
 * prompts. Returns coded failures as data (an Error's class and code do not survive the thread boundary).
 * @module
 */
import { decodeFit } from '../../ingest/fit.js';
import { analyzeRun } from '../../alerts/engine.js';
import type { EngineOptions, Report } from '../../alerts/types.js';
import type { NormalizedRun } from '../../ingest/sample.js';

/** A FIT file to decode and analyse, or an already-normalised run (a live run that ended) to analyse. */
export type AnalyzeTask = { bytes: Uint8Array; options: EngineOptions } | { run: NormalizedRun; options: EngineOptions };

export type AnalyzeResult =
  | { ok: true; run: NormalizedRun; report: Report }
  | { ok: false; code: string; message: string };

export default async function analyzeFile(task: AnalyzeTask): Promise<AnalyzeResult> {
  try {
    const run = 'run' in task ? task.run : await decodeFit(task.bytes);
    const report = analyzeRun(run, task.options);
    return { ok: true, run, report };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && /^(FIT_|SAMPLE_)/.test(e.code)) {
      return { ok: false, code: e.code, message: String(e.message) };
    }
    return { ok: false, code: 'FIT_DECODE_FAILED', message: `could not analyse the file: ${String(e?.message ?? err)}` };
  }
}
