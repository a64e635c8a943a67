/**
 * The stored form of a chunk of samples: one BLOB/bytea per (run, seq), columns back to back.
 *
 * Layout (version 3, little-endian):
 * ```
 * byte 0       format version (3)
 * byte 1       reserved (0)
 * bytes 2–3    uint16 present mask: bit i set ⇔ SAMPLE_FIELDS[i] has a non-NaN value in the chunk
 * bytes 4–7    uint32 row count n
 * bytes 8–9    uint16 float32 mask: present fields stored as n × float32
 * bytes 10–11  uint16 progression mask: present fields stored as (start, step), two float64
 * bytes 12–13  uint16 semicircle mask: present fields stored as n × int32 k, value k × 180 / 2^31
 * bytes 14–15  uint16 decimal mask: present fields stored as n × int32 k, value k / 10^7
 * then         for each present field in SAMPLE_FIELDS order: its encoding (default n × float64)
 * ```
 * (int32 0x7FFFFFFF is NaN.)
 * Every choice is lossless, decided per field per chunk and checked value by value:
 * - a field that is NaN throughout is left out (no power meter, no respiration: the common case);
 * - a field whose every value equals `start + i * step` exactly is two numbers (t and timestamp at a steady
 *   1 Hz, the decoder evaluates the same expression);
 * - a field whose every value survives float32 exactly is stored as float32 (heart rate, cadence,
 *   temperature and power are integers on every watch);
 * - a position (lat, lon) whose every value is what a FIT file's semicircles give (fit-file-parser's k × 180 / 2^31),
 *   or a decimal of at most 7 places (what GPX and TCX files write, parsed), is stored as int32: 4 bytes, not 8.
 * So a FIT-like 1 Hz row costs about 36 bytes instead of 80 (44 with a position), and values, NaN and -0
 * round-trip exactly. Versions 1 (8-byte header, float64 only) and 2 (no position fields, masks at 12–15 zero)
 * are still read; version 3 adds the position fields after the others (SAMPLE_FIELDS order) and their encodings.
 * @module
 */
import { allocColumns, POSITION_FIELDS, SAMPLE_FIELDS, type SampleColumns } from '../../ingest/sample.js';
import { StoreError } from './types.js';

const FORMAT_VERSION = 3;
const HEADER_BYTES = 16;
const V1_HEADER_BYTES = 8;

/** How a present field is stored. */
const Encoding = { Float64: 0, Float32: 1, Progression: 2, Semicircles: 3, Decimal7: 4 } as const;
type Encoding = (typeof Encoding)[keyof typeof Encoding];

const SEMICIRCLE = 180 / 2 ** 31;
const INT32_NAN = 0x7fffffff;
/** Bits of the fields an int32 position encoding is tried on. */
const POSITION_BITS = POSITION_FIELDS.reduce((mask, f) => mask | (1 << SAMPLE_FIELDS.indexOf(f)), 0);

/** The int32 k for `v` under the encoding, or null when k does not give `v` back exactly (Object.is). */
function int32Of(v: number, encoding: Encoding): number | null {
  if (v !== v) return INT32_NAN;
  const rounded = encoding === Encoding.Semicircles ? Math.round(v / SEMICIRCLE) : Math.round(v * 1e7);
  if (!(rounded > -INT32_NAN && rounded < INT32_NAN)) return null;
  const k = rounded | 0; // -0 becomes 0, so a -0 value fails the check below (int32 has no -0)
  return Object.is(encoding === Encoding.Semicircles ? k * SEMICIRCLE : k / 1e7, v) ? k : null;
}

function fitsInt32(column: Float64Array, start: number, end: number, encoding: Encoding): boolean {
  for (let i = start; i < end; i++) if (int32Of(column[i]!, encoding) === null) return false;
  return true;
}

function valueOfInt32(k: number, encoding: Encoding): number {
  if (k === INT32_NAN) return NaN;
  return encoding === Encoding.Semicircles ? k * SEMICIRCLE : k / 1e7;
}

function isProgression(column: Float64Array, start: number, end: number): boolean {
  // Fewer than 3 rows: 16 bytes would not beat the values themselves.
  if (end - start < 3) return false;
  const first = column[start]!;
  const step = column[start + 1]! - first;
  // Every row, including the first two: the decoder's `first + i * step` must give each value back exactly.
  for (let i = 0; i < end - start; i++) {
    if (!Object.is(first + i * step, column[start + i]!)) return false;
  }
  return true;
}

function fitsFloat32(column: Float64Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const v = column[i]!;
    if (v === v && Math.fround(v) !== v) return false;
  }
  return true;
}

function hasValue(column: Float64Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (column[i] === column[i]) return true;
  return false;
}

/** Encodes rows [start, end) of `cols` as one chunk. */
export function encodeChunk(cols: SampleColumns, start = 0, end = cols.length): Buffer {
  const rows = end - start;
  let present = 0;
  let float32 = 0;
  let progression = 0;
  let semicircles = 0;
  let decimal = 0;
  let bytes = HEADER_BYTES;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    const column = cols[SAMPLE_FIELDS[f]!];
    if (!hasValue(column, start, end)) continue;
    present |= 1 << f;
    if (isProgression(column, start, end)) {
      progression |= 1 << f;
      bytes += 16;
    } else if ((POSITION_BITS & (1 << f)) !== 0 && fitsInt32(column, start, end, Encoding.Semicircles)) {
      semicircles |= 1 << f;
      bytes += rows * 4;
    } else if ((POSITION_BITS & (1 << f)) !== 0 && fitsInt32(column, start, end, Encoding.Decimal7)) {
      decimal |= 1 << f;
      bytes += rows * 4;
    } else if (fitsFloat32(column, start, end)) {
      float32 |= 1 << f;
      bytes += rows * 4;
    } else {
      bytes += rows * 8;
    }
  }
  // From Node's shared pool below 4 KB (a live batch is ~50–200 bytes): a fresh ArrayBuffer per batch cost the live
  // path more than the encoding. Not zero-filled: every byte is written below, the reserved byte 1 too.
  const out = Buffer.allocUnsafe(bytes);
  out[0] = FORMAT_VERSION;
  out[1] = 0;
  out.writeUInt16LE(present, 2);
  out.writeUInt32LE(rows, 4);
  out.writeUInt16LE(float32, 8);
  out.writeUInt16LE(progression, 10);
  out.writeUInt16LE(semicircles, 12);
  out.writeUInt16LE(decimal, 14);
  let offset = HEADER_BYTES;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    const bit = 1 << f;
    if ((present & bit) === 0) continue;
    const column = cols[SAMPLE_FIELDS[f]!];
    if (progression & bit) {
      offset = out.writeDoubleLE(column[start]!, offset);
      offset = out.writeDoubleLE(column[start + 1]! - column[start]!, offset);
    } else if ((semicircles | decimal) & bit) {
      const encoding = semicircles & bit ? Encoding.Semicircles : Encoding.Decimal7;
      for (let i = start; i < end; i++) offset = out.writeInt32LE(int32Of(column[i]!, encoding)!, offset);
    } else if (float32 & bit) {
      for (let i = start; i < end; i++) offset = out.writeFloatLE(column[i]!, offset);
    } else {
      for (let i = start; i < end; i++) offset = out.writeDoubleLE(column[i]!, offset);
    }
  }
  return out;
}

/**
 * A batch's rows encoded before the store's transaction: the live path encodes each batch once as it arrives and
 * keeps only this until the batch is stored (one buffer, where columns are a dozen typed arrays).
 */
export interface EncodedChunk {
  readonly rows: number;
  /** t of the first row, s. */
  readonly firstT: number;
  /** A Buffer as encoded; a plain Uint8Array once it crossed a thread (both drivers bind either). */
  readonly bytes: Uint8Array;
}

/** Encodes rows [start, end) of `cols` as one chunk, with what the store indexes it by. */
export function encodeChunkOf(cols: SampleColumns, start = 0, end = cols.length): EncodedChunk {
  return { rows: end - start, firstT: cols.t[start]!, bytes: encodeChunk(cols, start, end) };
}

export function isEncodedChunk(samples: SampleColumns | EncodedChunk): samples is EncodedChunk {
  return 'bytes' in samples;
}

/** A batch's rows as the store writes them: encoded now, unless they came encoded. */
export function chunkOf(samples: SampleColumns | EncodedChunk): EncodedChunk {
  return isEncodedChunk(samples) ? samples : encodeChunkOf(samples);
}

/** The row count in a chunk's header (bytes 4–7, little-endian), read from any Uint8Array view. */
function readRowCount(bytes: Uint8Array): number {
  return (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16)) + bytes[7]! * 0x1000000;
}

/** Why an encoded chunk cannot be stored (its header must be this encoder's and agree on the rows), or null. */
export function encodedChunkProblem(chunk: EncodedChunk, maxRows: number): string | null {
  const { rows, firstT, bytes } = chunk;
  if (!Number.isInteger(rows) || rows < 1 || rows > maxRows) return `expected 1 to ${maxRows} samples`;
  if (!Number.isFinite(firstT)) return 'the first sample has no time';
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < HEADER_BYTES || bytes[0] !== FORMAT_VERSION || readRowCount(bytes) !== rows) {
    return 'not a sample chunk of this encoder';
  }
  return null;
}

interface ChunkHeader {
  rows: number;
  present: number;
  float32: number;
  progression: number;
  semicircles: number;
  decimal: number;
  headerBytes: number;
}

function readHeader(buf: Buffer): ChunkHeader {
  const version = buf[0];
  if ((version === FORMAT_VERSION || version === 2) && buf.byteLength >= HEADER_BYTES) {
    const v3 = version === FORMAT_VERSION;
    return {
      rows: buf.readUInt32LE(4),
      present: buf.readUInt16LE(2),
      float32: buf.readUInt16LE(8),
      progression: buf.readUInt16LE(10),
      semicircles: v3 ? buf.readUInt16LE(12) : 0,
      decimal: v3 ? buf.readUInt16LE(14) : 0,
      headerBytes: HEADER_BYTES,
    };
  }
  if (version === 1 && buf.byteLength >= V1_HEADER_BYTES) {
    return { rows: buf.readUInt32LE(4), present: buf.readUInt16LE(2), float32: 0, progression: 0, semicircles: 0, decimal: 0, headerBytes: V1_HEADER_BYTES };
  }
  throw new StoreError('STORE_UNAVAILABLE', 'stored sample chunk has an unknown format');
}

function encodingOf(header: ChunkHeader, bit: number): Encoding {
  if (header.progression & bit) return Encoding.Progression;
  if (header.semicircles & bit) return Encoding.Semicircles;
  if (header.decimal & bit) return Encoding.Decimal7;
  return header.float32 & bit ? Encoding.Float32 : Encoding.Float64;
}

function asBuffer(blob: Uint8Array): Buffer {
  return Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
}

/** Row count of an encoded chunk (validates the header). */
export function chunkRows(blob: Uint8Array): number {
  return readHeader(asBuffer(blob)).rows;
}

/** Decodes `blob` into rows [at, at + n) of `out` (allocated with NaN, so absent fields stay NaN). */
export function decodeChunkInto(blob: Uint8Array, out: SampleColumns, at: number): number {
  const buf = asBuffer(blob);
  const header = readHeader(buf);
  const { rows } = header;
  let expected = header.headerBytes;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    const bit = 1 << f;
    if ((header.present & bit) === 0) continue;
    const encoding = encodingOf(header, bit);
    expected += encoding === Encoding.Progression ? 16 : rows * (encoding === Encoding.Float64 ? 8 : 4);
  }
  if (buf.byteLength !== expected || at + rows > out.length) {
    throw new StoreError('STORE_UNAVAILABLE', 'stored sample chunk is corrupt (length does not match header)');
  }
  let offset = header.headerBytes;
  for (let f = 0; f < SAMPLE_FIELDS.length; f++) {
    const bit = 1 << f;
    if ((header.present & bit) === 0) continue;
    const column = out[SAMPLE_FIELDS[f]!];
    switch (encodingOf(header, bit)) {
      case Encoding.Progression: {
        const first = buf.readDoubleLE(offset);
        const step = buf.readDoubleLE(offset + 8);
        offset += 16;
        for (let i = 0; i < rows; i++) column[at + i] = first + i * step;
        break;
      }
      case Encoding.Float32:
        for (let i = 0; i < rows; i++, offset += 4) column[at + i] = buf.readFloatLE(offset);
        break;
      case Encoding.Semicircles:
      case Encoding.Decimal7: {
        const encoding = encodingOf(header, bit);
        for (let i = 0; i < rows; i++, offset += 4) column[at + i] = valueOfInt32(buf.readInt32LE(offset), encoding);
        break;
      }
      case Encoding.Float64:
        for (let i = 0; i < rows; i++, offset += 8) column[at + i] = buf.readDoubleLE(offset);
        break;
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
