/**
 * Decoding a FIT file from a path (CLI, scripts): the read error becomes an IngestError like any other.
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

/** `{ error: { code, message } }` for any failure, with a one-line message and never a stack. */
export function errorJson(err: unknown): { error: { code: string; message: string } } {
  if (err instanceof IngestError) return { error: err.toJSON() };
  const message = err instanceof Error ? err.message : String(err);
  return { error: { code: 'FIT_DECODE_FAILED', message: message.split('\n')[0] ?? 'unknown error' } };
}
