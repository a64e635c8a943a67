/**
 * The live path's group commit as it crosses to the store thread: one packed message instead of a list of objects.
 * Structured clone builds and reads every object of a call one by one; a group of 227 one-sample batches cost the
 * event loop ~110 µs to send and the store thread ~250 µs to read, and the 227 results ~120 µs to read back
 * (docs/benchmarks.md, "packed group commit"). Packed, the batches are three values (the ids as one string, the
 * numbers as one Float64Array, the chunks' bytes as one buffer) and the results one Float64Array, both moved, not
 * copied: ~35 µs and ~4 µs.
 *
 * Only batches that are already encoded (what the live path sends) are packed; anything else goes as it is, so the
 * store's own checks see exactly what the caller gave.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { EncodedChunk } from './codec.js';
import type { SampleBatch, SampleBatchResult, SampleBatchStatus } from './types.js';

/** Numbers per batch in {@link PackedBatches.meta}: seq, rows, firstT, bytes' offset and length, the two ids' lengths. */
const BATCH_FIELDS = 7;
/** Numbers per result: status, contiguousSeq. */
const RESULT_FIELDS = 2;
/** Each status's number on the wire: a record, so the compiler says when a status is added and not numbered here. */
const STATUS_CODE: Readonly<Record<SampleBatchStatus, number>> = { stored: 0, duplicate: 1, not_found: 2, not_live: 3, invalid: 4 };
const STATUSES: SampleBatchStatus[] = [];
for (const [status, code] of Object.entries(STATUS_CODE)) STATUSES[code] = status as SampleBatchStatus;

/** Sample batches packed to cross to the store thread. */
export interface PackedBatches {
  readonly packed: 'sample-batches';
  /** Each batch's athlete id then run id, back to back (their lengths are in `meta`). */
  readonly ids: string;
  readonly meta: Float64Array;
  readonly bytes: Uint8Array;
}

function isPackable(batch: SampleBatch): batch is SampleBatch & { samples: EncodedChunk } {
  const s = batch.samples as Partial<EncodedChunk> | null | undefined;
  return (
    typeof batch.athleteId === 'string' && typeof batch.runId === 'string' && typeof batch.seq === 'number' &&
    s !== null && typeof s === 'object' && s.bytes instanceof Uint8Array && typeof s.rows === 'number' && typeof s.firstT === 'number'
  );
}

/** The batches packed, or null when one of them is not an encoded chunk (that call crosses as it is). */
export function packBatches(batches: readonly SampleBatch[]): PackedBatches | null {
  let byteLength = 0;
  for (const b of batches) {
    if (!isPackable(b)) return null;
    byteLength += b.samples.bytes.byteLength;
  }
  const meta = new Float64Array(batches.length * BATCH_FIELDS);
  const bytes = new Uint8Array(byteLength);
  const ids: string[] = new Array<string>(batches.length * 2);
  let offset = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i] as SampleBatch & { samples: EncodedChunk };
    const chunk = b.samples.bytes;
    bytes.set(chunk, offset);
    const m = i * BATCH_FIELDS;
    meta[m] = b.seq;
    meta[m + 1] = b.samples.rows;
    meta[m + 2] = b.samples.firstT;
    meta[m + 3] = offset;
    meta[m + 4] = chunk.byteLength;
    meta[m + 5] = b.athleteId.length;
    meta[m + 6] = b.runId.length;
    ids[2 * i] = b.athleteId;
    ids[2 * i + 1] = b.runId;
    offset += chunk.byteLength;
  }
  return { packed: 'sample-batches', ids: ids.join(''), meta, bytes };
}

/** What to move rather than copy when posting `packed`. */
export function packedBuffers(packed: PackedBatches): ArrayBuffer[] {
  return [packed.meta.buffer as ArrayBuffer, packed.bytes.buffer as ArrayBuffer];
}

export function isPackedBatches(x: unknown): x is PackedBatches {
  const p = x as Partial<PackedBatches> | null;
  return typeof p === 'object' && p !== null && p.packed === 'sample-batches' && typeof p.ids === 'string' &&
    p.meta instanceof Float64Array && p.meta.length % BATCH_FIELDS === 0 && p.bytes instanceof Uint8Array;
}

/** The batches back, each chunk a view of the one buffer (no copy). */
export function unpackBatches(p: PackedBatches): SampleBatch[] {
  const n = p.meta.length / BATCH_FIELDS;
  const out = new Array<SampleBatch>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = i * BATCH_FIELDS;
    const athleteId = p.ids.slice(at, (at += p.meta[m + 5]!));
    const runId = p.ids.slice(at, (at += p.meta[m + 6]!));
    // A Buffer view (no copy): better-sqlite3 binds it as the chunk's bytes, offset included.
    const bytes = Buffer.from(p.bytes.buffer, p.bytes.byteOffset + p.meta[m + 3]!, p.meta[m + 4]!);
    out[i] = { athleteId, runId, seq: p.meta[m]!, samples: { rows: p.meta[m + 1]!, firstT: p.meta[m + 2]!, bytes } };
  }
  return out;
}

/** The results packed: the run and seq of each are its batch's, so only status and contiguousSeq cross. */
export function packResults(results: readonly SampleBatchResult[]): Float64Array {
  const out = new Float64Array(results.length * RESULT_FIELDS);
  for (let i = 0; i < results.length; i++) {
    out[i * RESULT_FIELDS] = STATUS_CODE[results[i]!.status];
    out[i * RESULT_FIELDS + 1] = results[i]!.contiguousSeq;
  }
  return out;
}

/** The results of `batches` from their packed form. */
export function unpackResults(batches: readonly SampleBatch[], packed: Float64Array): SampleBatchResult[] {
  if (packed.length !== batches.length * RESULT_FIELDS) throw new Error(`expected ${batches.length} results, got ${packed.length / RESULT_FIELDS}`);
  return batches.map((b, i) => ({
    runId: b.runId,
    seq: b.seq,
    status: STATUSES[packed[i * RESULT_FIELDS]!]!,
    contiguousSeq: packed[i * RESULT_FIELDS + 1]!,
  }));
}
