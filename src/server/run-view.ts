/**
 * What the run API shows about a run beyond its stored row: the run page's timeline (laps, pauses, events). (The
 * list's headline numbers from the report are kept by the store: src/store/highlights.ts.)
 * @module
 */
import type { Lap, RunEvent, RunMeta } from '../../ingest/sample.js';
import type { StoredRunEvent } from '../store/types.js';

export interface RunTimeline {
  laps: Lap[];
  pauses: { startT: number; endT: number }[];
  events: RunEvent[];
}

/** Laps and pauses from the run's meta (FIT file, or built from the watch's events when a live run ended). */
export function runTimeline(meta: RunMeta | null, events: readonly StoredRunEvent[] | null): RunTimeline {
  return {
    laps: (meta?.laps ?? []).map((l) => ({ startT: l.startT, endT: l.endT, distanceM: l.distanceM ?? null })),
    pauses: (meta?.pauses ?? []).map((p) => ({ startT: p.startT, endT: p.endT })),
    events: (events ?? []).map((e) => e.event),
  };
}
