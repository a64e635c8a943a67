/**
 * Piscina worker: decodes an activity file (FIT, GPX, TCX, gzipped or not: ingest/decode.ts), analyses it,
 * summarises it for the athlete model and encodes its samples for the store off the event loop, so a large upload
 * never delays live prompts. Returns coded failures as data (an Error's
 * class and code do not survive the thread boundary), and hands the decoded columns back by transfer, not by
 * copy (a copy of a large run is deserialised on the event loop).
 * @module
 */
import { Piscina } from 'piscina';
import { decodeActivity } from '../../ingest/decode.js';
import { isActivityErrorCode } from '../../ingest/errors.js';
import { analyzeRun } from '../../alerts/engine.js';
import type { EngineOptions, Report } from '../../alerts/types.js';
import { SAMPLE_FIELDS, type NormalizedRun } from '../../ingest/sample.js';
import { summarizeRun, type RunSummary } from '../athlete/summary.js';
import { encodeChunkOf, type EncodedChunk } from '../store/codec.js';
import { uploadChunks } from '../store/shared.js';

/** What one upload may be: checked after decoding, before the analysis. */
export interface UploadCaps {
  /** Most samples (records). */
  maxSamples: number;
  /** Longest elapsed time from the first record to the last, s. */
  maxDurationS: number;
}

/** An activity file to decode and analyse, or an already-normalised run (a live run that ended) to analyse. */
export type AnalyzeTask =
  | { bytes: Uint8Array; options: EngineOptions; caps?: UploadCaps }
  | { run: NormalizedRun; options: EngineOptions };

export type AnalyzeResult =
  /**
   * An upload's row for the athlete model (`summary`) and its samples encoded for the store (`chunks`), done here
   * too: for 100,000 records they took ~55 ms and ~10 ms on the event loop.
   */
  | { ok: true; run: NormalizedRun; report: Report; summary?: RunSummary; chunks?: EncodedChunk[] }
  | { ok: false; code: string; message: string };

/** Why a decoded upload is refused before it is analysed, or null. */
export function capsProblem(run: NormalizedRun, caps: UploadCaps): { code: string; message: string } | null {
  const n = run.samples.length;
  if (n > caps.maxSamples) {
    return { code: 'RUN_TOO_LARGE', message: `the run has ${n} records; this server stores at most ${caps.maxSamples} per upload` };
  }
  const elapsed = n > 0 ? run.samples.t[n - 1]! - run.samples.t[0]! : 0;
  if (!(elapsed <= caps.maxDurationS)) {
    const days = (caps.maxDurationS / 86_400).toFixed(0);
    return { code: 'RUN_TOO_LONG', message: `the records span ${(elapsed / 86_400).toFixed(1)} days; a run may span at most ${days} days` };
  }
  return null;
}

/** The result with the run's column buffers listed for transfer (each buffer once). */
function movable(result: AnalyzeResult & { ok: true }): unknown {
  const buffers = new Set<ArrayBuffer>();
  const take = (a: Float64Array | Uint8Array) => {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) buffers.add(a.buffer);
  };
  for (const f of SAMPLE_FIELDS) take(result.run.samples[f]);
  if (result.run.rr) {
    take(result.run.rr.t);
    take(result.run.rr.ms);
  }
  for (const c of result.chunks ?? []) take(c.bytes);
  // piscina's transferable protocol: the list and the value under its two symbols.
  const transferable = { [Piscina.transferableSymbol]: [...buffers], [Piscina.valueSymbol]: result };
  return Piscina.move(transferable as unknown as Parameters<typeof Piscina.move>[0]);
}

export default async function analyzeFile(task: AnalyzeTask): Promise<AnalyzeResult> {
  try {
    const run = 'run' in task ? task.run : await decodeActivity(task.bytes);
    if ('bytes' in task && task.caps) {
      const problem = capsProblem(run, task.caps);
      if (problem) return { ok: false, ...problem };
    }
    const report = analyzeRun(run, task.options);
    // A live run's columns came from the event loop and are not needed back: only an upload's are moved.
    if (!('bytes' in task)) return { ok: true, run, report };
    const chunks = uploadChunks(run.samples.length).map(([start, end]) => encodeChunkOf(run.samples, start, end));
    return movable({ ok: true, run, report, summary: summarizeRun(run), chunks }) as AnalyzeResult;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (isActivityErrorCode(e?.code) || (typeof e?.code === 'string' && e.code.startsWith('SAMPLE_'))) {
      return { ok: false, code: e.code, message: String(e.message) };
    }
    return { ok: false, code: 'FIT_DECODE_FAILED', message: `could not analyse the file: ${String(e?.message ?? err)}` };
  }
}
