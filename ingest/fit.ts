/**
 * FIT file → NormalizedRun. Decoding is fit-file-parser's semantic parser (measured faster than its
 * strict raw reader: see README "FIT files"); framing, CRC checks, truncation recovery and chained files
 * are handled here first (ingest/fit/frame.ts), because fit-file-parser rejects a file cut short,
 * decodes only the first file of a chain and, with its default `force: true`, skips CRC checks.
 *
 * `decodeFit` is a pure function of the bytes and returns plain objects and typed arrays, so it runs
 * unchanged in a worker thread (ingest/activity-worker.ts) and its result survives structured cloning.
 * @module
 */
import { Buffer } from 'node:buffer';
import FitParser from 'fit-file-parser';
import type { ParsedFit } from 'fit-file-parser';
import { IngestError } from './errors.js';
import type { NormalizedRun, RrSeries } from './sample.js';
import { frameFit, segmentBytes } from './fit/frame.js';
import type { FitSegment } from './fit/frame.js';
import { buildMeta } from './fit/meta.js';
import type { SummaryMessages } from './fit/meta.js';
import { allocRecordWorkspace, recordsToColumns } from './fit/records.js';
import { num, WarningLog } from './fit/values.js';
import type { FitMessage } from './fit/values.js';
import { restoreNativeRecordFields } from './fit/native.js';

export interface DecodeFitOptions {
  /**
   * Decode a file whose CRC does not match, with a `crc_mismatch` warning, instead of failing with
   * FIT_CRC_MISMATCH. @default false
   */
  allowBadCrc?: boolean;
  /** Larger inputs fail with FIT_TOO_LARGE before any decoding. @default 64 MiB */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Explicit options: fit-file-parser's defaults are lenient (force) and its units configurable. */
const PARSER_OPTIONS = {
  force: true, // CRC is checked by frameFit; force only stops fit-file-parser from re-checking it
  mode: 'list',
  speedUnit: 'm/s',
  lengthUnit: 'm', // also scales altitude, so it must stay metres
  temperatureUnit: 'celsius',
  elapsedRecordField: false,
} as const;

/** Runs fit-file-parser on one segment. It reports some errors as thrown Errors, others as plain strings. */
export function parseSegment(bytes: Uint8Array, options: Record<string, unknown> = PARSER_OPTIONS): ParsedFit {
  let result: ParsedFit | undefined;
  let failure: unknown;
  try {
    new FitParser({ ...PARSER_OPTIONS, ...options }).parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Buffer<ArrayBuffer>,
      (error, data) => {
        failure = error;
        result = data;
      },
    );
  } catch (err) {
    failure = err;
  }
  if (failure !== undefined || result === undefined) {
    const detail = failure instanceof Error ? failure.message : String(failure ?? 'no result');
    throw new IngestError('FIT_DECODE_FAILED', `could not decode FIT data: ${detail}`, { cause: failure });
  }
  return result;
}

function list(v: unknown): FitMessage[] {
  return Array.isArray(v) ? (v as FitMessage[]) : [];
}

function checkSegments(segments: readonly FitSegment[], trailingBytes: number, allowBadCrc: boolean, warnings: WarningLog): void {
  for (const [i, seg] of segments.entries()) {
    const which = segments.length > 1 ? ` (chained file ${i + 1} of ${segments.length})` : '';
    // A writer that died mid-record leaves a declared size covering a half record (and so a wrong CRC):
    // that is a file cut short, so its whole records are kept, not a corruption of the records.
    const endsMidRecord = !seg.truncated && seg.structureError === null && seg.completeDataSize < seg.declaredDataSize;
    if (seg.crcOk === false && !endsMidRecord) {
      if (!allowBadCrc) throw new IngestError('FIT_CRC_MISMATCH', `FIT file CRC mismatch${which}: the file is corrupt`);
      warnings.add('crc_mismatch', `FIT file CRC mismatch${which}: decoded anyway`);
    }
    if (seg.truncated || endsMidRecord) {
      const lost = seg.declaredDataSize + 2 - seg.completeDataSize;
      warnings.add('truncated', `file cut short${which}: kept every complete record, ${lost} bytes missing or incomplete`);
    }
    if (seg.structureError !== null) {
      warnings.add('malformed', `malformed FIT data${which}: ${seg.structureError}; kept the records before it`);
    }
  }
  if (trailingBytes > 0) warnings.add('trailing_bytes', `ignored ${trailingBytes} bytes after the last FIT file`, trailingBytes);
}

/**
 * RR intervals from hrv messages. hrv messages carry no time, so each is anchored to the record it
 * follows in the file; intervals then advance a beat clock, resynced at the anchor after a gap.
 */
function rrSeries(hrv: readonly FitMessage[], anchors: readonly number[]): RrSeries | null {
  const t: number[] = [];
  const ms: number[] = [];
  let clock = NaN;
  for (const [k, message] of hrv.entries()) {
    const anchor = anchors[k] ?? NaN;
    if (Number.isNaN(clock) || anchor - clock > 5) clock = anchor; // forward only: t stays increasing
    const times = message.time;
    if (!Array.isArray(times)) continue;
    for (const v of times) {
      const seconds = num(v);
      if (Number.isNaN(seconds) || seconds <= 0 || seconds >= 65.535) continue; // 0xFFFF/1000 = invalid
      clock = (Number.isNaN(clock) ? 0 : clock) + seconds;
      t.push(Math.round(clock * 1000) / 1000);
      ms.push(Math.round(seconds * 1000));
    }
  }
  return ms.length === 0 ? null : { t: Float64Array.from(t), ms: Float64Array.from(ms) };
}

/**
 * Decodes a FIT file. Throws IngestError (FIT_EMPTY, FIT_NOT_FIT, FIT_BAD_HEADER, FIT_CRC_MISMATCH,
 * FIT_TRUNCATED, FIT_NO_RECORDS, FIT_TOO_LARGE, FIT_DECODE_FAILED) with a one-line message.
 */
export async function decodeFit(bytes: Uint8Array, options: DecodeFitOptions = {}): Promise<NormalizedRun> {
  return decodeFitSync(bytes, options);
}

export function decodeFitSync(bytes: Uint8Array, options: DecodeFitOptions = {}): NormalizedRun {
  if (!(bytes instanceof Uint8Array)) throw new IngestError('FIT_NOT_FIT', 'not a FIT file: input is not bytes');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) {
    throw new IngestError('FIT_TOO_LARGE', `FIT file too large: ${bytes.length} bytes, limit ${maxBytes}`);
  }
  const warnings = new WarningLog();
  const { segments, trailingBytes } = frameFit(bytes);
  checkSegments(segments, trailingBytes, options.allowBadCrc ?? false, warnings);

  // Allocated before parsing, while the heap is small (see RecordWorkspace).
  const workspace = allocRecordWorkspace(segments.reduce((sum, seg) => sum + seg.recordCount, 0));
  let records: FitMessage[] = [];
  const hrv: FitMessage[] = [];
  const hrvAnchorRecord: number[] = [];
  const summary: SummaryMessages = { events: [], laps: [], sessions: [], sports: [], fileIds: [], deviceInfos: [] };
  for (const seg of segments) {
    if (seg.completeDataSize === 0) continue;
    const data = segmentBytes(bytes, seg);
    const parsed = parseSegment(data);
    const segRecords = list(parsed.records);
    const restored = restoreNativeRecordFields(parsed, data, parseSegment, seg.mismatchedRecordFields);
    if (restored.colliding.length > 0) {
      warnings.add('developer_field_collision', `developer fields named ${restored.colliding.join(', ')} hid native values; native values used`);
    }
    if (restored.mismatched.length > 0) {
      warnings.add('field_type_mismatch', `record fields ${restored.mismatched.join(', ')} declared with a base type other than the FIT profile's; read by their declared type`);
    }
    for (const anchor of seg.hrvAfterRecord) hrvAnchorRecord.push(records.length + anchor - 1);
    if (records.length === 0) records = segRecords; // the parser's own array: no copy for one segment
    else for (const r of segRecords) records.push(r);
    for (const h of list(parsed.hrv)) hrv.push(h);
    summary.events.push(...list(parsed.events));
    summary.laps.push(...list(parsed.laps));
    summary.sessions.push(...list(parsed.sessions));
    summary.sports.push(...list(parsed.sports));
    summary.fileIds.push(...list(parsed.file_ids));
    summary.deviceInfos.push(...list(parsed.device_infos));
  }

  const { samples, t0, rowOf, channels } = recordsToColumns(records, warnings, workspace);
  if (samples.length === 0) {
    if (segments.some((s) => s.truncated)) {
      throw new IngestError('FIT_TRUNCATED', 'FIT file cut short before its first complete record');
    }
    throw new IngestError('FIT_NO_RECORDS', 'FIT file has no records with a timestamp (not an activity?)');
  }
  const lastT = samples.t[samples.length - 1]!;
  let lastDistance = NaN;
  for (let i = samples.length - 1; i >= 0 && Number.isNaN(lastDistance); i--) lastDistance = samples.distance[i]!;

  // hrv anchors: t of the record each hrv message follows (or of the nearest kept one before it).
  const anchors = hrvAnchorRecord.map((ri) => {
    for (let j = ri; j >= 0; j--) {
      const row = rowOf[j]!;
      if (row >= 0) return samples.t[row]!;
    }
    return 0;
  });

  const { meta, events } = buildMeta(summary, t0, lastT, lastDistance, warnings);
  return { meta, samples, rr: rrSeries(hrv, anchors), events, channels, warnings: warnings.list() };
}
