// Hostile FIT files built byte by byte: a header claiming gigabytes, and millions of tiny record messages
// (2 bytes each, compressed-timestamp headers) that would expand to millions of samples.
import { fitCrc } from '../../ingest/fit/frame.js';

function header(dataSize: number): Uint8Array {
  const h = new Uint8Array(14);
  const v = new DataView(h.buffer);
  h[0] = 14;
  h[1] = 0x20; // protocol 2.0
  v.setUint16(2, 2132, true);
  v.setUint32(4, dataSize, true);
  h.set([0x2e, 0x46, 0x49, 0x54], 8); // ".FIT"
  v.setUint16(12, fitCrc(h, 0, 12), true);
  return h;
}

/** A complete file: header, `data`, file CRC. `claimedSize` overrides the header's data size. */
export function fitFile(data: Uint8Array, claimedSize = data.length): Uint8Array {
  const out = new Uint8Array(14 + data.length + 2);
  out.set(header(claimedSize), 0);
  out.set(data, 14);
  new DataView(out.buffer).setUint16(14 + data.length, fitCrc(out, 0, 14 + data.length), true);
  return out;
}

/**
 * `count` record messages: one with a full timestamp, then `count - 1` with a compressed timestamp header
 * (+1 s each) and one byte of heart rate.
 */
export function tinyMessages(count: number): Uint8Array {
  const data = new Uint8Array(30 + count * 2 + 8);
  const v = new DataView(data.buffer);
  let o = 0;
  // Local 0: record (global 20) with timestamp (253, uint32) and heart_rate (3, uint8).
  data.set([0x40, 0, 0, 20, 0, 2, 253, 4, 0x86, 3, 1, 0x02], o);
  o += 12;
  // Local 1: record with heart_rate only, for the compressed-timestamp messages.
  data.set([0x41, 0, 0, 20, 0, 1, 3, 1, 0x02], o);
  o += 9;
  const start = 1_000_000_000; // seconds since the FIT epoch
  data[o++] = 0x00;
  v.setUint32(o, start, true);
  o += 4;
  data[o++] = 140;
  for (let i = 1; i < count; i++) {
    data[o++] = 0x80 | (1 << 5) | ((start + i) & 0x1f);
    data[o++] = 120 + (i % 60);
  }
  return data.subarray(0, o);
}
