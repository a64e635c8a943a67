/**
 * Post-run metrics for the report: the standard whole-run numbers next to what the streaming engine saw.
 * - decouplingPct: over steady running only — records with a valid HR and running speed, without the first
 *   10 min (warm-up) and the last 5 min (cool-down), split at the middle record, EF = mean speed ÷ mean HR per half,
 *   100 × (EF1 − EF2) ÷ EF1 (GoldenCheetah / Runalyze / Friel; science.md §2.1). It is null, with the reason in
 *   `notes`, when that stretch is under 20 min, when its 1-min speeds vary by more than 15 % (CV: intervals,
 *   surges, hills, stop-and-go) or when the engine recognised a structured workout: EF "is only a valid metric
 *   for aerobic, steady-state workouts".
 * - avgSpeedMps / avgPaceSPerKm: distance over moving time of the analysed records; avgHr / maxHr from them.
 * - hrDriftBpmPerHour: least-squares slope of HR on time over the same records after the first 10 min.
 * - cadenceChangePct: mean cadence of the second half vs the first (same split rule, records with cadence).
 * - trimp: Banister, Σ minutes × HRr × A·e^(B·HRr); A/B 0.64/1.92 male, 0.86/1.67 female, 0.725/1.795 unknown
 *   (GoldenCheetah, Runalyze; science.md §2.6).
 * @module
 */
import type { NormalizedRun } from '../ingest/sample.js';
import type { EngineConfig } from './config.js';
import type { Shared } from './detector.js';
import type { ResolvedProfile } from './profile.js';
import type { ReportMetrics } from './types.js';

const round = (x: number, digits: number): number | null => {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The standard post-run aerobic decoupling over parallel arrays (also used by the tests' independent check). */
export function halvesDecoupling(speed: ArrayLike<number>, hr: ArrayLike<number>): { ef1: number; ef2: number; pct: number } {
  const idx: number[] = [];
  for (let i = 0; i < speed.length; i++) {
    const v = speed[i]!;
    const h = hr[i]!;
    if (Number.isFinite(h) && h > 0 && v > 0.5) idx.push(i);
  }
  if (idx.length < 4) return { ef1: NaN, ef2: NaN, pct: NaN };
  const mid = Math.floor(idx.length / 2);
  let s1 = 0, h1 = 0, s2 = 0, h2 = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j]!;
    if (j < mid) {
      s1 += speed[i]!;
      h1 += hr[i]!;
    } else {
      s2 += speed[i]!;
      h2 += hr[i]!;
    }
  }
  const ef1 = s1 / mid / (h1 / mid);
  const ef2 = s2 / (idx.length - mid) / (h2 / (idx.length - mid));
  return { ef1, ef2, pct: (100 * (ef1 - ef2)) / ef1 };
}

/** Steady running for decoupling: the records kept, or why there are none. */
function steadyRecords(
  c: NormalizedRun['samples'],
  inSpan: (t: number) => boolean,
  structured: boolean,
): { speed: Float64Array; hr: Float64Array; note: string | null } {
  const n = c.length;
  const speed = new Float64Array(n).fill(NaN);
  const hr = new Float64Array(n).fill(NaN);
  let first = NaN;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    if (!inSpan(c.t[i]!)) continue;
    if (first !== first) first = c.t[i]!;
    last = c.t[i]!;
  }
  const from = first + 600;
  const to = last - 300;
  // 1-min means of speed over the stretch, for its steadiness.
  let minuteSum = 0, minuteN = 0, minuteStart = from, sum = 0, sumSq = 0, m = 0, kept = 0;
  for (let i = 0; i < n; i++) {
    const t = c.t[i]!;
    if (!inSpan(t) || t < from || t > to) continue;
    const v = c.speed[i]!;
    const h = c.hr[i]!;
    if (!(v >= 1.8 && h > 0)) continue;
    speed[i] = v;
    hr[i] = h;
    kept++;
    if (t - minuteStart >= 60) {
      if (minuteN > 0) {
        const mean = minuteSum / minuteN;
        sum += mean;
        sumSq += mean * mean;
        m++;
      }
      minuteSum = 0;
      minuteN = 0;
      minuteStart = t;
    }
    minuteSum += v;
    minuteN++;
  }
  const cv = m > 1 ? Math.sqrt(Math.max(0, sumSq / m - (sum / m) ** 2)) / (sum / m) : NaN;
  let note: string | null = null;
  if (structured) note = 'decoupling not given: a structured workout (surges and recoveries), not a steady effort';
  else if (!(to - from >= 1200) || m < 20 || kept < 60) note = 'decoupling not given: under 20 min of steady running after the warm-up';
  else if (cv > 0.15) note = `decoupling not given: pace too uneven for it (1-min speeds vary ${Math.round(cv * 100)} %)`;
  return { speed, hr, note };
}

export function computeMetrics(
  run: NormalizedRun,
  inSpan: (t: number) => boolean,
  p: ResolvedProfile,
  cfg: EngineConfig,
  sh: Readonly<Shared>,
  notes: string[] = [],
): ReportMetrics {
  const c = run.samples;
  const n = c.length;
  // Running-leg records only.
  const speed = new Float64Array(n).fill(NaN);
  const hr = new Float64Array(n).fill(NaN);
  let movingS = 0, distM = 0;
  for (let i = 0; i < n; i++) {
    if (!inSpan(c.t[i]!)) continue;
    speed[i] = c.speed[i]!;
    hr[i] = c.hr[i]!;
    if (i > 0 && inSpan(c.t[i - 1]!)) {
      const dt = c.t[i]! - c.t[i - 1]!;
      const v = c.speed[i]!;
      if (dt > 0 && dt <= cfg.engine.pauseGapS && v >= cfg.engine.movingSpeedMps) {
        movingS += dt;
        distM += v * dt;
      }
    }
  }
  const steady = steadyRecords(c, inSpan, sh.surges >= 3);
  const dec = steady.note === null ? halvesDecoupling(steady.speed, steady.hr) : { ef1: NaN, ef2: NaN, pct: NaN };
  if (steady.note !== null) notes.push(steady.note);
  const avgSpeed = movingS >= 60 ? distM / movingS : NaN;

  // HR drift: OLS of HR on t after the first 10 min of the same records.
  let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  let t0 = NaN;
  for (let i = 0; i < n; i++) {
    const h = hr[i]!;
    if (!(Number.isFinite(h) && speed[i]! > 0.5)) continue;
    const t = c.t[i]!;
    if (t0 !== t0) t0 = t;
    if (t - t0 < 600) continue;
    sx += t; sy += h; sxx += t * t; sxy += t * h; m++;
  }
  const slope = m > 10 ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : NaN;

  // Cadence change between halves.
  const cadIdx: number[] = [];
  for (let i = 0; i < n; i++) if (inSpan(c.t[i]!) && c.cadence[i]! > 0 && c.speed[i]! > 0.5) cadIdx.push(i);
  let cadChange = NaN;
  if (cadIdx.length >= 4) {
    const mid = Math.floor(cadIdx.length / 2);
    let a = 0, b = 0;
    for (let j = 0; j < cadIdx.length; j++) {
      if (j < mid) a += c.cadence[cadIdx[j]!]!;
      else b += c.cadence[cadIdx[j]!]!;
    }
    a /= mid;
    b /= cadIdx.length - mid;
    cadChange = (100 * (b - a)) / a;
  }

  // Banister TRIMP over HR records; gaps longer than a pause add nothing.
  const [A, B] = p.sex === 'male' ? [0.64, 1.92] : p.sex === 'female' ? [0.86, 1.67] : [0.725215, 1.795];
  let trimp = 0;
  let hrN = 0, hrSum = 0, hrMax = 0;
  for (let i = 0; i + 1 < n; i++) {
    const h = hr[i]!;
    if (!Number.isFinite(h)) continue;
    hrN++; hrSum += h; if (h > hrMax) hrMax = h;
    const dt = c.t[i + 1]! - c.t[i]!;
    if (!(dt > 0) || dt > cfg.engine.pauseGapS) continue;
    let hrr = (h - p.hrRest) / (p.hrMax - p.hrRest);
    hrr = hrr < 0 ? 0 : hrr > 1 ? 1 : hrr;
    trimp += (dt / 60) * hrr * A * Math.exp(B * hrr);
  }

  return {
    decouplingPct: round(dec.pct, 2),
    efFirstHalf: round(dec.ef1, 5),
    efSecondHalf: round(dec.ef2, 5),
    hrDriftBpmPerHour: round(slope * 3600, 1),
    cadenceChangePct: round(cadChange, 2),
    trimp: hrN > 0 ? round(trimp, 1) : null,
    estSweatLossMl: round(sh.sweatMl, 0),
    estSodiumLossMg: round(sh.sodiumLossMg, 0),
    liveMaxDecouplingPct: round(sh.maxDecouplingPct, 2),
    liveFinalDecouplingPct: round(sh.decouplingPct, 2),
    liveCadenceChangePct: round(sh.cadenceChangePct, 2),
    timeAboveThresholdMin: round(sh.aboveThresholdS / 60, 1),
    fluidDeficitMl: round(sh.sweatMl - sh.drankMl, 0),
    avgHr: hrN > 0 ? round(hrSum / hrN, 1) : null,
    maxHr: hrN > 0 ? hrMax : null,
    avgSpeedMps: round(avgSpeed, 3),
    avgPaceSPerKm: round(1000 / avgSpeed, 0),
    advisedDrinkMl: round(sh.advisedTotalMl, 0),
    advisedSodiumMg: round(sh.sodiumAdvisedTotalMg, 0),
    engineMovingTimeS: sh.movingS,
  };
}
