import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHeartRateMeasurement,
  decodeRscMeasurement,
  heartRateToWire,
  rscToWire,
  type HeartRateMeasurement,
} from '../../ingest/ble.js';
import { IngestError } from '../../ingest/errors.js';
import { parseWireBatch } from '../../ingest/live.js';

/** Little-endian byte writers, straight from the spec tables. */
const u8 = (v: number) => [v & 0xff];
const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof IngestError ? e.code : `not an IngestError: ${String(e)}`;
  }
  return undefined;
}

describe('decodeHeartRateMeasurement (0x2A37)', () => {
  it('decodes a typical chest-strap packet: uint8 HR, contact, two RR intervals', () => {
    // flags 0x16 = RR present | contact supported | contact detected; HR 72; RR 1024/1024 s and 512/1024 s.
    const m = decodeHeartRateMeasurement(Uint8Array.from([0x16, 72, 0x00, 0x04, 0x00, 0x02]));
    expect(m).toEqual({ hr: 72, sensorContact: 'contact', energyExpendedKj: null, rrMs: [1000, 500] });
  });

  it('decodes a uint16 HR with energy expended and no RR', () => {
    // flags 0x09 = uint16 HR | energy present; HR 0x0134 = 308 (out of range for us, but the decoder reports it).
    const m = decodeHeartRateMeasurement(Uint8Array.from([0x09, 0x34, 0x01, 0xe8, 0x03]));
    expect(m).toEqual({ hr: 308, sensorContact: 'unsupported', energyExpendedKj: 1000, rrMs: [] });
  });

  // Every combination of the five defined flag bits, each with fields built from the spec layout.
  const combos = Array.from({ length: 32 }, (_, flags) => flags);
  it.each(combos)('flags %i: every field where the flags say it is', (flags) => {
    const hr = flags & 0x01 ? 0x1a2 : 0x9b;
    const energy = 0xbeef;
    const rrRaw = [410, 431, 1023];
    const payload = bytes(
      u8(flags),
      flags & 0x01 ? u16(hr) : u8(hr),
      flags & 0x08 ? u16(energy) : [],
      flags & 0x10 ? rrRaw.flatMap(u16) : [],
    );
    const contactBits = (flags >> 1) & 0x03;
    const expected: HeartRateMeasurement = {
      hr,
      sensorContact: contactBits === 3 ? 'contact' : contactBits === 2 ? 'no_contact' : 'unsupported',
      energyExpendedKj: flags & 0x08 ? energy : null,
      rrMs: flags & 0x10 ? rrRaw.map((r) => (r / 1024) * 1000) : [],
    };
    expect(decodeHeartRateMeasurement(payload)).toEqual(expected);
    // The same with the reserved bits 5–7 set: they are ignored.
    payload[0] = flags | 0xe0;
    expect(decodeHeartRateMeasurement(payload)).toEqual(expected);
    // One byte short of the fixed fields (or an odd RR tail) is refused with a code.
    if (payload.length > 1) {
      const cut = payload.subarray(0, payload.length - 1);
      expect(codeOf(() => decodeHeartRateMeasurement(cut))).toBe(flags & 0x10 ? 'BLE_MALFORMED' : 'BLE_TRUNCATED');
    }
  });

  it('reads from a view into a larger buffer (offset Uint8Array, Node Buffer)', () => {
    const big = Uint8Array.from([0xff, 0xff, 0x10, 60, 0x00, 0x04, 0xff]);
    expect(decodeHeartRateMeasurement(big.subarray(2, 6)).rrMs).toEqual([1000]);
    expect(decodeHeartRateMeasurement(Buffer.from([0x00, 61])).hr).toBe(61);
  });

  it.each([
    ['empty', [], 'BLE_TRUNCATED'],
    ['flags only', [0x00], 'BLE_TRUNCATED'],
    ['uint16 HR with one byte', [0x01, 0x50], 'BLE_TRUNCATED'],
    ['energy flagged, one byte', [0x08, 0x50, 0x01], 'BLE_TRUNCATED'],
    ['odd RR bytes', [0x10, 0x50, 0x00, 0x04, 0x01], 'BLE_MALFORMED'],
  ])('%s → %s', (_name, raw, code) => {
    expect(codeOf(() => decodeHeartRateMeasurement(Uint8Array.from(raw as number[])))).toBe(code);
  });

  it('refuses something that is not bytes with BLE_MALFORMED', () => {
    for (const v of [null, undefined, 'AAEC', [0x00, 60], { 0: 0, 1: 60, length: 2 }]) {
      expect(codeOf(() => decodeHeartRateMeasurement(v as unknown as Uint8Array))).toBe('BLE_MALFORMED');
    }
  });

  it('random bytes decode or fail with a BLE code, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (raw) => {
        const code = codeOf(() => decodeHeartRateMeasurement(raw));
        if (code !== undefined) expect(['BLE_TRUNCATED', 'BLE_MALFORMED']).toContain(code);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any valid measurement built from the spec layout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 9 }),
        (flags, hrRaw, energy, rr) => {
          const hr = flags & 0x01 ? hrRaw : hrRaw & 0xff;
          const payload = bytes(
            u8(flags),
            flags & 0x01 ? u16(hr) : u8(hr),
            flags & 0x08 ? u16(energy) : [],
            flags & 0x10 ? rr.flatMap(u16) : [],
          );
          const m = decodeHeartRateMeasurement(payload);
          expect(m.hr).toBe(hr);
          expect(m.energyExpendedKj).toBe(flags & 0x08 ? energy : null);
          expect(m.rrMs.map((ms) => Math.round((ms * 1024) / 1000))).toEqual(flags & 0x10 ? rr : []);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('decodeRscMeasurement (0x2A53)', () => {
  it('decodes a foot-pod packet with stride length and total distance while running', () => {
    // flags 0x07; speed 3.5 m/s = 896/256; cadence 172 steps/min; stride 1.22 m; distance 12345.6 m.
    const m = decodeRscMeasurement(bytes(u8(0x07), u16(896), u8(172), u16(122), u32(123456)));
    expect(m).toEqual({ speedMps: 3.5, cadence: 172, strideLengthM: 1.22, totalDistanceM: 12345.6, running: true });
  });

  const combos = Array.from({ length: 8 }, (_, flags) => flags);
  it.each(combos)('flags %i: every field where the flags say it is', (flags) => {
    const payload = bytes(
      u8(flags),
      u16(0x0a80),
      u8(181),
      flags & 0x01 ? u16(0x0101) : [],
      flags & 0x02 ? u32(0xfffffffe) : [],
    );
    const expected = {
      speedMps: 0x0a80 / 256,
      cadence: 181,
      strideLengthM: flags & 0x01 ? 257 / 100 : null,
      totalDistanceM: flags & 0x02 ? 0xfffffffe / 10 : null,
      running: (flags & 0x04) !== 0,
    };
    expect(decodeRscMeasurement(payload)).toEqual(expected);
    payload[0] = flags | 0xf8; // reserved bits are ignored
    expect(decodeRscMeasurement(payload)).toEqual(expected);
    // Trailing bytes after the last field are ignored (reserved for future fields).
    expect(decodeRscMeasurement(bytes([...payload], [0x00, 0x00]))).toEqual(expected);
    expect(codeOf(() => decodeRscMeasurement(payload.subarray(0, payload.length - 1)))).toBe('BLE_TRUNCATED');
  });

  it('random bytes decode or fail with a BLE code, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (raw) => {
        const code = codeOf(() => decodeRscMeasurement(raw));
        if (code !== undefined) expect(code).toBe('BLE_TRUNCATED');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('from BLE measurement to a wire sample', () => {
  it('HR and RR pass into a sample the live schema accepts; a no-contact HR becomes missing', () => {
    const contact = decodeHeartRateMeasurement(Uint8Array.from([0x16, 150, 0x90, 0x01]));
    const noContact = decodeHeartRateMeasurement(Uint8Array.from([0x04, 0]));
    const r = parseWireBatch([
      { t: 0, ...heartRateToWire(contact) },
      { t: 1, ...heartRateToWire(noContact) },
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.batch[0]).toMatchObject({ hr: 150, rr: [390.625] });
    expect(r.batch[1]!.hr).toBeNull();
  });

  it('RSC cadence passes through as steps/min, or is doubled for pods that count one foot', () => {
    const m = decodeRscMeasurement(bytes(u8(0x04), u16(768), u8(88)));
    expect(rscToWire(m)).toEqual({ speed: 3, cadence: 88 });
    expect(rscToWire(m, { cadenceUnit: 'strides' })).toEqual({ speed: 3, cadence: 176 });
  });
});
