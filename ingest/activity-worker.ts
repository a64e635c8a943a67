/**
 * Worker entry for a piscina pool: `new Piscina({ filename: '.../ingest/fit-worker.js' })`, then
 * `pool.run(bytes)`. Errors come back as data (`{ error: { code, message } }`), never as a thrown
 * stack, so the server maps them like any other IngestError.
 * @module
 */
import { errorJson } from './fit-file.js';
import { decodeFit } from './fit.js';
import type { NormalizedRun } from './sample.js';

export type FitWorkerResult = NormalizedRun | { error: { code: string; message: string } };

export default async function decodeFitInWorker(bytes: Uint8Array): Promise<FitWorkerResult> {
  try {
    return await decodeFit(bytes);
  } catch (err) {
    return errorJson(err);
  }
}
