/**
 * The profile the engine gets: what the runner typed wins, a value learned from their runs comes next (with a
 * note in `learned` saying what it rests on), and the engine's own defaults last (alerts/profile.ts states
 * those). The runner's journaled cramps become `crampHistory`, so personal thresholds follow from two cramps on.
 * @module
 */
import type { CrampContext, LearnableField, Profile } from '../../alerts/types.js';
import type { AthleteModel, Learned } from './model.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "12 Oct" (UTC), the year added when it is not the year of `to`. */
function shortDate(iso: string, to: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  const year = iso.slice(0, 4) === to.slice(0, 4) ? '' : ` ${iso.slice(0, 4)}`;
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${year}`;
}

/** The note for a learned value, e.g. "learned from 14 runs since 12 Oct". */
export function learnedNote(l: Learned): string {
  return `learned from ${l.runs} run${l.runs === 1 ? '' : 's'} since ${shortDate(l.from, l.to)}`;
}

/** Profile fields the model fills, and where in the model each comes from. */
const FROM_MODEL: ReadonlyArray<[LearnableField, (m: AthleteModel) => Learned | null]> = [
  ['hrMax', (m) => m.hrMax],
  ['lthr', (m) => m.lthr],
  ['usualLongRunMin', (m) => m.usualLongRunMin],
  ['easyPaceMps', (m) => m.easyPaceMps],
  ['thresholdPaceMps', (m) => m.thresholdPaceMps],
  ['criticalSpeedMps', (m) => m.criticalSpeedMps],
];

function typed(p: Profile, field: LearnableField): boolean {
  const v = p[field];
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * `typed` with every field it leaves empty filled from the model, and `crampHistory` from the journal's cramp
 * contexts (oldest first) when there are any. Pure; `typed` is not changed.
 */
export function mergeProfile(typedProfile: Profile, model: AthleteModel | null, cramps: readonly CrampContext[] = []): Profile {
  const out: Profile = { ...typedProfile };
  const notes: Partial<Record<LearnableField, string>> = {};
  if (model) {
    for (const [field, pick] of FROM_MODEL) {
      const l = pick(model);
      if (!l || typed(typedProfile, field)) continue;
      out[field] = l.value;
      notes[field] = learnedNote(l);
    }
    // A learned LTHR above a typed HRmax would be refused by the engine: keep the profile coherent.
    if (notes.lthr && typeof out.hrMax === 'number' && out.lthr! > out.hrMax) {
      delete out.lthr;
      delete notes.lthr;
    }
  }
  if (Object.keys(notes).length > 0) out.learned = notes;
  else delete out.learned;
  if (cramps.length > 0) out.crampHistory = [...cramps];
  return out;
}

/** Where a profile value the engine gets comes from. */
export type ValueSource = { source: 'typed' } | { source: 'learned'; note: string } | { source: 'assumed' };

const SOURCED: readonly (keyof Profile)[] = [
  'massKg', 'hrMax', 'hrRest', 'lthr', 'age', 'usualLongRunMin', 'easyPaceMps', 'thresholdPaceMps', 'criticalSpeedMps', 'sweatRateMlPerH', 'sweatSodiumMmolPerL',
];

/** Where each profile value the engine gets comes from: typed by the runner, learned from their runs, or assumed. */
export function profileSources(typedProfile: Profile, merged: Profile): Record<string, ValueSource> {
  const out: Record<string, ValueSource> = {};
  for (const field of SOURCED) {
    const note = merged.learned?.[field as LearnableField];
    if (typeof typedProfile[field] === 'number') out[field] = { source: 'typed' };
    else if (note) out[field] = { source: 'learned', note };
    else out[field] = { source: 'assumed' };
  }
  return out;
}

/** The model a report was analysed with, recorded in the report as `athleteModel`. */
export interface ModelStamp {
  version: number;
  key: string;
  runs: number;
}

export function modelStamp(model: AthleteModel): ModelStamp {
  return { version: model.version, key: model.key, runs: model.runs };
}
