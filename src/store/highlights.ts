/**
 * A run's headline numbers from its report: how many prompts the engine gave and the peak cramp risk. The one
 * definition of how they are computed: the store applies it whenever it stores a report (and, once, to rows
 * stored before it kept them), the run list serves the stored values.
 * @module
 */
import type { Report } from '../../alerts/types.js';

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
