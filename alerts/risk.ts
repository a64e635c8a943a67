/**
 * The cramp-risk gauge: a weighted sum of the detectors' 0–1 factors, 0–100, with its top factors.
 * Weights follow the strength of evidence in science.md §0: fatigue markers and the share of the usual long run
 * weigh most (§1.3–1.4, §2), prior cramps are a standing factor (§6), fluid and sodium weigh little (contested, §1.5),
 * breathing least (an effort marker, not a cause). It is a gauge to rank moments within a run, not a probability.
 * No allocation: the caller passes a reused point and reused factor arrays.
 * @module
 */
import { RISK_FACTORS, type RiskFactor } from './detector.js';
import type { RiskPoint } from './types.js';

export type RiskConfig = Record<RiskFactor, number> & {
  /** Factors shown with a point: at most this many. @default 3 */
  maxFactors: number;
  /** Smallest weighted contribution worth naming, points of 0–1. @default 0.02 */
  minContribution: number;
};

export const RISK_DEFAULTS: RiskConfig = {
  cramp_history: 0.1,
  fast_start: 0.1,
  cardiac_drift: 0.25,
  cadence_fatigue: 0.2,
  duration: 0.2,
  time_above_threshold: 0.1,
  fluid_deficit: 0.1,
  sodium_deficit: 0.05,
  respiration: 0.05,
  effort_spike: 0.05,
  maxFactors: 3,
  minContribution: 0.02,
};

/** Preallocated factor lists, one per length, so filling a point never allocates. */
export function createFactorSlots(max: number): string[][] {
  const slots: string[][] = [];
  for (let n = 0; n <= max; n++) slots.push(new Array<string>(n).fill(''));
  return slots;
}

const weightsMemo = new WeakMap<RiskConfig, Float64Array>();

/** The weights as an array aligned with `RISK_FACTORS`: one per config (read-only), shared by its engines. */
export function riskWeights(c: RiskConfig): Float64Array {
  let weights = weightsMemo.get(c);
  if (!weights) weightsMemo.set(c, (weights = Float64Array.from(RISK_FACTORS, (f) => c[f])));
  return weights;
}

/** The score, 0–100, from the factors (every tick: cheap). */
export function riskScore(factors: Float64Array, weights: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i]! * factors[i]!;
  return Math.round(100 * (sum > 1 ? 1 : sum));
}

/** Writes the top factors into `point` (reused) from preallocated `slots` (only when a point is emitted). */
export function fillTopFactors(factors: Float64Array, weights: Float64Array, c: RiskConfig, point: RiskPoint, slots: string[][]): void {
  const nf = weights.length;
  let n = 0;
  let prevBest = Infinity;
  let prevIdx = -1;
  const max = Math.min(c.maxFactors, slots.length - 1);
  const minC = c.minContribution;
  const picked = slots[max]!;
  // Selection (ties: registry order) rather than sorting: no allocation.
  while (n < max) {
    let best = -1;
    let bestIdx = -1;
    for (let i = 0; i < nf; i++) {
      const v = weights[i]! * factors[i]!;
      const after = v < prevBest || (v === prevBest && i > prevIdx);
      if (after && v >= minC && v > best) {
        best = v;
        bestIdx = i;
      }
    }
    if (bestIdx < 0) break;
    picked[n++] = RISK_FACTORS[bestIdx]!;
    prevBest = best;
    prevIdx = bestIdx;
  }
  const out = slots[n]!;
  for (let i = 0; i < n; i++) out[i] = picked[i]!;
  point.factors = out;
}
