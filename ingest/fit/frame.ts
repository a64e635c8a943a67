/**
 * FIT framing: finds the FIT files inside a byte buffer (a file may chain several), checks each header
 * and CRC, and walks record boundaries without decoding any field. This is what lets decodeFit keep
 * every complete record of a file cut short (fit-file-parser rejects the whole file), decode every
 * file of a chain (fit-file-parser stops after the first) and check CRCs itself.
 *
 * The walk only reads record headers and definition messages, so it costs a few ms per MB.
 * @module
 */
import { mismatchedRecordField } from './native.js';
import { IngestError } from '../errors.js';

/** FIT global message numbers the normaliser cares about. */
export const MESG_RECORD = 20;
export const MESG_HRV = 78;

/** One FIT file within the buffer. */
export interface FitSegment {
  /** Offset of the segment's file header. */
  start: number;
  headerSize: number;
  /** Data size the header declares. */
  declaredDataSize: number;
  /** Bytes of data that hold whole records (equals declaredDataSize unless truncated or malformed). */
  completeDataSize: number;
  /** The buffer ends before the declared data and CRC do. */
  truncated: boolean;
  /** Where the record walk stopped on a malformed record header or definition (null when it did not). */
  structureError: string | null;
  /** File CRC matches (null when there is no CRC to check: truncated). */
  crcOk: boolean | null;
  /** Data messages per global message number seen in the complete part. */
  recordCount: number;
  /**
   * For each hrv message, the number of record messages before it in this segment: hrv messages have no
   * timestamp, so this anchors their RR intervals to the record they follow.
   */
  hrvAfterRecord: number[];
  /**
   * Record fields read by the project that a definition declares with a base type other than the profile's:
   * fit-file-parser drops them (ingest/fit/native.ts restores them).
   */
  mismatchedRecordFields: string[];
}

export interface FitFrame {
  segments: FitSegment[];
  /** Bytes after the last segment that do not start a FIT header. */
  trailingBytes: number;
}

/**
 * FIT's CRC is CRC-16/ARC (reflected polynomial 0xA001, initial 0). The FIT protocol describes it with a
 * 16-entry nibble table; byte tables give the same value with fewer steps. CRC_TABLES[k][b] is the CRC
 * update for byte b followed by k zero bytes, so four bytes take four independent lookups ("slicing by 4").
 */
const CRC_TABLES = Array.from({ length: 4 }, () => new Uint16Array(256));
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  CRC_TABLES[0]![i] = c;
}
for (let k = 1; k < 4; k++) {
  for (let i = 0; i < 256; i++) {
    const prev = CRC_TABLES[k - 1]![i]!;
    CRC_TABLES[k]![i] = (prev >>> 8) ^ CRC_TABLES[0]![prev & 0xff]!;
  }
}
const [T0, T1, T2, T3] = CRC_TABLES as [Uint16Array, Uint16Array, Uint16Array, Uint16Array];

/** FIT's CRC-16 over bytes[start, end). */
export function fitCrc(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const x = crc ^ (bytes[i]! | (bytes[i + 1]! << 8));
    crc = T3[x & 0xff]! ^ T2[x >>> 8]! ^ T1[bytes[i + 2]!]! ^ T0[bytes[i + 3]!]!;
  }
  for (; i < end; i++) crc = (crc >>> 8) ^ T0[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

function hasSignature(bytes: Uint8Array, at: number): boolean {
  return (
    bytes.length >= at + 12 &&
    bytes[at + 8] === 0x2e && // .
    bytes[at + 9] === 0x46 && // F
    bytes[at + 10] === 0x49 && // I
    bytes[at + 11] === 0x54 // T
  );
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
}

/**
 * Checks the header at `start` and throws the coded error a first segment deserves. Later segments call
 * it too; the caller decides whether their failure is fatal.
 */
function checkHeader(bytes: Uint8Array, start: number): number {
  if (!hasSignature(bytes, start)) {
    throw new IngestError('FIT_NOT_FIT', 'not a FIT file: no ".FIT" signature in the header');
  }
  const headerSize = bytes[start]!;
  if (headerSize !== 12 && headerSize !== 14) {
    throw new IngestError('FIT_BAD_HEADER', `bad FIT header: header size ${headerSize}, expected 12 or 14`);
  }
  if (bytes.length < start + headerSize) {
    throw new IngestError('FIT_BAD_HEADER', 'bad FIT header: the file ends inside its header');
  }
  const protocolMajor = bytes[start + 1]! >>> 4;
  if (protocolMajor > 2) {
    throw new IngestError('FIT_BAD_HEADER', `bad FIT header: unsupported protocol version ${protocolMajor}`);
  }
  if (headerSize === 14) {
    const headerCrc = bytes[start + 12]! | (bytes[start + 13]! << 8);
    if (headerCrc !== 0 && headerCrc !== fitCrc(bytes, start, start + 12)) {
      throw new IngestError('FIT_BAD_HEADER', 'bad FIT header: header CRC mismatch');
    }
  }
  return headerSize;
}

/** Sizes of the data message each local message type defines (reused across segments). */
interface WalkState {
  size: Int32Array; // -1 = undefined local type
  global: Int32Array;
  /** Bytes of a leading timestamp field, which a compressed-timestamp header omits. */
  leadingTimestamp: Int32Array;
}

/**
 * Walks records in bytes[dataStart, dataEnd). Returns the offset just past the last whole record, and
 * why it stopped early (a record that runs past dataEnd is simply incomplete, not an error).
 */
function walkRecords(
  bytes: Uint8Array,
  dataStart: number,
  dataEnd: number,
  seg: FitSegment,
  st: WalkState,
): number {
  st.size.fill(-1);
  let p = dataStart;
  while (p < dataEnd) {
    const header = bytes[p]!;
    let recordEnd: number;
    if ((header & 0x80) !== 0) {
      // Compressed timestamp header: local types 0-3, the timestamp lives in the header.
      const local = (header >>> 5) & 0x3;
      if (st.size[local]! < 0) {
        seg.structureError = `compressed-timestamp record uses undefined local message ${local}`;
        return p;
      }
      recordEnd = p + 1 + st.size[local]! - st.leadingTimestamp[local]!;
      if (recordEnd > dataEnd) return p;
      countMessage(seg, st.global[local]!);
    } else if ((header & 0x40) !== 0) {
      // Definition message.
      const local = header & 0x0f;
      if (p + 6 > dataEnd) return p;
      const littleEndian = bytes[p + 2] === 0;
      if (bytes[p + 2]! > 1) {
        seg.structureError = `definition with bad architecture byte ${bytes[p + 2]}`;
        return p;
      }
      const global = littleEndian ? bytes[p + 3]! | (bytes[p + 4]! << 8) : (bytes[p + 3]! << 8) | bytes[p + 4]!;
      const fieldCount = bytes[p + 5]!;
      let q = p + 6;
      if (q + fieldCount * 3 > dataEnd) return p;
      let size = 0;
      let leadingTimestamp = 0;
      for (let f = 0; f < fieldCount; f++, q += 3) {
        if (f === 0 && bytes[q] === 253) leadingTimestamp = bytes[q + 1]!;
        size += bytes[q + 1]!;
        if (global === MESG_RECORD) {
          const name = mismatchedRecordField(bytes[q]!, bytes[q + 2]!);
          if (name !== null && !seg.mismatchedRecordFields.includes(name)) seg.mismatchedRecordFields.push(name);
        }
      }
      if ((header & 0x20) !== 0) {
        if (q + 1 > dataEnd) return p;
        const devCount = bytes[q]!;
        q += 1;
        if (q + devCount * 3 > dataEnd) return p;
        for (let f = 0; f < devCount; f++, q += 3) size += bytes[q + 1]!;
      }
      recordEnd = q;
      st.size[local] = size;
      st.global[local] = global;
      st.leadingTimestamp[local] = leadingTimestamp;
    } else {
      if ((header & 0x30) !== 0) {
        seg.structureError = `bad record header 0x${header.toString(16)}`;
        return p;
      }
      const local = header & 0x0f;
      if (st.size[local]! < 0) {
        seg.structureError = `data record uses undefined local message ${local}`;
        return p;
      }
      recordEnd = p + 1 + st.size[local]!;
      if (recordEnd > dataEnd) return p;
      countMessage(seg, st.global[local]!);
    }
    p = recordEnd;
  }
  return p;
}

function countMessage(seg: FitSegment, global: number): void {
  if (global === MESG_RECORD) seg.recordCount++;
  else if (global === MESG_HRV) seg.hrvAfterRecord.push(seg.recordCount);
}

/**
 * Splits `bytes` into FIT segments and checks each. Throws IngestError when the first segment's header
 * is unusable; a later segment with a broken header ends the chain (counted in `trailingBytes`).
 */
export function frameFit(bytes: Uint8Array): FitFrame {
  if (bytes.length === 0) throw new IngestError('FIT_EMPTY', 'empty file: zero bytes');
  const st: WalkState = { size: new Int32Array(16), global: new Int32Array(16), leadingTimestamp: new Int32Array(16) };
  const segments: FitSegment[] = [];
  let start = 0;
  while (start < bytes.length) {
    let headerSize: number;
    try {
      headerSize = checkHeader(bytes, start);
    } catch (err) {
      if (segments.length === 0) throw err;
      break; // garbage after a complete file: reported as trailing bytes
    }
    const declaredDataSize = readU32(bytes, start + 4);
    const dataStart = start + headerSize;
    const declaredEnd = dataStart + declaredDataSize;
    const seg: FitSegment = {
      start,
      headerSize,
      declaredDataSize,
      completeDataSize: 0,
      truncated: declaredEnd + 2 > bytes.length,
      structureError: null,
      crcOk: null,
      recordCount: 0,
      hrvAfterRecord: [],
      mismatchedRecordFields: [],
    };
    const walkedTo = walkRecords(bytes, dataStart, Math.min(declaredEnd, bytes.length), seg, st);
    seg.completeDataSize = walkedTo - dataStart;
    if (!seg.truncated) {
      seg.crcOk = fitCrc(bytes, start, declaredEnd) === (bytes[declaredEnd]! | (bytes[declaredEnd + 1]! << 8));
    }
    segments.push(seg);
    if (seg.truncated) return { segments, trailingBytes: 0 };
    start = declaredEnd + 2;
  }
  return { segments, trailingBytes: bytes.length - start };
}

/**
 * The bytes fit-file-parser should read for a segment: a view when the segment is whole, or a copy
 * holding only its complete records (with header size and CRC rewritten) when it was cut short or
 * malformed, since fit-file-parser would otherwise reject it or decode a half record.
 */
export function segmentBytes(bytes: Uint8Array, seg: FitSegment): Uint8Array {
  const whole = seg.completeDataSize === seg.declaredDataSize && !seg.truncated;
  if (whole) return bytes.subarray(seg.start, seg.start + seg.headerSize + seg.declaredDataSize + 2);
  const dataEnd = seg.headerSize + seg.completeDataSize;
  const out = new Uint8Array(dataEnd + 2);
  out.set(bytes.subarray(seg.start, seg.start + dataEnd));
  out[4] = seg.completeDataSize & 0xff;
  out[5] = (seg.completeDataSize >>> 8) & 0xff;
  out[6] = (seg.completeDataSize >>> 16) & 0xff;
  out[7] = (seg.completeDataSize >>> 24) & 0xff;
  if (seg.headerSize === 14) {
    const headerCrc = fitCrc(out, 0, 12);
    out[12] = headerCrc & 0xff;
    out[13] = headerCrc >>> 8;
  }
  const crc = fitCrc(out, 0, dataEnd);
  out[dataEnd] = crc & 0xff;
  out[dataEnd + 1] = crc >>> 8;
  return out;
}
