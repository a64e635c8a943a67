/**
 * Native record fields fit-file-parser loses, put back from their raw bytes:
 * - it merges developer fields into the record object by their name, after the native fields, so a Connect IQ
 *   field called `distance` replaces the watch's own distance;
 * - it drops a native field whose definition declares a base type other than the profile's (a GoldenCheetah
 *   re-save writes `temperature`, sint8 in the profile, as another integer type), where other decoders read
 *   the value by its declared type.
 * When a segment has either (fit-file-parser's developer field descriptions; the framing walk's definitions,
 * ingest/fit/frame.ts), it is decoded once more keeping the raw bytes of record messages, and those fields of
 * its records are set from the native values, decoded by the base type the definition declares.
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

/** FIT base type numbers (low 5 bits of the base type byte) by size and sign, as the profile declares them. */
const PROFILE_TYPE_NUMBER = (f: NativeField): number => (f.size === 1 ? (f.signed ? 1 : 2) : f.size === 2 ? (f.signed ? 3 : 4) : f.signed ? 5 : 6);
/** enum, uint8 and byte: fit-file-parser treats these as one (same width and representation). */
const UINT8_LIKE = new Set([0, 2, 13]);

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

/** Field name by field number, for the fields above. */
const BY_NUMBER = new Map(Object.entries(NATIVE_RECORD_FIELDS).map(([name, f]) => [f.num, name]));

/**
 * The record field fit-file-parser drops for this definition entry (field number, declared base type byte),
 * or null: one the project reads, declared with a base type incompatible with the profile's.
 */
export function mismatchedRecordField(fieldNumber: number, baseTypeByte: number): string | null {
  const name = BY_NUMBER.get(fieldNumber);
  if (name === undefined) return null;
  const declared = baseTypeByte & 0x1f;
  const profile = PROFILE_TYPE_NUMBER(NATIVE_RECORD_FIELDS[name]!);
  if (declared === profile || (UINT8_LIKE.has(declared) && UINT8_LIKE.has(profile))) return null;
  return name;
}

/** The wire layout of a declared base type byte: size, sign, float, and the invalid value's bit pattern. */
function wireType(baseTypeByte: number): { size: number; signed: boolean; float: boolean; zeroInvalid: boolean } | null {
  switch (baseTypeByte & 0x1f) {
    case 0: case 2: case 13: return { size: 1, signed: false, float: false, zeroInvalid: false };
    case 1: return { size: 1, signed: true, float: false, zeroInvalid: false };
    case 10: return { size: 1, signed: false, float: false, zeroInvalid: true };
    case 3: return { size: 2, signed: true, float: false, zeroInvalid: false };
    case 4: return { size: 2, signed: false, float: false, zeroInvalid: false };
    case 11: return { size: 2, signed: false, float: false, zeroInvalid: true };
    case 5: return { size: 4, signed: true, float: false, zeroInvalid: false };
    case 6: return { size: 4, signed: false, float: false, zeroInvalid: false };
    case 12: return { size: 4, signed: false, float: false, zeroInvalid: true };
    case 8: return { size: 4, signed: false, float: true, zeroInvalid: false };
    case 9: return { size: 8, signed: false, float: true, zeroInvalid: false };
    default: return null;
  }
}

/** Decodes a native field's value by the base type its definition declares, with the profile's scale and offset. */
export function decodeDeclared(f: NativeField, baseTypeByte: number, raw: readonly number[], littleEndian: boolean): number {
  const w = wireType(baseTypeByte);
  if (w === null || raw.length !== w.size) return NaN;
  const bytes = Uint8Array.from(littleEndian ? raw : [...raw].reverse());
  const view = new DataView(bytes.buffer);
  let v: number;
  if (w.float) v = w.size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
  else if (w.size === 1) v = w.signed ? view.getInt8(0) : view.getUint8(0);
  else if (w.size === 2) v = w.signed ? view.getInt16(0, true) : view.getUint16(0, true);
  else v = w.signed ? view.getInt32(0, true) : view.getUint32(0, true);
  if (!Number.isFinite(v)) return NaN;
  if (!w.float) {
    const bits = w.size * 8;
    const invalid = w.zeroInvalid ? 0 : w.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (v === invalid) return NaN;
  }
  return v / f.scale - f.offset;
}

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
 * the field where the native one is absent). Returns the names it restored, by cause (empty: nothing to do).
 */
export function restoreNativeRecordFields(
  parsed: ParsedFit,
  bytes: Uint8Array,
  parse: (bytes: Uint8Array, options: Record<string, unknown>) => ParsedFit,
  mismatched: readonly string[] = [],
): { colliding: string[]; mismatched: string[] } {
  const colliding = collidingNames(parsed);
  const names = [...new Set([...colliding, ...mismatched])];
  const records = (parsed.records ?? []) as Record<string, unknown>[];
  if (names.length === 0 || records.length === 0) return { colliding: [], mismatched: [] };
  const raw = parse(bytes, { includeRawMessages: [20] }).raw_messages ?? [];
  if (raw.length !== records.length) return { colliding: [], mismatched: [] };
  raw.forEach((m, i) => {
    const record = records[i]!;
    for (const name of names) {
      const f = NATIVE_RECORD_FIELDS[name]!;
      const field = m.fields.find((x) => x.field_definition_number === f.num);
      let value = NaN;
      if (field) {
        const declared = (field as { base_type?: unknown }).base_type;
        value = typeof declared === 'number' && mismatchedRecordField(f.num, declared) !== null
          ? decodeDeclared(f, declared, field.raw_value, m.little_endian)
          : decodeNative(f, field.raw_value, m.little_endian);
      }
      if (Number.isNaN(value)) delete record[name];
      else record[name] = value;
    }
  });
  return { colliding, mismatched: mismatched.filter((n) => !colliding.includes(n)) };
}
