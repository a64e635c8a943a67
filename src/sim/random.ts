/**
 * A small seeded random source for the simulator: the same seed gives the same run, byte for byte, on
 * every machine (no Math.random, no clock).
 *
 * Uniforms come from mulberry32 (Tommy Ettinger's 32-bit generator, public domain): one 32-bit state, a
 * Weyl increment and an xorshift-multiply output mix. It is not cryptographic and does not need to be;
 * its period (2^32) is far beyond a run's few hundred thousand draws. Normals use the Box–Muller
 * transform, keeping the second value of each pair.
 * @module
 */

export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Normal with mean 0 and standard deviation 1. */
  normal(): number;
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  let spare = NaN;

  function uniform(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }

  function normal(): number {
    if (!Number.isNaN(spare)) {
      const value = spare;
      spare = NaN;
      return value;
    }
    // 1 - uniform() is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  return {
    uniform,
    normal,
    between: (lo, hi) => lo + (hi - lo) * uniform(),
  };
}
