/**
 * A run's headline numbers from its report: how many prompts the engine gave, the peak cramp risk, the sport
 * and the average pace. The one definition of how they are computed: the store applies it whenever it stores a
 * report (and, once, to rows stored before it kept them), the run list serves the stored values, and the run
 * page's summary (src/server/run-summary.ts) takes its pace from {@link reportPaceSPerKm}.
 * @module
 */
import type { Report } from '../../alerts/types.js';

export interface ReportHighlights {
  /** Prompts the engine gave; null without a report (a live run still going). */
  prompts: number | null;
  /** Highest cramp-risk score (0–100); null without a report or risk points. */
  peakRisk: number | null;
  /** The file's sport (`running`, …); null without a report or when the file does not say. */
  sport: string | null;
  /** Average pace over the moving time, s/km; null without a distance. */
  paceSPerKm: number | null;
}

/**
 * Average pace, s/km: the engine's `metrics.avgPaceSPerKm` when the report has it, else moving time over
 * distance. Null without a distance (a treadmill run without a footpod, a live run still going).
 */
export function reportPaceSPerKm(report: Report | null): number | null {
  if (!report) return null;
  const fromEngine = (report.metrics as Record<string, number | null | undefined> | undefined)?.avgPaceSPerKm;
  if (typeof fromEngine === 'number' && Number.isFinite(fromEngine) && fromEngine > 0) return fromEngine;
  const km = (report.distanceM ?? NaN) / 1000;
  const moving = Number.isFinite(report.movingTimeS) && report.movingTimeS > 0 ? report.movingTimeS : report.durationS;
  return km > 0.05 && moving > 0 ? moving / km : null;
}

export function reportHighlights(report: Report | null): ReportHighlights {
  if (!report) return { prompts: null, peakRisk: null, sport: null, paceSPerKm: null };
  let peak: number | null = null;
  for (const p of report.risk ?? []) if (Number.isFinite(p.score) && (peak === null || p.score > peak)) peak = p.score;
  return {
    prompts: Array.isArray(report.alerts) ? report.alerts.length : null,
    peakRisk: peak,
    sport: typeof report.sport === 'string' ? report.sport.slice(0, 60) : null,
    paceSPerKm: reportPaceSPerKm(report),
  };
}
