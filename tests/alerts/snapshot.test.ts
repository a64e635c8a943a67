// Engine state ⇄ JSON: what a live checkpoint stores must come back bit for bit, NaN payloads and -0 included,
// and checkpoints saved in the older one-number-per-value form must still restore.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../alerts/snapshot.js';

const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));

describe('engine state snapshot', () => {
  it('round-trips Float64Arrays bit-exactly through JSON, views of larger buffers included', () => {
    fc.assert(
      fc.property(fc.float64Array({ maxLength: 300 }), fc.nat(8), (values, skip) => {
        const big = new Float64Array(values.length + skip);
        big.set(values, skip);
        const view = big.subarray(skip);
        const back = decodeState(JSON.parse(JSON.stringify(encodeState({ ring: view, n: view.length })))) as { ring: Float64Array; n: number };
        expect(back.ring).toBeInstanceOf(Float64Array);
        expect(back.n).toBe(values.length);
        expect(bits(back.ring)).toEqual(bits(values));
      }),
    );
  });

  it('round-trips Float32Arrays (ring slots) bit-exactly and as Float32Arrays', () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 300 }), (values) => {
        const back = decodeState(JSON.parse(JSON.stringify(encodeState({ slots: values })))) as { slots: Float32Array };
        expect(back.slots).toBeInstanceOf(Float32Array);
        expect(Array.from(new Uint32Array(back.slots.buffer))).toEqual(Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length)));
      }),
    );
  });

  it('keeps NaN, infinities and -0 outside typed arrays, and drops undefined fields', () => {
    const state = { a: NaN, b: -Infinity, c: -0, d: [1, Infinity, null], e: undefined, f: 'x', g: true };
    const back = decodeState(JSON.parse(JSON.stringify(encodeState(state)))) as Record<string, unknown>;
    expect(back).toEqual({ a: NaN, b: -Infinity, c: -0, d: [1, Infinity, null], f: 'x', g: true });
    expect(Object.is(back.c, -0)).toBe(true);
    expect('e' in back).toBe(false);
  });

  it('restores the one-number-per-value form of older checkpoints', () => {
    const old = { ring: { $f64: [1.5, { $n: 'NaN' }, { $n: '-0' }, { $n: 'Inf' }] } };
    const back = decodeState(old) as { ring: Float64Array };
    expect(back.ring).toBeInstanceOf(Float64Array);
    expect(Array.from(back.ring)).toEqual([1.5, NaN, -0, Infinity]);
    expect(Object.is(back.ring[2], -0)).toBe(true);
  });
});
