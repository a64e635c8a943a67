/**
 * What a run looks like, shared by the run page, the live view and the simulator: the chart panels, prompt
 * markers, the prompt list. Everything here is drawing; the numbers come from the server's engine.
 */
import type { Alert, Report, RiskPoint } from '../../../../alerts/types.js';
import type { SampleSeries } from './api.js';
import { ChartStack, PALETTE, TIME_AXIS, distanceAxis, type Band, type PanelSpec, type TimeMarker } from './charts.js';
import { h } from './dom.js';
import { formatDuration, formatNumber, kindGlyph, kindLabel, paceFromSpeed } from './format.js';
import { getUnits, unitMetres, type Units } from './units.js';

/** Pace ticks a runner reads: every 5, 10, 15 or 30 s, then whole minutes. */
export const PACE_TICKS_S = [5, 10, 15, 30, 60, 120, 300, 600];
/** Heart-rate ticks: whole beats in steps of 1, 2, 5, 10, 20, 50. */
const HR_TICKS = [1, 2, 5, 10, 20, 25, 50, 100];

/** The chart panels, pace in the reader's unit (s per km or per mile). */
export function runPanels(units: Units = getUnits()): PanelSpec[] {
  return [
    { id: 'hr', title: 'Heart rate', unit: 'bpm', color: PALETTE.hr, format: (v) => formatNumber(v), robust: true, incrs: HR_TICKS, minSpan: 24, floor: 0 },
    { id: 'pace', title: 'Pace', unit: `/${units.distance}`, color: PALETTE.pace, format: (v) => formatDuration(v), invert: true, robust: true, incrs: PACE_TICKS_S, minSpan: 60, floor: 60 },
    { id: 'cadence', title: 'Cadence', unit: 'spm', color: PALETTE.cadence, format: (v) => formatNumber(v), robust: true, incrs: HR_TICKS, minSpan: 12, floor: 0 },
    { id: 'risk', title: 'Cramp risk', unit: '/100', color: PALETTE.risk, format: (v) => formatNumber(v), range: [0, 100], fill: true },
    { id: 'fluid', title: 'Est. fluid deficit', unit: 'ml', color: PALETTE.fluid, format: (v) => formatNumber(v), fill: true },
  ];
}

export function alertMarker(alert: Pick<Alert, 't' | 'kind' | 'message' | 'why' | 'severity'>): TimeMarker {
  return { t: alert.t, when: formatDuration(alert.t), glyph: kindGlyph(alert.kind), label: alert.message || kindLabel(alert.kind), detail: alert.why, tone: alert.severity };
}

/** A fluid-deficit series, if the report carries one (the engine owns the estimate; we never compute it). */
export function fluidSeries(report: Partial<Report>): { t: number[]; values: (number | null)[] } | null {
  const raw = (report.fluid ?? report.fluidDeficit ?? null) as unknown;
  if (Array.isArray(raw) && raw.length > 0) {
    const t: number[] = [];
    const values: (number | null)[] = [];
    for (const p of raw as Record<string, unknown>[]) {
      const v = p.deficitMl ?? p.ml ?? p.value;
      if (typeof p.t !== 'number') continue;
      t.push(p.t);
      values.push(typeof v === 'number' ? v : null);
    }
    return { t, values };
  }
  const risk = (report.risk ?? []) as (RiskPoint & { fluidDeficitMl?: number })[];
  if (risk.some((p) => typeof p.fluidDeficitMl === 'number')) {
    return { t: risk.map((p) => p.t), values: risk.map((p) => (typeof p.fluidDeficitMl === 'number' ? p.fluidDeficitMl : null)) };
  }
  return null;
}

/** Laps and pauses as the run API gives them next to the report (GET /api/runs/:id). */
export interface RunTimeline {
  laps?: readonly { startT: number; endT: number }[];
  pauses?: readonly { startT: number; endT: number }[];
}

export function lapsAndPauses(report: Partial<Report>, timeline: RunTimeline = {}): { laps: number[]; pauses: Band[] } {
  const meta = (report.meta ?? {}) as Record<string, unknown>;
  const lapsRaw = (timeline.laps ?? report.laps ?? meta.laps ?? []) as { startT?: number; endT?: number }[];
  const pausesRaw = (timeline.pauses ?? report.pauses ?? meta.pauses ?? []) as { startT?: number; endT?: number }[];
  // A lap line at each lap's end, except the last (that is the end of the run).
  const laps = lapsRaw.slice(0, -1).map((l) => l.endT).filter((t): t is number => typeof t === 'number');
  const pauses = pausesRaw
    .filter((p) => typeof p.startT === 'number' && typeof p.endT === 'number')
    .map((p) => ({ from: p.startT!, to: p.endT! }));
  return { laps, pauses };
}

/** ["fast_start", "fluid_deficit"] → "fast start, fluid deficit". */
export function factorWords(factors: readonly string[]): string {
  return factors.slice(0, 2).join(', ').replaceAll('_', ' ').replaceAll('-', ' ');
}

/** Pace (s per km, or per mile with `units`) from speed (m/s); null where missing or too slow to be running. */
export function paceColumn(speed: ArrayLike<number | null>, units: Units = getUnits()): (number | null)[] {
  const perUnit = unitMetres(units) / 1000;
  const out = new Array<number | null>(speed.length);
  for (let i = 0; i < speed.length; i++) {
    const s = speed[i];
    const pace = s === null || s === undefined ? null : paceFromSpeed(s);
    out[i] = pace === null ? null : pace * perUnit;
  }
  return out;
}

/**
 * Run time → distance covered (in the reader's unit), by linear interpolation over the samples' distance column;
 * null when the run has no distance.
 */
export function distanceAt(samples: SampleSeries, units: Units = getUnits()): ((t: number) => number) | null {
  const d = samples.distance;
  if (!d) return null;
  const ts: number[] = [];
  const ds: number[] = [];
  for (let i = 0; i < samples.t.length; i++) {
    const v = d[i];
    if (typeof v === 'number' && (ds.length === 0 || v >= ds[ds.length - 1]!)) {
      ts.push(samples.t[i]!);
      ds.push(v / unitMetres(units));
    }
  }
  if (ts.length < 2) return null;
  return (t) => {
    if (t <= ts[0]!) return ds[0]!;
    if (t >= ts[ts.length - 1]!) return ds[ds.length - 1]!;
    let lo = 0;
    let hi = ts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! <= t) lo = mid;
      else hi = mid;
    }
    const f = (t - ts[lo]!) / (ts[hi]! - ts[lo]! || 1);
    return ds[lo]! + f * (ds[hi]! - ds[lo]!);
  };
}

/** Fills the panels on the time axis, or on distance when `x` is 'distance' and the run has one. */
export function fillCharts(stack: ChartStack, samples: SampleSeries, report: Partial<Report>, timeline: RunTimeline = {}, x: 'time' | 'distance' = 'time', units: Units = getUnits()): void {
  const risk = report.risk ?? [];
  const toDistance = x === 'distance' ? distanceAt(samples, units) : null;
  const at = toDistance ?? ((t: number) => t);
  const xs = (t: ArrayLike<number>) => (toDistance ? Array.from(t, toDistance) : t);
  stack.setXAxis(toDistance ? distanceAxis(units.distance) : TIME_AXIS);
  const fluid = fluidSeries(report);
  stack.setPanels([
    ['hr', { t: xs(samples.t), values: samples.hr }],
    ['pace', { t: xs(samples.t), values: paceColumn(samples.speed, units) }],
    ['cadence', { t: xs(samples.t), values: samples.cadence }],
    ['risk', { t: xs(risk.map((p) => p.t)), values: risk.map((p) => p.score), notes: risk.map((p) => factorWords(p.factors)) }],
    ['fluid', fluid ? { t: xs(fluid.t), values: fluid.values } : { t: [], values: [] }],
  ]);
  const { laps, pauses } = lapsAndPauses(report, timeline);
  stack.setMarkers(
    (report.alerts ?? []).map((a) => ({ ...alertMarker(a), t: at(a.t) })),
    laps.map(at),
    // A pause covers no distance: on the distance axis it is not a band.
    toDistance ? [] : pauses,
  );
}

/** The prompts as a list: what the watch showed, when, and why. Selecting one centres the charts on it. */
export function promptList(alerts: Alert[], onSelect?: (alert: Alert) => void, emptyText = 'No prompts: nothing in this run called for one.'): HTMLElement {
  if (alerts.length === 0) return h('p', { class: 'empty-inline', 'data-testid': 'prompts-empty' }, emptyText);
  return h('ol', { class: 'prompts', 'data-testid': 'prompts' }, ...alerts.map((a) => promptItem(a, onSelect)));
}

/** `note` goes under the time, e.g. when the live view received the prompt. */
export function promptItem(alert: Alert, onSelect?: (alert: Alert) => void, note?: string): HTMLElement {
  const body = h(
    'div',
    { class: 'prompt-body' },
    h('span', { class: 'prompt-message', 'data-kind': alert.kind }, alert.message),
    h('span', { class: 'prompt-why' }, alert.why),
  );
  return h(
    'li',
    { class: `prompt tone-${alert.severity}`, 'data-t': alert.t, 'data-kind': alert.kind, 'data-severity': alert.severity },
    h('span', { class: 'prompt-time' }, h('time', null, formatDuration(alert.t)), note ? h('small', { class: 'told' }, note) : null),
    h('span', { class: 'prompt-glyph', 'aria-hidden': 'true' }, kindGlyph(alert.kind)),
    onSelect ? h('button', { type: 'button', class: 'prompt-select', onclick: () => onSelect(alert), 'aria-label': `Show ${formatDuration(alert.t)} ${alert.message} on the charts` }, body) : body,
    h('span', { class: `severity sev-${alert.severity}` }, alert.severity),
  );
}
