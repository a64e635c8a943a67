/**
 * Engine state ⇄ plain JSON. State is numbers, booleans, strings, plain objects/arrays, Float64Arrays and
 * Float32Arrays (ring slots); JSON has no NaN/Infinity and no typed arrays, so those are tagged. Round-trips
 * bit-exactly (JSON numbers are printed with enough digits to read back the same double; a typed array travels as
 * the base64 of its bytes).
 * @module
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const base64 = (x: Float64Array | Float32Array): string => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

/** A typed array of `Kind` from base64 of its bytes (whole elements only). */
function fromBase64<T extends Float64Array | Float32Array>(text: string, Kind: { new (length: number): T; BYTES_PER_ELEMENT: number }): T {
  const bytes = Buffer.from(text, 'base64');
  const arr = new Kind(Math.floor(bytes.length / Kind.BYTES_PER_ELEMENT));
  new Uint8Array(arr.buffer).set(bytes.subarray(0, arr.byteLength));
  return arr;
}

export function encodeState(x: unknown): Json {
  if (typeof x === 'number') {
    if (Number.isFinite(x)) return Object.is(x, -0) ? { $n: '-0' } : x;
    return { $n: x !== x ? 'NaN' : x > 0 ? 'Inf' : '-Inf' };
  }
  // Its bytes, not a list of numbers: a live checkpoint holds ~20 KB of rings, and a number each (tagged where
  // NaN) was most of the live path's allocation. Byte order is the host's: little-endian on every platform Node
  // supports. (Buffer is only the codec here: the engine runs in Node, the server and the CLI.)
  if (x instanceof Float64Array) return { $f64b: base64(x) };
  if (x instanceof Float32Array) return { $f32b: base64(x) };
  if (Array.isArray(x)) return x.map(encodeState);
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return x;
  if (x === undefined) return null;
  if (typeof x === 'object') {
    const out: { [k: string]: Json } = {};
    const o = x as Record<string, unknown>;
    for (const k in o) if (o[k] !== undefined) out[k] = encodeState(o[k]);
    return out;
  }
  throw new TypeError(`cannot snapshot a ${typeof x}`);
}

const NUMS: Record<string, number> = { NaN: NaN, Inf: Infinity, '-Inf': -Infinity, '-0': -0 };

export function decodeState(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(decodeState);
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if (typeof o.$n === 'string' && Object.keys(o).length === 1) return NUMS[o.$n] ?? NaN;
    if (typeof o.$f64b === 'string' && Object.keys(o).length === 1) return fromBase64(o.$f64b, Float64Array);
    if (typeof o.$f32b === 'string' && Object.keys(o).length === 1) return fromBase64(o.$f32b, Float32Array);
    // The form of checkpoints saved before the bytes form: one number each.
    if (Array.isArray(o.$f64) && Object.keys(o).length === 1) {
      const arr = new Float64Array(o.$f64.length);
      for (let i = 0; i < arr.length; i++) arr[i] = decodeState(o.$f64[i]) as number;
      return arr;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeState(v);
    return out;
  }
  return x;
}
