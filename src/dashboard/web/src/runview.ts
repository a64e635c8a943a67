/**
 * What a run looks like, shared by the run page, the live view and the simulator: the chart panels, prompt
 * markers, the prompt list. Everything here is drawing; the numbers come from the server's engine.
 */
import type { Alert, Report, RiskPoint } from '../../../../alerts/types.js';
import type { SampleSeries } from './api.js';
import { ChartStack, PALETTE, type Band, type PanelSpec, type TimeMarker } from './charts.js';
import { h } from './dom.js';
import { formatDuration, formatNumber, formatPace, kindGlyph, kindLabel, paceFromSpeed } from './format.js';

export const RUN_PANELS: PanelSpec[] = [
  { id: 'hr', title: 'Heart rate', unit: 'bpm', color: PALETTE.hr, format: (v) => formatNumber(v), robust: true },
  { id: 'pace', title: 'Pace', unit: '/km', color: PALETTE.pace, format: (v) => formatPace(v).replace(' /km', ''), invert: true, robust: true },
  { id: 'cadence', title: 'Cadence', unit: 'spm', color: PALETTE.cadence, format: (v) => formatNumber(v), robust: true },
  { id: 'risk', title: 'Cramp risk', unit: '/100', color: PALETTE.risk, format: (v) => formatNumber(v), range: [0, 100], fill: true },
  { id: 'fluid', title: 'Est. fluid deficit', unit: 'ml', color: PALETTE.fluid, format: (v) => formatNumber(v), fill: true },
];

export function alertMarker(alert: Pick<Alert, 't' | 'kind' | 'message' | 'why' | 'severity'>): TimeMarker {
  return { t: alert.t, glyph: kindGlyph(alert.kind), label: alert.message || kindLabel(alert.kind), detail: alert.why, tone: alert.severity };
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

export function paceColumn(speed: ArrayLike<number | null>): (number | null)[] {
  const out = new Array<number | null>(speed.length);
  for (let i = 0; i < speed.length; i++) {
    const s = speed[i];
    out[i] = s === null || s === undefined ? null : paceFromSpeed(s);
  }
  return out;
}

export function fillCharts(stack: ChartStack, samples: SampleSeries, report: Partial<Report>, timeline: RunTimeline = {}): void {
  const risk = report.risk ?? [];
  stack.setPanels([
    ['hr', { t: samples.t, values: samples.hr }],
    ['pace', { t: samples.t, values: paceColumn(samples.speed) }],
    ['cadence', { t: samples.t, values: samples.cadence }],
    ['risk', { t: risk.map((p) => p.t), values: risk.map((p) => p.score), notes: risk.map((p) => factorWords(p.factors)) }],
    ['fluid', fluidSeries(report) ?? { t: [], values: [] }],
  ]);
  const { laps, pauses } = lapsAndPauses(report, timeline);
  stack.setMarkers((report.alerts ?? []).map(alertMarker), laps, pauses);
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
