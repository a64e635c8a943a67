/**
 * Breathing rate estimated from RR intervals (respiratory sinus arrhythmia: beats come faster while breathing in
 * and slower while breathing out, so the RR series oscillates at the breathing frequency). For runs where the
 * watch records RR intervals but no respiration rate.
 *
 * Method (the "band-pass + short-term Fourier transform" family, best in Prigent et al., Sensors 2021 — 5.5 %
 * error on chest-strap RR during an incremental run; science.md §4.3):
 * 1. Beats are placed on their own clock (the running sum of RR intervals), so the tachogram is exact however the
 *    beats were batched or stamped. Ectopic/missed beats (an interval more than 25 % off the recent level) are
 *    skipped and bridged by interpolation; a gap in the beat stream longer than `maxGapS` restarts the window.
 * 2. The tachogram is linearly resampled to `sampleHz` (4 Hz) into a fixed ring of `windowS` (64 s).
 * 3. Every `hopS` (4 s) of beats, once at least `minWindowS` (32 s) are in the ring: remove the mean and a
 *    quadratic trend, apply a Hann window, and scan the breathing band with the Goertzel recurrence, one bin per
 *    1/window Hz (about 1 breath/min). The band is 6–60 breaths/min, capped below half the heart rate (the
 *    tachogram is sampled once per beat, so faster breathing cannot be seen). The peak is refined by Gaussian
 *    interpolation over its neighbours.
 * 4. The estimate is NaN (unknown) when the window is too short, the RR variation is below `minAmplitudeMs`
 *    (RSA shrinks with effort), the peak does not stand out (less than `minPeakShare` of the band's power in the
 *    peak and its two neighbours, or not a local maximum at the band's edge), or two analyses in a row disagree
 *    by more than `maxStepBpm` (noise peaks wander, breathing does not).
 *
 * Limits (state them wherever the number is shown):
 * - RSA weakens at high intensity; at running cadence (~2.7–3 Hz steps, ~1.4 Hz strides) locomotor–respiratory
 *   coupling and cadence harmonics aliased by the once-per-beat sampling can put a peak in the band that is not
 *   breathing (unverified in the literature; science.md §4.3). Above ~40 breaths/min at HR < 100 the band cap
 *   bites. Wrist optical RR is noisier than a chest strap.
 * - It lags: a change in breathing shows fully after about half a window (~30 s).
 * - Checked on synthetic RR (within ±2 breaths/min from 15 to 48) and on the two real files that carry both RR
 *   and the device's own respiration (Garmin Edge 530, cycling: hrv-activity.fit, tormoder garmin.fit). There
 *   it does NOT agree with the device: the device says 28–40 breaths/min, this estimate mostly 6–10 (mean
 *   error ~21), and a spectrum aligned on the device's value shows no peak there at all — at HR ~150 with RR
 *   varying by ±2–3 ms at 1 ms resolution the breathing is not in the RR series. Not validated on running.
 *   Treat the number as a hint, never as a trigger on its own.
 *
 * Cost: a 256-slot ring and a 256-slot scratch buffer, allocated once; per beat a few interpolated writes;
 * every 4 s about 60 × 256 multiply-adds. State is JSON-serialisable ({@link RespirationState}).
 * @module
 */
import { IngestError } from './errors.js';
import { PLAUSIBLE } from './plausible.js';
import type { RrSeries, SampleColumns } from './sample.js';

export interface RespirationOptions {
  /** Resampling rate of the RR tachogram, Hz. @default 4 */
  sampleHz: number;
  /** Analysis window, s. @default 64 */
  windowS: number;
  /** Least tachogram length before the first estimate, s. @default 32 */
  minWindowS: number;
  /** Time between estimates, s of beats. @default 4 */
  hopS: number;
  /** Breathing band, breaths/min. @default 6 */
  minBpm: number;
  /** @default 60 */
  maxBpm: number;
  /** Least RMS of the detrended tachogram, ms, to call the signal readable. @default 1 */
  minAmplitudeMs: number;
  /** Least share of the band's power in the peak bin and its two neighbours. @default 0.25 */
  minPeakShare: number;
  /** A beat arriving this much later than its interval explains restarts the window, s. @default 5 */
  maxGapS: number;
  /**
   * Two analyses in a row must agree within this, breaths/min, before either is reported: a noise peak jumps
   * around from one window to the next, breathing does not. @default 3
   */
  maxStepBpm: number;
}

export const RESPIRATION_DEFAULTS: Readonly<RespirationOptions> = Object.freeze({
  sampleHz: 4,
  windowS: 64,
  minWindowS: 32,
  hopS: 4,
  minBpm: 6,
  maxBpm: 60,
  minAmplitudeMs: 1,
  minPeakShare: 0.25,
  maxGapS: 5,
  maxStepBpm: 3,
});

/** Everything the estimator remembers: plain numbers and one array, JSON-safe (null for unknown). */
export interface RespirationState {
  /** Resampled tachogram ring, ms (length = windowS × sampleHz). */
  ring: number[];
  /** Next slot to write. */
  head: number;
  /** Valid slots (≤ ring length). */
  filled: number;
  /** Slots written since the last estimate. */
  sinceEstimate: number;
  /** Beat clock: when the last beat ended, s (sum of intervals since the window started). */
  clockS: number | null;
  /** The last accepted tachogram point (time on the beat clock, s; value, ms). */
  pointT: number | null;
  pointMs: number | null;
  /** Index of the next resampling instant (instant = index / sampleHz on the beat clock). */
  nextGrid: number;
  /** Recent RR level, ms, for spotting ectopic and missed beats. */
  levelMs: number | null;
  /** Consecutive beats rejected as artefacts (after a few, the level has really moved). */
  rejected: number;
  /** Caller's time of the last beat, s, for spotting gaps. */
  lastBeatT: number | null;
  /** The latest reported estimate, breaths/min; null when unknown. */
  rate: number | null;
  /** The latest analysis before the agreement check, breaths/min; null when it found nothing. */
  raw: number | null;
}

export interface RespirationEstimator {
  /** One RR interval of `rrMs` ms that ended at `tS` (s, any clock that runs with the beats). O(1) amortised. */
  pushBeat(tS: number, rrMs: number): void;
  /** The latest breathing-rate estimate, breaths/min; NaN when unknown (too little data, signal too weak). */
  rate(): number;
  /** How much the peak stood out at the last analysis: its share of the band power (0–1); NaN before one. */
  peakShare(): number;
  /** A JSON-safe copy: `createRespirationFromRr(options, e.state())` continues exactly where `e` is. */
  state(): RespirationState;
}

/** Beats further than this from the recent level are treated as ectopic or missed. */
const ARTEFACT_SHARE = 0.25;
/** After this many rejections in a row the level itself has moved: accept and follow it. */
const MAX_REJECTED = 4;
/** Weight of a new beat in the recent RR level. */
const LEVEL_WEIGHT = 0.2;
const RR_MIN_MS = 60_000 / PLAUSIBLE.hr[1];
const RR_MAX_MS = 60_000 / PLAUSIBLE.hr[0];

/** Hann windows by length, shared by every estimator of that window (the cosines are most of a scan's cost). */
const hannCache = new Map<number, Float64Array>();
function hannWindow(n: number): Float64Array {
  let w = hannCache.get(n);
  if (w === undefined) {
    w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 * (1 - Math.cos((2 * Math.PI * i) / (n - 1)));
    hannCache.set(n, w);
  }
  return w;
}

/** NaN ⇄ null: JSON has no NaN. */
const nul = (v: number): number | null => (Number.isNaN(v) ? null : v);
const nan = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

export function createRespirationFromRr(
  options: Partial<RespirationOptions> = {},
  saved?: RespirationState,
): RespirationEstimator {
  const o: RespirationOptions = { ...RESPIRATION_DEFAULTS, ...options };
  const size = Math.round(o.windowS * o.sampleHz);
  const minFilled = Math.round(o.minWindowS * o.sampleHz);
  const hop = Math.max(1, Math.round(o.hopS * o.sampleHz));
  if (!(size >= 16 && minFilled >= 8 && minFilled <= size && o.minBpm > 0 && o.maxBpm > o.minBpm)) {
    throw new IngestError('LIVE_STATE_INVALID', 'respiration options: window, minimum window or band out of range');
  }
  const ring = new Float64Array(size);
  const scratch = new Float64Array(size);
  const fullHann = hannWindow(size);
  /** Band power per bin of the last analysis (bins go up to half the window's length). */
  const bins = new Float64Array((size >> 1) + 2);

  let head = 0;
  let filled = 0;
  let sinceEstimate = 0;
  // Fractional state lives in one object whose fields only ever hold numbers (NaN = unknown): V8 updates such
  // fields in place, whereas a captured `let` double is re-boxed on every write (a GC every ~25k beats).
  const d = { clockS: NaN, pointT: NaN, pointMs: NaN, levelMs: NaN, lastBeatT: NaN, estimate: NaN, raw: NaN, share: NaN };
  let nextGrid = 0;
  let rejected = 0;

  if (saved !== undefined) restore(saved);

  function restart(): void {
    head = 0;
    filled = 0;
    sinceEstimate = 0;
    d.clockS = NaN;
    d.pointT = NaN;
    d.pointMs = NaN;
    nextGrid = 0;
    d.levelMs = NaN;
    rejected = 0;
    d.estimate = NaN;
    d.raw = NaN;
  }

  function pushBeat(tS: number, rrMs: number): void {
    if (!(rrMs >= RR_MIN_MS && rrMs <= RR_MAX_MS) || !Number.isFinite(tS)) return;
    // Missing beats (strap off, dropped packets) break the beat clock: start over rather than bridge them.
    if (tS - d.lastBeatT > rrMs / 1000 + o.maxGapS) restart();
    d.lastBeatT = tS;

    if (Number.isNaN(d.clockS)) {
      d.clockS = 0;
      d.pointT = 0;
      d.pointMs = rrMs;
      d.levelMs = rrMs;
      write(rrMs);
      nextGrid = 1;
      return;
    }
    d.clockS += rrMs / 1000;
    if (Math.abs(rrMs - d.levelMs) > ARTEFACT_SHARE * d.levelMs && rejected < MAX_REJECTED) {
      rejected++;
      return;
    }
    rejected = 0;
    d.levelMs += LEVEL_WEIGHT * (rrMs - d.levelMs);
    // Resample the segment from the previous point to this beat onto the grid.
    const span = d.clockS - d.pointT;
    for (let g = nextGrid / o.sampleHz; g <= d.clockS; g = ++nextGrid / o.sampleHz) {
      write(d.pointMs + ((rrMs - d.pointMs) * (g - d.pointT)) / span);
    }
    d.pointT = d.clockS;
    d.pointMs = rrMs;
  }

  function write(ms: number): void {
    ring[head] = ms;
    head = head + 1 === size ? 0 : head + 1;
    if (filled < size) filled++;
    if (++sinceEstimate >= hop && filled >= minFilled) {
      sinceEstimate = 0;
      const next = analyse();
      d.estimate = Math.abs(next - d.raw) <= o.maxStepBpm ? next : NaN;
      d.raw = next;
    }
  }

  /** The band peak of the current window, breaths/min, or NaN. */
  function analyse(): number {
    const n = filled;
    // Oldest first into the scratch buffer, with the sums for a quadratic trend fitted on orthogonal
    // polynomials of the index (1, d, d² − c). Quadratic, not linear: a heart rate that rises and levels off
    // inside the window otherwise leaves a bow that lands in the lowest breathing bins.
    let start = head - n;
    if (start < 0) start += size;
    const mid = (n - 1) / 2;
    const c = (n * n - 1) / 12; // mean of d²
    let sumX = 0;
    let sumXD = 0;
    let sumXQ = 0;
    let sumQQ = 0;
    for (let i = 0, j = start; i < n; i++) {
      const x = ring[j]!;
      const d = i - mid;
      const q = d * d - c;
      scratch[i] = x;
      sumX += x;
      sumXD += x * d;
      sumXQ += x * q;
      sumQQ += q * q;
      j = j + 1 === size ? 0 : j + 1;
    }
    const mean = sumX / n;
    const slope = sumXD / ((n * (n * n - 1)) / 12);
    const bow = sumXQ / sumQQ;
    let power = 0;
    const hann = n === size ? fullHann : null;
    for (let i = 0; i < n; i++) {
      const d = i - mid;
      const r = scratch[i]! - mean - slope * d - bow * (d * d - c);
      power += r * r;
      scratch[i] = r * (hann !== null ? hann[i]! : 0.5 * (1 - Math.cos((2 * Math.PI * i) / (n - 1))));
    }
    d.share = NaN;
    if (Math.sqrt(power / n) < o.minAmplitudeMs) return NaN;

    // Bins k · fs/n Hz; the top is capped below half the heart rate (once-per-beat sampling).
    const heartHz = 1000 / mean;
    const topHz = Math.min(o.maxBpm / 60, 0.45 * heartHz);
    const kLo = Math.max(1, Math.ceil(((o.minBpm / 60) * n) / o.sampleHz));
    const kHi = Math.floor((topHz * n) / o.sampleHz);
    if (kHi - kLo < 2) return NaN;
    // Power at bins kLo−1 … kHi+1 (the outer two only as the peak's neighbours), by the Goertzel recurrence,
    // written inline into a preallocated array: a helper returning each power would box it.
    for (let k = kLo - 1; k <= kHi + 1; k++) {
      const coeff = 2 * Math.cos((2 * Math.PI * k) / n);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const s0 = scratch[i]! + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      bins[k] = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    }
    let total = 0;
    let bestK = kLo;
    for (let k = kLo; k <= kHi; k++) {
      total += bins[k]!;
      if (bins[k]! > bins[bestK]!) bestK = k;
    }
    const best = bins[bestK]!;
    const before = bins[bestK - 1]!;
    const after = bins[bestK + 1]!;
    // The peak must be a real local maximum: the largest bin at the band's edge with more power just outside
    // is the skirt of a trend or of something faster, not breathing.
    if (!(best > before && best > after)) {
      d.share = 0;
      return NaN;
    }
    // A peak at the band edge has a neighbour outside the band: count it in the total too.
    const peak = before + best + after;
    const all = total + (bestK === kLo ? before : 0) + (bestK === kHi ? after : 0);
    d.share = best > 0 ? peak / all : 0;
    if (d.share < o.minPeakShare) return NaN;
    // Gaussian (log-parabolic) interpolation: accurate for a Hann-windowed sinusoid.
    let shift = 0;
    if (before > 0 && after > 0) {
      const la = Math.log(before);
      const lb = Math.log(best);
      const lc = Math.log(after);
      const den = la - 2 * lb + lc;
      if (den < 0) shift = Math.max(-0.5, Math.min(0.5, (0.5 * (la - lc)) / den));
    }
    const bpm = (((bestK + shift) * o.sampleHz) / n) * 60;
    return Math.min(Math.max(bpm, o.minBpm), topHz * 60);
  }

  function state(): RespirationState {
    return {
      ring: Array.from(ring),
      head,
      filled,
      sinceEstimate,
      clockS: nul(d.clockS),
      pointT: nul(d.pointT),
      pointMs: nul(d.pointMs),
      nextGrid,
      levelMs: nul(d.levelMs),
      rejected,
      lastBeatT: nul(d.lastBeatT),
      rate: nul(d.estimate),
      raw: nul(d.raw),
    };
  }

  function restore(s: RespirationState): void {
    const ok =
      Array.isArray(s.ring) &&
      s.ring.length === size &&
      s.ring.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
      [s.head, s.filled, s.sinceEstimate, s.nextGrid, s.rejected].every((v) => Number.isInteger(v) && v >= 0) &&
      s.head < size &&
      s.filled <= size;
    if (!ok) throw new IngestError('LIVE_STATE_INVALID', `respiration state: does not fit a ${size}-slot window`);
    ring.set(s.ring);
    head = s.head;
    filled = s.filled;
    sinceEstimate = s.sinceEstimate;
    d.clockS = nan(s.clockS);
    d.pointT = nan(s.pointT);
    d.pointMs = nan(s.pointMs);
    nextGrid = s.nextGrid;
    d.levelMs = nan(s.levelMs);
    rejected = s.rejected;
    d.lastBeatT = nan(s.lastBeatT);
    d.estimate = nan(s.rate);
    d.raw = nan(s.raw);
  }

  return { pushBeat, rate: () => d.estimate, peakShare: () => d.share, state };
}

/**
 * Fills missing respiration in a whole run from its RR intervals: the batch form of the same estimator, for the
 * FIT path. Each sample gets the estimate from the beats that ended at or before it, exactly what a live run
 * would have had at that moment. Only samples with a beat within `maxGapS` before them are filled. Returns how
 * many samples it filled.
 */
export function fillRespirationFromRr(
  cols: SampleColumns,
  rr: RrSeries,
  options: Partial<RespirationOptions> = {},
): number {
  const est = createRespirationFromRr(options);
  const maxGapS = options.maxGapS ?? RESPIRATION_DEFAULTS.maxGapS;
  let b = 0;
  let filledCount = 0;
  for (let i = 0; i < cols.length; i++) {
    const t = cols.t[i]!;
    let lastBeat = NaN;
    while (b < rr.t.length && rr.t[b]! <= t) {
      lastBeat = rr.t[b]!;
      est.pushBeat(lastBeat, rr.ms[b]!);
      b++;
    }
    if (b > 0 && Number.isNaN(lastBeat)) lastBeat = rr.t[b - 1]!;
    if (!Number.isNaN(cols.respiration[i]!) || !(t - lastBeat <= maxGapS)) continue;
    const rate = est.rate();
    if (!Number.isNaN(rate)) {
      cols.respiration[i] = rate;
      filledCount++;
    }
  }
  return filledCount;
}
