/**
 * The athlete as the engine sees them: every `Profile` field resolved to a number, with a note for each default
 * or estimate so the report can state what it assumed. Runs once per engine, never per sample.
 * Sources: science.md §2.5 (Tanaka 208 − 0.7·age; 220 − age has no data basis), §2.6 (HRmax 200 / HRrest 60
 * fallbacks as in Runalyze), §3.3 (sweat sodium ~40 mmol/L), §1.3 and §6 (cramp history).
 * @module
 */
import type { CrampContext, Profile } from './types.js';

export interface ResolvedProfile {
  massKg: number;
  hrMax: number;
  /** HRmax came from the athlete (not age or a default: those miss by 7–11 bpm, science.md §2.5). */
  hrMaxKnown: boolean;
  hrRest: number;
  lthr: number;
  /** Threshold HR came from the athlete (typed or learned), not from a share of an assumed reserve. */
  lthrKnown: boolean;
  sex: 'male' | 'female' | null;
  age: number | null;
  usualLongRunS: number;
  /** The usual long run came from the athlete, not a default (duration-only prompts need it). */
  usualLongRunKnown: boolean;
  /** Easy pace as speed, m/s; NaN when unknown (the pace part of the fast-start check is then off). */
  easyPaceMps: number;
  /** Threshold pace as speed, m/s; NaN when unknown. */
  thresholdPaceMps: number;
  /** Critical speed, m/s; NaN when unknown. */
  criticalSpeedMps: number;
  /** Something about this athlete's capability is known (typed or learned): HRmax, threshold, easy pace… */
  anyKnown: boolean;
  /** Measured sweat rate, mL/h; NaN when unknown (the Gonzalez model is used instead). */
  sweatRateMlPerH: number;
  sweatSodiumMmolPerL: number;
  priorCramps: number;
  crampContexts: CrampContext[];
  /** One line per default or estimate, for the report. */
  notes: string[];
}

export interface ProfileDefaults {
  /** Body mass when unknown, kg. @default 70 */
  massKg: number;
  /** HRmax when neither it nor age is known, bpm. @default 190 */
  hrMax: number;
  /** Resting HR when unknown, bpm. @default 60 */
  hrRest: number;
  /** LTHR estimate as a share of HR reserve above rest. @default 0.85 */
  lthrHrrShare: number;
  /** Usual long run when unknown, min. @default 90 */
  usualLongRunMin: number;
  /** Whole-body sweat sodium when unmeasured, mmol/L. @default 40 */
  sweatSodiumMmolPerL: number;
}

export const PROFILE_DEFAULTS: ProfileDefaults = {
  massKg: 70,
  hrMax: 190,
  hrRest: 60,
  lthrHrrShare: 0.85,
  usualLongRunMin: 90,
  sweatSodiumMmolPerL: 40,
};

function positive(x: unknown, lo: number, hi: number): number | null {
  return typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi ? x : null;
}

export function resolveProfile(p: Profile | undefined, d: ProfileDefaults): ResolvedProfile {
  const notes: string[] = [];
  const profile = p ?? {};
  const learned = profile.learned ?? {};
  // A learned value is stated with where it came from, so the report never passes it off as typed.
  const say = (field: keyof typeof learned, what: string): void => {
    const from = learned[field];
    if (typeof from === 'string' && from) notes.push(`${what} ${from}`);
  };
  const mass = positive(profile.massKg, 25, 250);
  const massKg = mass ?? d.massKg;
  if (mass === null) notes.push(`body mass assumed ${d.massKg} kg`);
  const age = positive(profile.age, 5, 110);
  let hrMax = positive(profile.hrMax, 100, 240);
  const hrMaxKnown = hrMax !== null;
  if (hrMax !== null) say('hrMax', `HRmax ${hrMax} bpm`);
  if (hrMax === null) {
    if (age !== null) {
      hrMax = Math.round(208 - 0.7 * age);
      notes.push(`HRmax estimated ${hrMax} bpm from age (Tanaka 208 − 0.7 × age)`);
    } else {
      hrMax = d.hrMax;
      notes.push(`HRmax assumed ${d.hrMax} bpm`);
    }
  }
  let hrRest = positive(profile.hrRest, 25, 120);
  if (hrRest === null || hrRest >= hrMax - 20) {
    hrRest = d.hrRest;
    notes.push(`resting HR assumed ${d.hrRest} bpm`);
  } else say('hrRest', `resting HR ${hrRest} bpm`);
  let lthr = positive(profile.lthr, hrRest + 10, hrMax);
  const lthrKnown = lthr !== null;
  if (lthr !== null) say('lthr', `threshold HR ${lthr} bpm`);
  if (lthr === null) {
    lthr = Math.round(hrRest + d.lthrHrrShare * (hrMax - hrRest));
    notes.push(`threshold HR estimated ${lthr} bpm (${Math.round(d.lthrHrrShare * 100)} % of HR reserve)`);
  }
  const longMin = positive(profile.usualLongRunMin, 10, 2000);
  if (longMin === null) notes.push(`usual long run assumed ${d.usualLongRunMin} min`);
  else say('usualLongRunMin', `usual long run ${Math.round(longMin)} min`);
  const easy = positive(profile.easyPaceMps, 0.5, 8);
  if (easy !== null) say('easyPaceMps', `easy pace ${paceText(easy)}`);
  const threshold = positive(profile.thresholdPaceMps, 1, 8);
  if (threshold !== null) say('thresholdPaceMps', `threshold pace ${paceText(threshold)}`);
  const cs = positive(profile.criticalSpeedMps, 1, 8);
  if (cs !== null) say('criticalSpeedMps', `critical speed ${paceText(cs)}`);
  const sodium = positive(profile.sweatSodiumMmolPerL, 5, 150);
  if (sodium === null) notes.push(`sweat sodium assumed ${d.sweatSodiumMmolPerL} mmol/L`);
  const sweat = positive(profile.sweatRateMlPerH, 50, 5000);
  if (sweat !== null) say('sweatRateMlPerH', `sweat rate ${Math.round(sweat)} ml/h`);
  const contexts = Array.isArray(profile.crampHistory)
    ? profile.crampHistory.filter((c): c is CrampContext => typeof c === 'object' && c !== null && Number.isFinite(c.t))
    : [];
  const count = typeof profile.crampHistory === 'number' && profile.crampHistory >= 0 ? Math.floor(profile.crampHistory) : contexts.length;
  return {
    massKg,
    hrMax,
    hrMaxKnown,
    hrRest,
    lthr,
    lthrKnown,
    sex: profile.sex === 'male' || profile.sex === 'female' ? profile.sex : null,
    age,
    usualLongRunS: (longMin ?? d.usualLongRunMin) * 60,
    usualLongRunKnown: longMin !== null,
    easyPaceMps: easy ?? NaN,
    thresholdPaceMps: threshold ?? NaN,
    criticalSpeedMps: cs ?? NaN,
    anyKnown: hrMaxKnown || lthrKnown || easy !== null || threshold !== null || cs !== null,
    sweatRateMlPerH: sweat ?? NaN,
    sweatSodiumMmolPerL: sodium ?? d.sweatSodiumMmolPerL,
    priorCramps: count,
    // Only the most recent contexts matter and they travel in every snapshot: keep at most 10.
    crampContexts: contexts.slice(-10),
    notes,
  };
}

function paceText(speedMps: number): string {
  const s = Math.round(1000 / speedMps);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}/km`;
}
