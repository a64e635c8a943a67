/**
 * Engine state ⇄ plain JSON. State is numbers, booleans, strings, plain objects/arrays and Float64Arrays;
 * JSON has no NaN/Infinity and no typed arrays, so those are tagged. Round-trips bit-exactly (JSON numbers are
 * printed with enough digits to read back the same double).
 * @module
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function encodeState(x: unknown): Json {
  if (typeof x === 'number') {
    if (Number.isFinite(x)) return Object.is(x, -0) ? { $n: '-0' } : x;
    return { $n: x !== x ? 'NaN' : x > 0 ? 'Inf' : '-Inf' };
  }
  if (x instanceof Float64Array) return { $f64: Array.from(x, (v) => encodeState(v)) };
  if (Array.isArray(x)) return x.map(encodeState);
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return x;
  if (x === undefined) return null;
  if (typeof x === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) if (v !== undefined) out[k] = encodeState(v);
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
