/**
 * Worker entry for a piscina pool that only decodes: `new Piscina({ filename: '.../ingest/activity-worker.js' })`,
 * then `pool.run(bytes)`. Any activity file (FIT, GPX, TCX, gzipped or not: ingest/decode.ts). Errors come back as
 * data (`{ error: { code, message } }`), never as a thrown stack, so a caller maps them like any other IngestError.
 * (The server's pool decodes and analyses in one task: src/server/analyze-worker.ts.)
 * @module
 */
import { decodeActivity } from './decode.js';
import { errorJson } from './activity-file.js';
import type { NormalizedRun } from './sample.js';

export type ActivityWorkerResult = NormalizedRun | { error: { code: string; message: string } };

export default async function decodeActivityInWorker(bytes: Uint8Array): Promise<ActivityWorkerResult> {
  try {
    return await decodeActivity(bytes);
  } catch (err) {
    return errorJson(err);
  }
}
