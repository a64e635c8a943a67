/**
 * Fixed-capacity rings with running sums: the only windowing primitive of the engine. Plain data (a typed array
 * and numbers) so an engine's state serialises as it is. O(1) per push, no allocation after creation.
 * A missing value (NaN) takes its slot in time but is left out of the sums, so windows stay time-aligned.
 *
 * The slots are float32: half the memory of a live run's rings (~8.6 KB of ~17 KB), and what a window holds
 * (heart rate, pace, cadence, altitude, distance within a run) needs no more than its 7 digits. The sums stay
 * doubles and take the value as its slot keeps it, so what a push adds is exactly what a later one takes out (a
 * checkpoint from before, with float64 slots, goes on the same way).
 *
 * Why the value goes in through `r.next` and the statistics come out as fields (`mean`, `cv`, `validShare`)
 * rather than as arguments and return values: V8 passes and returns doubles boxed (a heap allocation) whenever
 * it does not inline the call, and in the big per-tick functions it often does not. A field store/load is
 * allocation-free either way. Measured: 5 boxed pushes per tick were most of the engine's garbage. Likewise
 * callers write `r.next = NaN; if (ok) r.next = x;` rather than `r.next = ok ? x : NaN`: V8 gives a phi of a
 * computed double and the NaN constant a tagged representation, which boxes (measured in effort-spike).
 * @module
 */

/** A ring's slots: float32 (float64 in a checkpoint restored from before they were). */
export type RingSlots = Float32Array | Float64Array;

/** A window over the last `buf.length` values. */
export interface Ring {
  buf: RingSlots;
  /** Next slot to write. */
  i: number;
  /** Valid (non-NaN) values in the window. */
  n: number;
  /** Pushes so far, capped at capacity: how much of the window has been seen. */
  seen: number;
  sum: number;
  sumSq: number;
  /** The value `ringPush` adds (set it, then call `ringPush`). */
  next: number;
  /** Mean of the valid values (NaN when none), updated by every push. */
  mean: number;
  /** Coefficient of variation (population SD ÷ mean) of the valid values (NaN with fewer than 2). */
  cv: number;
  /** Share of the slots holding a valid value (0 until the window has been filled once). */
  validShare: number;
}

export function createRing(capacity: number): Ring {
  const cap = Math.max(1, Math.floor(capacity));
  return { buf: new Float32Array(cap).fill(NaN), i: 0, n: 0, seen: 0, sum: 0, sumSq: 0, next: NaN, mean: NaN, cv: NaN, validShare: 0 };
}

/** Pushes `r.next`. */
export function ringPush(r: Ring): void {
  const x = r.next;
  const cap = r.buf.length;
  const old = r.buf[r.i]!;
  if (old === old) {
    r.sum -= old;
    r.sumSq -= old * old;
    r.n--;
  }
  r.buf[r.i] = x;
  const kept = r.buf[r.i]!; // x as its slot holds it
  if (kept === kept) {
    r.sum += kept;
    r.sumSq += kept * kept;
    r.n++;
  }
  r.i = r.i + 1 === cap ? 0 : r.i + 1;
  if (r.seen < cap) r.seen++;
  const n = r.n;
  if (n > 0) {
    const mean = r.sum / n;
    r.mean = mean;
    if (n > 1) {
      const variance = r.sumSq / n - mean * mean;
      r.cv = Math.sqrt(variance > 0 ? variance : 0) / mean;
    } else {
      r.cv = NaN;
    }
  } else {
    r.mean = NaN;
    r.cv = NaN;
  }
  r.validShare = r.seen < cap ? 0 : n / cap;
}

/**
 * Two windows of `width` slots over one buffer: the most recent values, and those `lag` slots older.
 * Compares "now" with "a few minutes ago" in O(1) (e.g. respiration rate rising while pace holds).
 * Same conventions as `Ring`: set `next`, call `lagPush`, read `recentMean` / `olderMean` (NaN unless at least
 * `minShare` of that window is valid and the buffer has been filled once).
 */
export interface LagRing {
  buf: RingSlots;
  i: number;
  width: number;
  lag: number;
  minShare: number;
  seen: number;
  recentSum: number;
  recentN: number;
  olderSum: number;
  olderN: number;
  next: number;
  recentMean: number;
  olderMean: number;
}

export function createLagRing(width: number, lag: number, minShare: number): LagRing {
  const w = Math.max(1, Math.floor(width));
  const l = Math.max(w, Math.floor(lag));
  return {
    buf: new Float32Array(w + l).fill(NaN),
    i: 0,
    width: w,
    lag: l,
    minShare,
    seen: 0,
    recentSum: 0,
    recentN: 0,
    olderSum: 0,
    olderN: 0,
    next: NaN,
    recentMean: NaN,
    olderMean: NaN,
  };
}

/** Pushes `r.next`. */
export function lagPush(r: LagRing): void {
  const x = r.next;
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
  const kept = r.buf[r.i]!;
  if (kept === kept) {
    r.recentSum += kept;
    r.recentN++;
  }
  r.i = r.i + 1 === cap ? 0 : r.i + 1;
  if (r.seen < cap) r.seen++;
  const full = r.seen >= cap;
  const need = r.minShare * r.width;
  r.recentMean = full && r.recentN >= need && r.recentN > 0 ? r.recentSum / r.recentN : NaN;
  r.olderMean = full && r.olderN >= need && r.olderN > 0 ? r.olderSum / r.olderN : NaN;
}

type HasSlots = { buf: RingSlots };

function collectRings(x: unknown, into: HasSlots[], seen: Set<object>): void {
  if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x) || seen.has(x)) return;
  seen.add(x);
  const o = x as Record<string, unknown>;
  if (o.buf instanceof Float32Array) into.push(o as HasSlots);
  for (const v of Object.values(o)) collectRings(v, into, seen);
}

/**
 * Moves the float32 slots of every ring found in `state` into one buffer, as views of it, contents kept: an engine's
 * ~22 rings then hold one ArrayBuffer instead of 22 (each ~130 B besides its slots) and sit together in memory.
 * Called once when an engine is made or restored.
 */
export function packRingSlots(state: object): void {
  const rings: HasSlots[] = [];
  collectRings(state, rings, new Set());
  let total = 0;
  for (const r of rings) total += r.buf.length;
  const slab = new Float32Array(total);
  let at = 0;
  for (const r of rings) {
    const view = slab.subarray(at, at + r.buf.length);
    view.set(r.buf);
    r.buf = view;
    at += view.length;
  }
}
