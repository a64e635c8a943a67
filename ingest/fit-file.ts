/**
 * Decoding a FIT file, FIT only, from a path: the read error becomes an IngestError like any other. Any format
 * (FIT, GPX, TCX, gzipped), and standard input: ingest/activity-file.ts, which the CLI uses.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { IngestError } from './errors.js';
import { decodeFit } from './fit.js';
import type { DecodeFitOptions } from './fit.js';
import type { NormalizedRun } from './sample.js';

export async function readFitFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new IngestError('FILE_UNREADABLE', `cannot read ${path}: ${reason}`, { cause: err });
  }
}

export async function decodeFitFile(path: string, options?: DecodeFitOptions): Promise<NormalizedRun> {
  return decodeFit(await readFitFile(path), options);
}

export { errorJson } from './activity-file.js';
