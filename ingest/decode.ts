/**
 * Any activity file → NormalizedRun: the one entry for uploads, the CLI and workers. The format is read from
 * the content, never from the name: FIT by its ".FIT" header, gzip by its magic bytes (decompressed under the
 * same size limit, so a small "zip bomb" stops at the limit, then sniffed again), GPX and TCX by their XML root
 * element. Every refusal is an IngestError with a code from ACTIVITY_ERROR_CODES (ingest/errors.ts).
 * @module
 */
import { constants, gunzipSync } from 'node:zlib';
import { IngestError } from './errors.js';
import { decodeFitSync } from './fit.js';
import { decodeGpxText } from './gpx.js';
import type { IngestWarning, NormalizedRun } from './sample.js';
import { decodeTcxText } from './tcx.js';
import { looksLikeXml, xmlRoot, xmlText } from './xml.js';

export type ActivityFormat = 'fit' | 'gpx' | 'tcx';

export interface DecodeActivityOptions {
  /** The name the file came with: only for warnings when it disagrees with the content. */
  fileName?: string;
  /** Larger inputs fail with FIT_TOO_LARGE / XML_TOO_LARGE, larger gzip contents with GZIP_TOO_LARGE. @default 64 MiB */
  maxBytes?: number;
  /** FIT only: decode a file whose CRC does not match, with a warning. @default false */
  allowBadCrc?: boolean;
}

export const DEFAULT_MAX_ACTIVITY_BYTES = 64 * 1024 * 1024;

/** The format of `bytes` by content, 'gzip', or null for none of them. */
export function sniffFormat(bytes: Uint8Array): ActivityFormat | 'gzip' | 'xml' | null {
  if (bytes.length >= 12 && bytes[8] === 0x2e && bytes[9] === 0x46 && bytes[10] === 0x49 && bytes[11] === 0x54) return 'fit';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (looksLikeXml(bytes)) return 'xml';
  return null;
}

function gunzip(bytes: Uint8Array, maxBytes: number): { bytes: Uint8Array; truncated: boolean } {
  const tooLarge = () => new IngestError('GZIP_TOO_LARGE', `gzip contents larger than the limit of ${maxBytes} bytes`);
  try {
    return { bytes: gunzipSync(bytes, { maxOutputLength: maxBytes }), truncated: false };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge();
    if (e.code !== 'Z_BUF_ERROR' && !/unexpected end/i.test(e.message)) {
      throw new IngestError('GZIP_BAD', `corrupt gzip data: ${e.message.split('\n')[0]}`, { cause: err });
    }
  }
  // Cut short: what decompresses up to the cut is kept, like a FIT file cut short.
  try {
    return { bytes: gunzipSync(bytes, { maxOutputLength: maxBytes, finishFlush: constants.Z_SYNC_FLUSH }), truncated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge();
    throw new IngestError('GZIP_BAD', `corrupt gzip data: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

function decodeXml(bytes: Uint8Array, maxBytes: number): { run: NormalizedRun; format: ActivityFormat } {
  if (bytes.length > maxBytes) throw new IngestError('XML_TOO_LARGE', `XML file too large: ${bytes.length} bytes, limit ${maxBytes}`);
  const text = xmlText(bytes);
  const root = xmlRoot(text);
  if (root === 'gpx') return { run: decodeGpxText(text), format: 'gpx' };
  if (root === 'TrainingCenterDatabase') return { run: decodeTcxText(text), format: 'tcx' };
  throw new IngestError('XML_UNSUPPORTED', `XML with root <${root.slice(0, 40)}> is neither GPX nor TCX`);
}

const NAME_FORMAT = /\.(fit|gpx|tcx)(\.gz)?$/i;

/** What the content is, besides the run, for callers that say so (inspect, the upload record). */
export interface DecodedActivity {
  run: NormalizedRun;
  format: ActivityFormat;
  gzipped: boolean;
}

/** Decodes and says which format it was. See {@link decodeActivitySync}. */
export function decodeActivityDetailed(bytes: Uint8Array, options: DecodeActivityOptions = {}): DecodedActivity {
  if (!(bytes instanceof Uint8Array)) throw new IngestError('FIT_NOT_FIT', 'not an activity file: input is not bytes');
  if (bytes.length === 0) throw new IngestError('FIT_EMPTY', 'empty file: zero bytes');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ACTIVITY_BYTES;
  let data = bytes;
  let gzipped = false;
  let cut = false;
  let kind = sniffFormat(data);
  if (kind === 'gzip') {
    if (data.length > maxBytes) throw new IngestError('GZIP_TOO_LARGE', `gzip file too large: ${data.length} bytes, limit ${maxBytes}`);
    ({ bytes: data, truncated: cut } = gunzip(data, maxBytes));
    gzipped = true;
    if (data.length === 0) throw new IngestError('FIT_EMPTY', 'the gzip file holds nothing');
    kind = sniffFormat(data);
    if (kind === 'gzip') throw new IngestError('GZIP_BAD', 'gzip inside gzip is not read');
  }
  let run: NormalizedRun;
  let format: ActivityFormat;
  if (kind === 'xml') {
    ({ run, format } = decodeXml(data, maxBytes));
  } else {
    // FIT, or nothing readable: the FIT decoder's header checks give the code (FIT_NOT_FIT, FIT_BAD_HEADER).
    try {
      run = decodeFitSync(data, { maxBytes, ...(options.allowBadCrc !== undefined ? { allowBadCrc: options.allowBadCrc } : {}) });
    } catch (err) {
      if (err instanceof IngestError && err.code === 'FIT_NOT_FIT') {
        throw new IngestError('FIT_NOT_FIT', `not a FIT, GPX or TCX file${gzipped ? ' inside the gzip data' : ''}`);
      }
      throw err;
    }
    format = 'fit';
  }
  const extra: IngestWarning[] = [];
  if (cut) extra.push({ code: 'truncated', message: 'gzip data cut short: decoded what it holds', count: 1 });
  const named = options.fileName ? NAME_FORMAT.exec(options.fileName) : null;
  if (named && named[1]!.toLowerCase() !== format) {
    extra.push({ code: 'name_mismatch', message: `named .${named[1]!.toLowerCase()} but the content is ${format.toUpperCase()}: read as ${format.toUpperCase()}`, count: 1 });
  }
  if (extra.length > 0) run.warnings = [...run.warnings, ...extra];
  return { run, format, gzipped };
}

/**
 * Decodes a FIT, GPX or TCX file, each possibly gzipped, into a NormalizedRun. Throws IngestError with a code of
 * ACTIVITY_ERROR_CODES and a one-line message.
 */
export function decodeActivitySync(bytes: Uint8Array, options: DecodeActivityOptions = {}): NormalizedRun {
  return decodeActivityDetailed(bytes, options).run;
}

/** {@link decodeActivitySync}, as a promise (the same call in a worker or on the event loop). */
export async function decodeActivity(bytes: Uint8Array, options: DecodeActivityOptions = {}): Promise<NormalizedRun> {
  return decodeActivitySync(bytes, options);
}
