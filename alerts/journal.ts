/**
 * The cramp journal's effect on the engine. Prior cramps are the most consistent predictor found (science.md
 * §1.3, §6: OR 2.40 in Kona; 100 % vs 48 % in a 56 km race). From `minCramps` recorded contexts on, the
 * thresholds move toward the conditions of this athlete's own cramps: a threshold becomes `margin` × the median
 * value at their cramps when that is lower than the default (never higher: history only makes the engine more
 * careful), bounded below by a floor so it cannot nag. Computed once per engine.
 * @module
 */
import type { CrampContext } from './types.js';

export interface JournalConfig {
  /** Recorded cramps needed before thresholds become personal. @default 2 */
  minCramps: number;
  /** A personal threshold sits at this share of the median value at the athlete's cramps. @default 0.8 */
  margin: number;
  /** Lowest personal decoupling threshold, %. @default 3 */
  floorDriftPct: number;
  /** Lowest personal cadence-drop threshold, %. @default 2.5 */
  floorCadenceDropPct: number;
  /** Lowest personal "late in the run" share of the usual long run. @default 0.4 */
  floorLateShare: number;
  /** Lowest personal sodium threshold, mg. @default 300 */
  floorSodiumMg: number;
}

export const JOURNAL_DEFAULTS: JournalConfig = {
  minCramps: 2,
  margin: 0.8,
  floorDriftPct: 3,
  floorCadenceDropPct: 2.5,
  floorLateShare: 0.4,
  floorSodiumMg: 300,
};

/** Personal thresholds; NaN = use the default. */
export interface PersonalThresholds {
  driftPct: number;
  cadenceDropPct: number;
  lateShare: number;
  sodiumMg: number;
  /** How many recorded cramps they rest on (0 = none). */
  basedOn: number;
  /** The report's sentence, e.g. "your last 3 cramps came after 2 h 10 with decoupling over 6%". */
  sentence: string | null;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function field(cs: CrampContext[], pick: (c: CrampContext) => number | undefined): number[] {
  const out: number[] = [];
  for (const c of cs) {
    const v = pick(c);
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

export function formatDuration(s: number): string {
  const m = Math.round(s / 60);
  const h = Math.floor(m / 60);
  return h > 0 ? `${h} h ${String(m % 60).padStart(2, '0')}` : `${m} min`;
}

export function personalThresholds(contexts: CrampContext[], c: JournalConfig): PersonalThresholds {
  const none: PersonalThresholds = { driftPct: NaN, cadenceDropPct: NaN, lateShare: NaN, sodiumMg: NaN, basedOn: 0, sentence: null };
  if (contexts.length < c.minCramps) return none;
  const times = field(contexts, (x) => x.t);
  const drifts = field(contexts, (x) => x.decouplingPct);
  const drops = field(contexts, (x) => (x.cadenceChangePct === undefined ? undefined : -x.cadenceChangePct));
  const shares = field(contexts, (x) => x.shareOfUsualLongRun);
  const sodium = field(contexts, (x) => x.sodiumDeficitMg);
  const mDrift = median(drifts);
  const mDrop = median(drops);
  const mShare = median(shares);
  const mSodium = median(sodium);
  const signs: string[] = [];
  const minT = times.length ? Math.min(...times) : NaN;
  if (drifts.length >= c.minCramps && Math.min(...drifts) > 0) signs.push(`decoupling over ${Math.floor(Math.min(...drifts))}%`);
  if (drops.length >= c.minCramps && Math.min(...drops) > 0) signs.push(`cadence down over ${Math.floor(Math.min(...drops))}%`);
  const parts: string[] = [];
  if (Number.isFinite(minT)) parts.push(`after ${formatDuration(minT)}`);
  if (signs.length) parts.push(`with ${signs.join(' and ')}`);
  return {
    driftPct: mDrift > 0 ? Math.max(c.floorDriftPct, c.margin * mDrift) : NaN,
    cadenceDropPct: mDrop > 0 ? Math.max(c.floorCadenceDropPct, c.margin * mDrop) : NaN,
    lateShare: mShare > 0 ? Math.max(c.floorLateShare, c.margin * mShare) : NaN,
    sodiumMg: mSodium > 0 ? Math.max(c.floorSodiumMg, c.margin * mSodium) : NaN,
    basedOn: contexts.length,
    sentence: `your last ${contexts.length} cramps came ${parts.length ? parts.join(' ') : 'in runs we have on record'}`,
  };
}

/** A threshold after personalisation: the lower of the default and the personal one. */
export function personal(defaultValue: number, personalValue: number): number {
  return personalValue === personalValue && personalValue < defaultValue ? personalValue : defaultValue;
}

/** The thresholds the detectors use, after personalisation (computed once per engine). */
export interface Limits {
  driftPct: number;
  cadenceDropPct: number;
  lateShare: number;
  sodiumMg: number;
}

export function resolveLimits(
  defaults: { driftPct: number; cadenceDropPct: number; lateShare: number; sodiumMg: number },
  p: PersonalThresholds,
): Limits {
  return {
    driftPct: personal(defaults.driftPct, p.driftPct),
    cadenceDropPct: personal(defaults.cadenceDropPct, p.cadenceDropPct),
    lateShare: personal(defaults.lateShare, p.lateShare),
    sodiumMg: personal(defaults.sodiumMg, p.sodiumMg),
  };
}
