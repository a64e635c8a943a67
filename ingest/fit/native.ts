/**
 * fit-file-parser merges developer fields into the record object by their name, after the native
 * fields, so a Connect IQ field called `distance` replaces the watch's own distance. When a segment
 * declares such a name, the segment is decoded once more keeping the raw native bytes of record
 * messages, and the colliding fields of its records are overwritten with the native values.
 * @module
 */
import type { ParsedFit } from 'fit-file-parser';

interface NativeField {
  num: number;
  size: 1 | 2 | 4;
  signed: boolean;
  scale: number;
  offset: number;
}

/** The native record fields recordsToColumns reads (FIT profile: field number, type, scale, offset). */
const NATIVE_RECORD_FIELDS: Readonly<Record<string, NativeField>> = {
  altitude: { num: 2, size: 2, signed: false, scale: 5, offset: 500 },
  heart_rate: { num: 3, size: 1, signed: false, scale: 1, offset: 0 },
  cadence: { num: 4, size: 1, signed: false, scale: 1, offset: 0 },
  distance: { num: 5, size: 4, signed: false, scale: 100, offset: 0 },
  speed: { num: 6, size: 2, signed: false, scale: 1000, offset: 0 },
  power: { num: 7, size: 2, signed: false, scale: 1, offset: 0 },
  temperature: { num: 13, size: 1, signed: true, scale: 1, offset: 0 },
  fractional_cadence: { num: 53, size: 1, signed: false, scale: 128, offset: 0 },
  enhanced_speed: { num: 73, size: 4, signed: false, scale: 1000, offset: 0 },
  enhanced_altitude: { num: 78, size: 4, signed: false, scale: 5, offset: 500 },
  respiration_rate: { num: 99, size: 1, signed: false, scale: 1, offset: 0 },
  enhanced_respiration_rate: { num: 108, size: 2, signed: false, scale: 100, offset: 0 },
};

/** Decodes one native scalar from its raw bytes; NaN for FIT's invalid value or a size mismatch. */
export function decodeNative(f: NativeField, raw: readonly number[], littleEndian: boolean): number {
  if (raw.length !== f.size) return NaN;
  let v = 0;
  for (let k = 0; k < f.size; k++) v = v * 256 + raw[littleEndian ? f.size - 1 - k : k]!;
  const bits = f.size * 8;
  const invalid = f.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (v === invalid) return NaN;
  if (f.signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
  return v / f.scale - f.offset;
}

/** Names of native record fields that a developer field of this segment hides. */
export function collidingNames(parsed: ParsedFit): string[] {
  const names = new Set<string>();
  for (const d of parsed.field_descriptions ?? []) {
    const name = (d as { field_name?: unknown }).field_name;
    if (typeof name === 'string' && Object.hasOwn(NATIVE_RECORD_FIELDS, name)) names.add(name);
  }
  return [...names];
}

/**
 * Puts the native values back into the segment's record objects for every colliding name (removing
 * the field where the native one is absent). Returns the names it restored (empty: nothing collided).
 */
export function restoreNativeRecordFields(
  parsed: ParsedFit,
  bytes: Uint8Array,
  parse: (bytes: Uint8Array, options: Record<string, unknown>) => ParsedFit,
): string[] {
  const names = collidingNames(parsed);
  const records = (parsed.records ?? []) as Record<string, unknown>[];
  if (names.length === 0 || records.length === 0) return [];
  const raw = parse(bytes, { includeRawMessages: [20] }).raw_messages ?? [];
  if (raw.length !== records.length) return [];
  raw.forEach((m, i) => {
    const record = records[i]!;
    for (const name of names) {
      const f = NATIVE_RECORD_FIELDS[name]!;
      const field = m.fields.find((x) => x.field_definition_number === f.num);
      const value = field ? decodeNative(f, field.raw_value, m.little_endian) : NaN;
      if (Number.isNaN(value)) delete record[name];
      else record[name] = value;
    }
  });
  return names;
}
