/**
 * What the run API shows about a run beyond its stored row: the run page's timeline (laps, pauses, events, legs)
 * and the settings its report was analysed with, which a replay (the dashboard simulator) sends again. (The
 * list's headline numbers from the report are kept by the store: src/store/highlights.ts.)
 * @module
 */
import type { Conditions, EngineOptions, SessionKind } from '../../alerts/types.js';
import type { Lap, Leg, RunEvent, RunMeta } from '../../ingest/sample.js';
import type { StoredRunEvent } from '../store/types.js';

export interface RunTimeline {
  laps: Lap[];
  pauses: { startT: number; endT: number }[];
  events: RunEvent[];
  legs: Leg[];
}

/** Laps, pauses and legs from the run's meta (FIT file, or built from the watch's events when a live run ended). */
export function runTimeline(meta: RunMeta | null, events: readonly StoredRunEvent[] | null): RunTimeline {
  return {
    laps: (meta?.laps ?? []).map((l) => ({ startT: l.startT, endT: l.endT, distanceM: l.distanceM ?? null })),
    pauses: (meta?.pauses ?? []).map((p) => ({ startT: p.startT, endT: p.endT })),
    events: (events ?? []).map((e) => e.event),
    legs: (meta?.legs ?? []).map((l) => ({ sport: l.sport, subSport: l.subSport, startT: l.startT, endT: l.endT, running: l.running })),
  };
}

export interface RunSettings {
  conditions: Conditions | null;
  sessionKind: SessionKind | null;
}

/** The conditions and session kind the run was analysed with (stored with it), null where none was given. */
export function runSettings(options: EngineOptions | null): RunSettings {
  const c = options?.conditions;
  const conditions: Conditions = {
    ...(Number.isFinite(c?.tempC) ? { tempC: c!.tempC! } : {}),
    ...(Number.isFinite(c?.humidity) ? { humidity: c!.humidity! } : {}),
  };
  return { conditions: Object.keys(conditions).length > 0 ? conditions : null, sessionKind: options?.sessionKind ?? null };
}
