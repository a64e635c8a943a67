/**
 * Fixed-capacity rings with running sums: the only windowing primitive of the engine. Plain data (a typed array
 * and numbers) so an engine's state serialises as it is. O(1) per push, no allocation after creation.
 * A missing value (NaN) takes its slot in time but is left out of the sums, so windows stay time-aligned.
 * @module
 */

/** A window over the last `buf.length` values. */
export interface Ring {
  buf: Float64Array;
  /** Next slot to write. */
  i: number;
  /** Valid (non-NaN) values in the window. */
  n: number;
  /** Pushes so far, capped at capacity: how much of the window has been seen. */
  seen: number;
  sum: number;
  sumSq: number;
}

export function createRing(capacity: number): Ring {
  const cap = Math.max(1, Math.floor(capacity));
  return { buf: new Float64Array(cap).fill(NaN), i: 0, n: 0, seen: 0, sum: 0, sumSq: 0 };
}

export function ringPush(r: Ring, x: number): void {
  const old = r.buf[r.i]!;
  if (old === old) {
    r.sum -= old;
    r.sumSq -= old * old;
    r.n--;
  }
  r.buf[r.i] = x;
  if (x === x) {
    r.sum += x;
    r.sumSq += x * x;
    r.n++;
  }
  r.i = r.i + 1 === r.buf.length ? 0 : r.i + 1;
  if (r.seen < r.buf.length) r.seen++;
}

export function ringMean(r: Ring): number {
  return r.n > 0 ? r.sum / r.n : NaN;
}

/** Coefficient of variation (population SD ÷ mean) of the valid values. */
export function ringCv(r: Ring): number {
  if (r.n < 2) return NaN;
  const mean = r.sum / r.n;
  const variance = Math.max(0, r.sumSq / r.n - mean * mean);
  return Math.sqrt(variance) / mean;
}

/** Share of the window's slots holding a valid value (0 until the window has been filled once). */
export function ringValidShare(r: Ring): number {
  return r.seen < r.buf.length ? 0 : r.n / r.buf.length;
}

/**
 * Two windows of `width` slots over one buffer: the most recent values, and those `lag` slots older.
 * Compares "now" with "a few minutes ago" in O(1) (e.g. respiration rate rising while pace holds).
 */
export interface LagRing {
  buf: Float64Array;
  i: number;
  width: number;
  lag: number;
  seen: number;
  recentSum: number;
  recentN: number;
  olderSum: number;
  olderN: number;
}

export function createLagRing(width: number, lag: number): LagRing {
  const w = Math.max(1, Math.floor(width));
  const l = Math.max(w, Math.floor(lag));
  return { buf: new Float64Array(w + l).fill(NaN), i: 0, width: w, lag: l, seen: 0, recentSum: 0, recentN: 0, olderSum: 0, olderN: 0 };
}

export function lagPush(r: LagRing, x: number): void {
  const cap = r.buf.length;
  // Ages before this push: the newest value is at age 0, stored at i-1.
  const leavingOlder = r.buf[r.i]!; // age cap-1
  if (leavingOlder === leavingOlder) {
    r.olderSum -= leavingOlder;
    r.olderN--;
  }
  let j = r.i - r.lag;
  if (j < 0) j += cap;
  const enteringOlder = r.buf[j]!; // age lag-1
  if (enteringOlder === enteringOlder) {
    r.olderSum += enteringOlder;
    r.olderN++;
  }
  j = r.i - r.width;
  if (j < 0) j += cap;
  const leavingRecent = r.buf[j]!; // age width-1
  if (leavingRecent === leavingRecent) {
    r.recentSum -= leavingRecent;
    r.recentN--;
  }
  r.buf[r.i] = x;
  if (x === x) {
    r.recentSum += x;
    r.recentN++;
  }
  r.i = r.i + 1 === cap ? 0 : r.i + 1;
  if (r.seen < cap) r.seen++;
}

/** Mean of the recent window, NaN unless at least `minShare` of it is valid. */
export function lagRecentMean(r: LagRing, minShare: number): number {
  return r.seen >= r.buf.length && r.recentN >= minShare * r.width ? r.recentSum / r.recentN : NaN;
}

/** Mean of the older window, NaN unless at least `minShare` of it is valid. */
export function lagOlderMean(r: LagRing, minShare: number): number {
  return r.seen >= r.buf.length && r.olderN >= minShare * r.width ? r.olderSum / r.olderN : NaN;
}
