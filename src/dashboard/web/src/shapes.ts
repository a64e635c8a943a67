/**
 * Pure reshaping of what the API returns into what the pages draw (no DOM, no fetch), so it runs and is tested
 * in Node too.
 */
import type { Report } from '../../../../alerts/types.js';
import type { WireSample } from '../../../wire/events.js';

export interface RunSummary {
  id: string;
  startTime: string | null;
  distanceM: number | null;
  durationS: number | null;
  /** Prompts in the run's report (the list endpoint's `prompts`); null while it has none. */
  alertCount: number | null;
  peakRisk: number | null;
  status: 'live' | 'ended';
  source: 'upload' | 'live' | null;
  /** The file's sport (running, trail_running, …); null when unknown. */
  sport: string | null;
  /** Average pace, s/km; null without a distance or a report. */
  paceSPerKm: number | null;
}

/** A run's samples as columns (the chart input). Missing values are null. */
export interface SampleSeries {
  t: number[];
  hr: (number | null)[];
  cadence: (number | null)[];
  speed: (number | null)[];
  [channel: string]: (number | null)[];
}

export function peakRisk(risk: readonly { score: number }[]): number | null {
  let peak: number | null = null;
  for (const p of risk) if (peak === null || p.score > peak) peak = p.score;
  return peak;
}

function toNumberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The list endpoint's items, whatever extra fields they carry, reduced to what the runs table shows. */
export function toRunSummary(raw: Record<string, unknown>): RunSummary {
  const report = (raw.report ?? null) as Partial<Report> | null;
  const alerts = Array.isArray(report?.alerts) ? report.alerts : null;
  const risk = Array.isArray(report?.risk) ? report.risk : null;
  let peak = toNumberOrNull(raw.peakRisk);
  if (peak === null && risk && risk.length > 0) peak = peakRisk(risk);
  return {
    id: String(raw.id),
    startTime: (raw.startTime as string | null | undefined) ?? report?.startTime ?? null,
    distanceM: toNumberOrNull(raw.distanceM) ?? toNumberOrNull(report?.distanceM),
    durationS: toNumberOrNull(raw.durationS) ?? toNumberOrNull(report?.durationS),
    alertCount: toNumberOrNull(raw.prompts) ?? toNumberOrNull(raw.alertCount) ?? alerts?.length ?? null,
    peakRisk: peak,
    status: raw.status === 'live' ? 'live' : 'ended',
    source: raw.source === 'upload' || raw.source === 'live' ? raw.source : null,
    sport: typeof raw.sport === 'string' ? raw.sport : (report?.sport ?? null),
    paceSPerKm: toNumberOrNull(raw.paceSPerKm),
  };
}

/** Samples arrive as columns or rows; either way the charts get columns with null for missing. */
export function toSampleSeries(raw: unknown): SampleSeries {
  const body = raw as Record<string, unknown>;
  const cols = (body.columns ?? body.samples ?? body) as Record<string, unknown> | unknown[];
  const out: SampleSeries = { t: [], hr: [], cadence: [], speed: [] };
  const clean = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if (Array.isArray(cols)) {
    for (const row of cols as Record<string, unknown>[]) {
      const t = clean(row.t);
      if (t === null) continue;
      out.t.push(t);
      for (const key of Object.keys(row)) {
        if (key === 't') continue;
        (out[key] ??= new Array<number | null>(out.t.length - 1).fill(null)).push(clean(row[key]));
      }
      for (const key of Object.keys(out)) if (key !== 't' && out[key]!.length < out.t.length) out[key]!.push(null);
    }
    return out;
  }
  const t = cols.t;
  if (!Array.isArray(t)) return out;
  out.t = t.map((v) => (typeof v === 'number' ? v : Number(v)));
  for (const [key, values] of Object.entries(cols)) {
    if (key === 't' || !Array.isArray(values)) continue;
    out[key] = values.map(clean);
  }
  return out;
}

const WIRE_FIELDS = ['hr', 'cadence', 'speed', 'distance', 'altitude', 'temperature', 'respiration', 'power'] as const;

export type TimedWireSample = WireSample & { t: number };

/** Stored samples as a watch would send them: one object per record, missing channels left out. */
export function wireRows(samples: SampleSeries): TimedWireSample[] {
  const rows: TimedWireSample[] = new Array(samples.t.length);
  for (let i = 0; i < samples.t.length; i++) {
    const row: TimedWireSample = { t: samples.t[i]! };
    const timestamp = samples.timestamp?.[i];
    if (typeof timestamp === 'number') row.timestamp = timestamp;
    for (const f of WIRE_FIELDS) {
      const v = samples[f]?.[i];
      if (v !== undefined && v !== null) row[f] = v;
    }
    rows[i] = row;
  }
  return rows;
}
