/**
 * Decoding an activity file from a path, or `-` for standard input (CLI, scripts): a read error becomes an
 * IngestError like any other, and every failure one `{ error: { code, message } }` line.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { decodeActivity, DEFAULT_MAX_ACTIVITY_BYTES } from './decode.js';
import type { DecodeActivityOptions } from './decode.js';
import { IngestError } from './errors.js';
import type { NormalizedRun } from './sample.js';

/** Reads standard input to its end; more than `maxBytes` fails with FIT_TOO_LARGE before it is all read. */
async function readStdin(maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new IngestError('FIT_TOO_LARGE', `standard input is larger than the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The bytes of `path` (`-`: standard input). @throws IngestError FILE_UNREADABLE */
export async function readActivityFile(path: string, maxBytes = DEFAULT_MAX_ACTIVITY_BYTES): Promise<Uint8Array> {
  try {
    return path === '-' ? await readStdin(maxBytes) : await readFile(path);
  } catch (err) {
    if (err instanceof IngestError) throw err;
    const reason = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new IngestError('FILE_UNREADABLE', `cannot read ${path === '-' ? 'standard input' : path}: ${reason}`, { cause: err });
  }
}

/** Decodes a FIT, GPX or TCX file (gzipped or not) at `path`, or from standard input for `-`. */
export async function decodeActivityFile(path: string, options: DecodeActivityOptions = {}): Promise<NormalizedRun> {
  const bytes = await readActivityFile(path, options.maxBytes);
  return decodeActivity(bytes, { ...(path === '-' ? {} : { fileName: basename(path) }), ...options });
}

/** `{ error: { code, message } }` for any failure, with a one-line message and never a stack. */
export function errorJson(err: unknown): { error: { code: string; message: string } } {
  if (err instanceof IngestError) return { error: err.toJSON() };
  const message = err instanceof Error ? err.message : String(err);
  return { error: { code: 'FIT_DECODE_FAILED', message: message.split('\n')[0] ?? 'unknown error' } };
}
