/**
 * The stored form of a chunk of samples: one BLOB/bytea per (run, seq), columns back to back.
 *
 * Layout (version 1, little-endian):
 * ```
 * byte 0      format version (1)
 * byte 1      reserved (0)
 * bytes 2–3   uint16 mask: bit i set ⇔ SAMPLE_FIELDS[i] is stored
 * bytes 4–7   uint32 row count n
 * then        for each stored field in SAMPLE_FIELDS order: n × float64
 * ```
 * A field that is NaN in every row of the chunk is left out (watches without power, respiration or
 * temperature are the common case), so a typical HR/cadence/speed chunk is ~50 bytes a row instead of 80.
 * Present fields are raw float64: values and NaN round-trip exactly. The 8-byte header keeps the columns
 * 8-byte aligned relative to the blob's start.
 * @module
 */
import { allocColumns, SAMPLE_FIELDS, type SampleColumns } from '../../ingest/sample.js';
import { StoreError } from './types.js';

const FORMAT_VERSION = 1;
const HEADER_BYTES = 8;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bit mask of the fields of `cols` with at least one non-NaN value in rows [start, end). */
function presentMask(cols: SampleColumns, start: number, end: number): number {
  let mask = 0;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    const column = cols[SAMPLE_FIELDS[f]!];
    for (let i = start; i < end; i++) {
      if (column[i] === column[i]) {
        mask |= 1 << f;
        break;
      }
    }
  }
  return mask;
}

function popcount(mask: number): number {
  let count = 0;
  for (let m = mask; m !== 0; m &= m - 1) count++;
  return count;
}

/** Encodes rows [start, end) of `cols` as one chunk. */
export function encodeChunk(cols: SampleColumns, start = 0, end = cols.length): Buffer {
  const rows = end - start;
  const mask = presentMask(cols, start, end);
  const out = Buffer.allocUnsafe(HEADER_BYTES + popcount(mask) * rows * 8);
  out[0] = FORMAT_VERSION;
  out[1] = 0;
  out.writeUInt16LE(mask, 2);
  out.writeUInt32LE(rows, 4);
  let offset = HEADER_BYTES;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const column = cols[SAMPLE_FIELDS[f]!];
    if (LITTLE_ENDIAN_HOST) {
      Buffer.from(column.buffer, column.byteOffset + start * 8, rows * 8).copy(out, offset);
      offset += rows * 8;
    } else {
      for (let i = start; i < end; i++, offset += 8) out.writeDoubleLE(column[i]!, offset);
    }
  }
  return out;
}

/** Row count of an encoded chunk (validates the header). */
export function chunkRows(blob: Uint8Array): number {
  if (blob.byteLength < HEADER_BYTES || blob[0] !== FORMAT_VERSION) {
    throw new StoreError('STORE_UNAVAILABLE', 'stored sample chunk has an unknown format');
  }
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).readUInt32LE(4);
}

/** Decodes `blob` into rows [at, at + n) of `out` (allocated with NaN, so absent fields stay NaN). */
export function decodeChunkInto(blob: Uint8Array, out: SampleColumns, at: number): number {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const rows = chunkRows(buf);
  const mask = buf.readUInt16LE(2);
  if (buf.byteLength !== HEADER_BYTES + popcount(mask) * rows * 8 || at + rows > out.length) {
    throw new StoreError('STORE_UNAVAILABLE', 'stored sample chunk is corrupt (length does not match header)');
  }
  let offset = HEADER_BYTES;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    if ((mask & (1 << f)) === 0) continue;
    const column = out[SAMPLE_FIELDS[f]!];
    if (LITTLE_ENDIAN_HOST) {
      buf.copy(new Uint8Array(column.buffer, column.byteOffset + at * 8, rows * 8), 0, offset, offset + rows * 8);
      offset += rows * 8;
    } else {
      for (let i = 0; i < rows; i++, offset += 8) column[at + i] = buf.readDoubleLE(offset);
    }
  }
  return rows;
}

/** Concatenates stored chunks (already in seq order) into one set of columns. */
export function decodeChunks(blobs: readonly Uint8Array[]): SampleColumns {
  let total = 0;
  for (const blob of blobs) total += chunkRows(blob);
  const out = allocColumns(total);
  let at = 0;
  for (const blob of blobs) at += decodeChunkInto(blob, out, at);
  return out;
}
