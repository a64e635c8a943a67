/**
 * Pure reshaping of what the API returns into what the pages draw (no DOM, no fetch), so it runs and is tested
 * in Node too.
 */
import type { Report } from '../../../../alerts/types.js';
import { allocColumns, CHANNELS, SAMPLE_FIELDS, type Lap, type Leg, type NormalizedRun, type RunEvent, type RunMeta } from '../../../../ingest/sample.js';

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

/** What the run API says about a stored run that a replay of it needs (GET /api/runs/:id). */
export interface ReplaySource {
  startTime?: string | null;
  report: Pick<Report, 'sport' | 'startTime' | 'durationS' | 'movingTimeS' | 'distanceM'> | null;
  laps?: Lap[];
  pauses?: { startT: number; endT: number }[];
  events?: RunEvent[];
  legs?: Leg[];
}

/**
 * A stored run as the {@link NormalizedRun} the one feed (ingest/feed.ts) plays: every stored sample (raw rows,
 * not a chart's downsampled ones), its events, and the legs that decide what the report analysed.
 */
export function replayableRun(run: ReplaySource, samples: SampleSeries): NormalizedRun {
  const n = samples.t.length;
  const cols = allocColumns(n);
  for (const field of SAMPLE_FIELDS) {
    const values = samples[field];
    if (!values) continue;
    const col = cols[field];
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'number') col[i] = v;
    }
  }
  const report = run.report;
  const meta: RunMeta = {
    sport: report?.sport ?? null,
    subSport: null,
    manufacturer: null,
    product: null,
    startTime: report?.startTime ?? run.startTime ?? null,
    elapsedS: report?.durationS ?? 0,
    timerS: report?.movingTimeS ?? 0,
    distanceM: report?.distanceM ?? null,
    laps: run.laps ?? [],
    pauses: run.pauses ?? [],
    legs: run.legs ?? [],
  };
  const channels = CHANNELS.filter((c) => cols[c].some((v) => !Number.isNaN(v)));
  return { meta, samples: cols, rr: null, events: run.events ?? [], channels, warnings: [] };
}

/** Consecutive pages of one run's samples as one series (a channel missing from a page is null there). */
export function concatSeries(pages: readonly SampleSeries[]): SampleSeries {
  if (pages.length === 1) return pages[0]!;
  const out: SampleSeries = { t: [], hr: [], cadence: [], speed: [] };
  for (const page of pages) {
    const before = out.t.length;
    for (const key of Object.keys(page)) if (!(key in out)) out[key] = new Array<number | null>(before).fill(null);
    for (const key of Object.keys(out)) {
      const values = page[key];
      for (let i = 0; i < page.t.length; i++) out[key]!.push(values?.[i] ?? null);
    }
  }
  return out;
}
