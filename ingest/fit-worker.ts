/**
 * Worker entry for a piscina pool: `new Piscina({ filename: '.../ingest/fit-worker.js' })`, then
 * `pool.run(bytes)`. Errors come back as data (`{ error: { code, message } }`), never as a thrown
 * stack, so the server maps them like any other IngestError.
 * @module
 */
import { IngestError } from './errors.js';
import type { IngestCode } from './errors.js';
import { decodeFit } from './fit.js';
import type { NormalizedRun } from './sample.js';

export type FitWorkerResult = NormalizedRun | { error: { code: IngestCode; message: string } };

export default async function decodeFitInWorker(bytes: Uint8Array): Promise<FitWorkerResult> {
  try {
    return await decodeFit(bytes);
  } catch (err) {
    if (err instanceof IngestError) return { error: err.toJSON() };
    const detail = err instanceof Error ? err.message : String(err);
    return { error: { code: 'FIT_DECODE_FAILED', message: `could not decode FIT data: ${detail.split('\n')[0]}` } };
  }
}
