/**
 * One run's summary for the athlete model: everything the model needs from a run, computed once from its
 * normalised samples (at upload, or when a live run ends) and stored beside the run, so the model is a fold
 * over small rows and never decodes the runs again. Nothing here depends on the athlete's other runs or on the
 * profile (heart-rate zones are applied later, in model.ts, over the stored HR histogram), so a summary stays
 * valid however the model changes; a new {@link SUMMARY_VERSION} means the rows are computed again.
 *
 * Samples are weighted by their time step, capped at {@link MAX_STEP_S} (a longer gap is a pause: it counts as
 * no time). "Running" means a valid speed of at least {@link RUNNING_SPEED_MPS} (walk breaks and standing
 * still are out of pace, efficiency and cadence figures). O(n) per run, a few passes over the columns.
 * @module
 */
import type { NormalizedRun } from '../../ingest/sample.js';

export const SUMMARY_VERSION = 2;

/** A time step longer than this is a gap (a pause or lost records) and counts as no time, s. */
export const MAX_STEP_S = 5;
/** Slowest speed that counts as running, m/s (ACSM walking tops out near 2 m/s). */
export const RUNNING_SPEED_MPS = 1.8;
/** Fastest plausible running speed, m/s; faster GPS readings are artefacts and treated as missing. */
export const MAX_SPEED_MPS = 8;
/** Mean-maximal pace curve durations, s: best average speed over each. */
export const MMP_DURATIONS_S = [180, 360, 720, 1200, 1800, 3600] as const;
/** Window of the robust HR peak (a rolling mean: one-second spikes do not count), s. */
export const HR_PEAK_WINDOW_S = 30;
/** Window of a sustained ("threshold") effort, s: Friel's field test uses the last 20 min of a 30-min run. */
export const THRESHOLD_WINDOW_S = 1200;
/** A window is "steady" when speed varies less than this coefficient of variation (intervals are not). */
export const STEADY_CV = 0.1;
/** Least share of a window the speed must cover to count (GPS speed is rarely missing). */
export const SPEED_COVER = 0.9;
/** Least share of a window the HR must cover to count (GPX and TCX files often carry HR on only some points). */
export const HR_COVER = 0.5;
/** HR histogram bin width, bpm. */
export const HR_BIN_BPM = 2;

/**
 * One HR histogram bin: `[bpm, seconds, runningSeconds, speedSeconds, cadenceSeconds, cadenceSum]`: time at that HR
 * (lower edge of the bin), of it time running, Σ speed·dt over the running time, and cadence time and Σ cadence·dt.
 */
export type HrBin = [number, number, number, number, number, number];

/** Weighted sums for a cadence-on-speed regression over running samples. */
export interface CadenceSums {
  /** Seconds. */
  w: number;
  v: number;
  c: number;
  vv: number;
  vc: number;
}

export interface RunSummary {
  version: number;
  /** Start of the run, Unix ms; null when the source had no absolute time (such runs stay out of dated values). */
  startMs: number | null;
  durationS: number;
  /** Time with records (gaps over MAX_STEP_S left out), s. */
  movingS: number;
  distanceM: number | null;
  /** Time running (valid speed at least RUNNING_SPEED_MPS), s, and the mean speed over it, m/s. */
  runningS: number;
  runningSpeedMps: number | null;
  /** Share of the moving time with a valid heart rate (0–1). */
  hrCoverage: number;
  /** Highest 30-s rolling mean of clean HR (spikes, jumps and optical cadence lock removed), bpm. */
  hrPeak30: number | null;
  /** Best average speed over each MMP duration (key: seconds) the run is long enough for, m/s. */
  mmp: Record<string, number>;
  /** The fastest steady 20-min window: its mean speed and mean HR (HR null without HR data). */
  steady20: { speedMps: number; hr: number | null } | null;
  /** Highest mean HR over a steady 20-min window, bpm. */
  steadyHr20: number | null;
  /** Pa:HR decoupling, first vs second half of the running time, % (positive = HR rose for the pace). */
  decouplingPct: number | null;
  /** Sparse HR histogram (bins with time only), ascending bpm. */
  hrBins: HrBin[];
  cadence: CadenceSums | null;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function validSpeed(v: number): boolean {
  return v === v && v >= 0 && v <= MAX_SPEED_MPS;
}

/**
 * Best mean of a value over windows of at least `durS` of time, from cumulative sums: `T` elapsed moving
 * time, `V` Σ value·dt and `W` Σ dt where the value is valid. A window counts only when the value covers at
 * least `cover` of it. With `V2` (Σ value²·dt) windows whose coefficient of variation exceeds `maxCv` are skipped.
 * Returns the best mean and the window's [start, end] indices, or null.
 */
function bestWindow(
  T: Float64Array,
  V: Float64Array,
  W: Float64Array,
  durS: number,
  cover: number,
  V2?: Float64Array,
  maxCv = Infinity,
): { mean: number; from: number; to: number } | null {
  const n = T.length;
  let best: { mean: number; from: number; to: number } | null = null;
  let j = 0;
  for (let i = 1; i < n; i++) {
    if (T[i]! - T[0]! < durS) continue;
    // The shortest window ending at i that is still at least durS long.
    while (j + 1 < i && T[i]! - T[j + 1]! >= durS) j++;
    const w = W[i]! - W[j]!;
    if (w < cover * (T[i]! - T[j]!) || w <= 0) continue;
    const mean = (V[i]! - V[j]!) / w;
    if (V2 !== undefined) {
      const variance = (V2[i]! - V2[j]!) / w - mean * mean;
      if (!(mean > 0) || Math.sqrt(Math.max(0, variance)) / mean > maxCv) continue;
    }
    if (best === null || mean > best.mean) best = { mean, from: j, to: i };
  }
  return best;
}

/** Half-width of the window in which HR that sits on the cadence counts as optical cadence lock, s. */
export const LOCK_HALF_WINDOW_S = 30;

/**
 * 1 where the HR is the step rate read by an optical sensor (cadence lock): in a 60-s window around the sample
 * HR sits within 2.5 of cadence 90 % of the time. A real HR near the cadence wanders off it within seconds.
 */
function cadenceLock(cols: NormalizedRun['samples']): Uint8Array {
  const n = cols.length;
  const out = new Uint8Array(n);
  const near = new Float64Array(n + 1);
  const seen = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const h = cols.hr[i]!;
    const c = cols.cadence[i]!;
    const both = h === h && c === c;
    seen[i + 1] = seen[i]! + (both ? 1 : 0);
    near[i + 1] = near[i]! + (both && Math.abs(h - c) <= 2.5 ? 1 : 0);
  }
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const t = cols.t[i]!;
    while (lo < i && cols.t[lo]! < t - LOCK_HALF_WINDOW_S) lo++;
    while (hi < n && cols.t[hi]! <= t + LOCK_HALF_WINDOW_S) hi++;
    const count = seen[hi]! - seen[lo]!;
    if (count >= 20 && near[hi]! - near[lo]! >= 0.9 * count) out[i] = 1;
  }
  return out;
}

/** The run's summary row. Pure and deterministic: the same run gives the same row on every machine. */
export function summarizeRun(run: NormalizedRun): RunSummary {
  const cols = run.samples;
  const n = cols.length;
  const { t, hr, speed, cadence } = cols;
  const startParsed = run.meta.startTime ? Date.parse(run.meta.startTime) : NaN;
  const startMs = Number.isFinite(startParsed) ? startParsed : n > 0 && Number.isFinite(cols.timestamp[0]) ? cols.timestamp[0]! : null;

  // Cumulative sums, index i covers the step (i-1, i]; index 0 is all zero.
  const T = new Float64Array(n);
  const SV = new Float64Array(n); // Σ speed·dt
  const SW = new Float64Array(n); // Σ dt with valid speed
  const SV2 = new Float64Array(n); // Σ speed²·dt
  const HV = new Float64Array(n); // Σ clean hr·dt
  const HW = new Float64Array(n); // Σ dt with clean hr
  const bins = new Map<number, HrBin>();
  const cad: CadenceSums = { w: 0, v: 0, c: 0, vv: 0, vc: 0 };
  let runT = 0;
  let runD = 0;
  const locked = cadenceLock(cols);
  let hrTime = 0;
  let prevHr = NaN;
  for (let i = 1; i < n; i++) {
    const raw = t[i]! - t[i - 1]!;
    const dt = raw > 0 && raw <= MAX_STEP_S ? raw : 0;
    T[i] = T[i - 1]! + dt;
    const v = speed[i]!;
    const okV = validSpeed(v);
    SV[i] = SV[i - 1]! + (okV ? v * dt : 0);
    SW[i] = SW[i - 1]! + (okV ? dt : 0);
    SV2[i] = SV2[i - 1]! + (okV ? v * v * dt : 0);
    const h = hr[i]!;
    const c = cadence[i]!;
    // Clean HR: plausible, no jump of more than 10 bpm/s, and not the step rate read as HR (optical cadence lock).
    const plausible = h === h && h >= 30 && h <= 240;
    const jump = prevHr === prevHr && Math.abs(h - prevHr) > 10 * Math.max(1, raw);
    const clean = plausible && !jump && locked[i] === 0;
    if (plausible) prevHr = h;
    HV[i] = HV[i - 1]! + (clean ? h * dt : 0);
    HW[i] = HW[i - 1]! + (clean ? dt : 0);
    const running = okV && v >= RUNNING_SPEED_MPS;
    if (running) {
      runT += dt;
      runD += v * dt;
    }
    if (clean && dt > 0) {
      hrTime += dt;
      const bpm = Math.floor(h / HR_BIN_BPM) * HR_BIN_BPM;
      let bin = bins.get(bpm);
      if (!bin) bins.set(bpm, (bin = [bpm, 0, 0, 0, 0, 0]));
      bin[1] += dt;
      if (running) {
        bin[2] += dt;
        bin[3] += v * dt;
        if (c === c && c >= 100 && c <= 240) {
          bin[4] += dt;
          bin[5] += c * dt;
        }
      }
    }
    if (running && dt > 0 && v <= 6.5 && c === c && c >= 130 && c <= 230) {
      cad.w += dt;
      cad.v += v * dt;
      cad.c += c * dt;
      cad.vv += v * v * dt;
      cad.vc += v * c * dt;
    }
  }
  const movingS = n > 0 ? T[n - 1]! : 0;

  const mmp: Record<string, number> = {};
  for (const d of MMP_DURATIONS_S) {
    const best = bestWindow(T, SV, SW, d, SPEED_COVER);
    if (best) mmp[String(d)] = round(best.mean, 4);
  }
  let hrPeak30: number | null = null;
  const peak = bestWindow(T, HV, HW, HR_PEAK_WINDOW_S, HR_COVER);
  if (peak) hrPeak30 = round(peak.mean, 1);

  // Steady 20-min windows: the fastest (threshold pace) and the highest-HR one (threshold HR).
  let steady20: RunSummary['steady20'] = null;
  const fast = bestWindow(T, SV, SW, THRESHOLD_WINDOW_S, SPEED_COVER, SV2, STEADY_CV);
  if (fast) {
    const w = HW[fast.to]! - HW[fast.from]!;
    const span = T[fast.to]! - T[fast.from]!;
    steady20 = { speedMps: round(fast.mean, 4), hr: w >= HR_COVER * span ? round((HV[fast.to]! - HV[fast.from]!) / w, 1) : null };
  }
  let steadyHr20: number | null = null;
  if (fast) {
    // Highest mean HR among windows that are steady in speed: scan the HR windows and check the speed's CV.
    let j = 0;
    for (let i = 1; i < n; i++) {
      if (T[i]! - T[0]! < THRESHOLD_WINDOW_S) continue;
      while (j + 1 < i && T[i]! - T[j + 1]! >= THRESHOLD_WINDOW_S) j++;
      const span = T[i]! - T[j]!;
      const hw = HW[i]! - HW[j]!;
      const sw = SW[i]! - SW[j]!;
      if (hw < HR_COVER * span || sw < SPEED_COVER * span) continue;
      const mv = (SV[i]! - SV[j]!) / sw;
      const cv = Math.sqrt(Math.max(0, (SV2[i]! - SV2[j]!) / sw - mv * mv)) / mv;
      if (!(mv >= RUNNING_SPEED_MPS) || cv > STEADY_CV) continue;
      const mh = (HV[i]! - HV[j]!) / hw;
      if (steadyHr20 === null || mh > steadyHr20) steadyHr20 = mh;
    }
    if (steadyHr20 !== null) steadyHr20 = round(steadyHr20, 1);
  }

  // Decoupling: efficiency (speed per beat) of the first vs the second half of the running time with HR.
  let decouplingPct: number | null = null;
  if (movingS >= 1200) {
    const half = movingS / 2;
    const acc = [0, 0, 0, 0]; // Σv·dt, Σh·dt for each half
    for (let i = 1; i < n; i++) {
      const dt = T[i]! - T[i - 1]!;
      const v = speed[i]!;
      const h = hr[i]!;
      if (dt <= 0 || !validSpeed(v) || v < RUNNING_SPEED_MPS || HW[i]! - HW[i - 1]! <= 0) continue;
      const k = T[i]! <= half ? 0 : 2;
      acc[k]! += v * dt;
      acc[k + 1]! += h * dt;
    }
    if (acc[1]! > 0 && acc[3]! > 0) {
      const ef1 = acc[0]! / acc[1]!;
      const ef2 = acc[2]! / acc[3]!;
      if (ef1 > 0) decouplingPct = round((100 * (ef1 - ef2)) / ef1, 2);
    }
  }

  const distance = run.meta.distanceM ?? (n > 0 && SW[n - 1]! > 0 ? SV[n - 1]! : null);
  return {
    version: SUMMARY_VERSION,
    startMs,
    durationS: round(run.meta.elapsedS > 0 ? run.meta.elapsedS : n > 0 ? t[n - 1]! - t[0]! : 0, 1),
    movingS: round(movingS, 1),
    distanceM: distance === null ? null : round(distance, 1),
    runningS: round(runT, 1),
    runningSpeedMps: runT > 0 ? round(runD / runT, 4) : null,
    hrCoverage: movingS > 0 ? round(hrTime / movingS, 3) : 0,
    hrPeak30,
    mmp,
    steady20,
    steadyHr20,
    decouplingPct,
    hrBins: [...bins.values()].sort((a, b) => a[0] - b[0]).map((b) => [b[0], round(b[1], 1), round(b[2], 1), round(b[3], 2), round(b[4], 1), round(b[5], 1)] as HrBin),
    cadence: cad.w > 0 ? { w: round(cad.w, 1), v: round(cad.v, 3), c: round(cad.c, 1), vv: round(cad.vv, 3), vc: round(cad.vc, 2) } : null,
  };
}
