/**
 * What the run API shows about a run beyond its stored row: the list's headline numbers from the report, and the
 * run page's timeline (laps, pauses, events). The one place these are derived; routes only call them.
 * @module
 */
import type { Report } from '../../alerts/types.js';
import type { Lap, RunEvent, RunMeta } from '../../ingest/sample.js';
import type { StoredRunEvent } from '../store/types.js';

export interface ReportHighlights {
  /** Prompts the engine gave; null without a report (a live run still going). */
  prompts: number | null;
  /** Highest cramp-risk score (0–100); null without a report or risk points. */
  peakRisk: number | null;
}

export function reportHighlights(report: Report | null): ReportHighlights {
  if (!report) return { prompts: null, peakRisk: null };
  let peak: number | null = null;
  for (const p of report.risk ?? []) if (Number.isFinite(p.score) && (peak === null || p.score > peak)) peak = p.score;
  return { prompts: Array.isArray(report.alerts) ? report.alerts.length : null, peakRisk: peak };
}

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
