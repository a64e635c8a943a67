/**
 * The Training view: what the athlete model learned over time, as charts: weekly volume, long-run progression,
 * the acute:chronic load ratio, the decoupling trend of long runs and the cramps on record. From
 * GET /api/athletes/me/model (weeks and every run's load and decoupling) and the cramp journal.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, type AthleteModelJson, type CrampEntry } from '../api.js';
import { h, errorBox, statusLine } from '../dom.js';
import type { Dispose } from '../navigate.js';
import { PALETTE } from '../palette.js';

const DAY_S = 86_400;
/** Runs at least this long show in the decoupling trend (decoupling means little on short runs). */
const DECOUPLING_MIN_RUN_MIN = 45;

interface ChartSpec {
  id: string;
  title: string;
  help: string;
  x: number[];
  series: Array<{ label: string; values: Array<number | null>; color: string; kind: 'bars' | 'line' | 'points'; dash?: number[] }>;
  unit: string;
}

/** Acute (7 d) : chronic (28 d, per week) load ratio at the end of each week, from every run's load. */
export function weeklyLoadRatio(model: AthleteModelJson['model']): { x: number[]; ratio: Array<number | null> } {
  const runs = model.history.map((r) => ({ t: Date.parse(r.date) / 1000, load: r.load }));
  const first = runs[0]?.t ?? 0;
  const x: number[] = [];
  const ratio: Array<number | null> = [];
  for (const w of model.weeks) {
    const end = Date.parse(`${w.week}T00:00:00Z`) / 1000 + 7 * DAY_S;
    let acute = 0;
    let chronic = 0;
    for (const r of runs) {
      if (r.t >= end || r.t < end - 28 * DAY_S) continue;
      chronic += r.load;
      if (r.t >= end - 7 * DAY_S) acute += r.load;
    }
    x.push(end - DAY_S);
    ratio.push(end - first >= 21 * DAY_S && chronic > 0 ? Math.round((100 * acute) / (chronic / 4)) / 100 : null);
  }
  return { x, ratio };
}

function chartSpecs(m: AthleteModelJson, cramps: CrampEntry[]): ChartSpec[] {
  const { model } = m;
  const weeks = model.weeks.map((w) => Date.parse(`${w.week}T00:00:00Z`) / 1000);
  const load = weeklyLoadRatio(model);
  const long = model.history.filter((r) => r.movingMin >= DECOUPLING_MIN_RUN_MIN && r.decouplingPct !== null);
  const runDate = new Map(model.history.map((r) => [r.runId, Date.parse(r.date) / 1000]));
  const dated = cramps
    .map((c) => ({ t: (c.runId && runDate.get(c.runId)) || Date.parse(c.createdAt) / 1000, severity: c.severity }))
    .sort((a, b) => a.t - b.t);
  const usual = model.usualLongRunMin?.value ?? null;
  return [
    { id: 'volume', title: 'Weekly volume', help: 'Distance run each week.', unit: 'km', x: weeks, series: [{ label: 'Distance', values: model.weeks.map((w) => w.distanceKm), color: PALETTE.pace, kind: 'bars' }] },
    {
      id: 'long-runs',
      title: 'Long-run progression',
      help: 'The longest run of each week, and the usual long run learned from the last 8 weeks.',
      unit: 'min',
      x: weeks,
      series: [
        { label: 'Longest run', values: model.weeks.map((w) => w.longestMin), color: PALETTE.cadence, kind: 'line' },
        { label: 'Usual long run', values: weeks.map(() => usual), color: PALETTE.lap, kind: 'line', dash: [6, 4] },
      ],
    },
    {
      id: 'load-ratio',
      title: 'Load ratio (7 days : 28 days)',
      help: 'Above about 1.3 the last week was much more than you are used to.',
      unit: '',
      x: load.x,
      series: [
        { label: 'Load ratio', values: load.ratio, color: PALETTE.risk, kind: 'line' },
        { label: '1.3', values: load.x.map(() => 1.3), color: PALETTE.warning, kind: 'line', dash: [4, 4] },
      ],
    },
    { id: 'decoupling', title: 'Decoupling of long runs', help: `Heart rate drifting up for the pace, first vs second half, runs of ${DECOUPLING_MIN_RUN_MIN} min or more; over 5 % is a sign of fatigue.`, unit: '%', x: long.map((r) => Date.parse(r.date) / 1000), series: [{ label: 'Decoupling', values: long.map((r) => r.decouplingPct), color: PALETTE.hr, kind: 'points' }] },
    { id: 'cramps', title: 'Cramps over time', help: 'Each cramp in your journal, by severity (1 twinge – 5 had to stop).', unit: '/5', x: dated.map((c) => c.t), series: [{ label: 'Severity', values: dated.map((c) => c.severity), color: PALETTE.urgent, kind: 'points' }] },
  ];
}

function plot(spec: ChartSpec, width: number): { el: HTMLElement; plot: uPlot | null } {
  const holder = h('div', { class: 'training-chart', 'data-chart': spec.id });
  const el = h('section', { class: 'card', 'aria-labelledby': `t-${spec.id}` }, h('h2', { id: `t-${spec.id}` }, spec.title), h('p', { class: 'muted' }, spec.help), holder);
  if (spec.x.length === 0) {
    holder.append(h('p', { class: 'empty' }, 'Nothing on record yet.'));
    return { el, plot: null };
  }
  const opts: uPlot.Options = {
    width,
    height: 200,
    scales: {
      // One point (a single cramp, one week) gets a fortnight around it instead of uPlot's years.
      x: { time: true, range: (_u, min, max) => (min === max ? [min - 7 * DAY_S, max + 7 * DAY_S] : [min, max]) },
      // From zero: volumes, severities and ratios read against nothing.
      y: { range: (_u, min, max) => { const lo = Math.min(0, min); return [lo, max > lo ? max + 0.1 * (max - lo) : lo + 1]; } },
    },
    series: [
      {},
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.kind === 'points' ? 0 : 2,
        ...(s.dash ? { dash: s.dash } : {}),
        ...(s.kind === 'bars' ? { fill: `${s.color}99`, paths: uPlot.paths.bars!({ size: [0.6, 40] }) } : {}),
        points: { show: s.kind !== 'bars', size: s.kind === 'points' ? 8 : 4, fill: s.color },
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v}${spec.unit ? ` ${spec.unit}` : ''}`),
      })),
    ],
    axes: [{}, { label: spec.unit || undefined }],
  };
  const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
  return { el, plot: new uPlot(opts, data, holder) };
}

export async function renderTraining(main: HTMLElement): Promise<void | Dispose> {
  const status = statusLine('Loading your training…');
  main.append(h('div', { class: 'page-head' }, h('h1', null, 'Training')), status);
  let m: AthleteModelJson;
  let cramps: CrampEntry[];
  try {
    [m, cramps] = await Promise.all([api.athleteModel(), api.listCramps()]);
  } catch (err) {
    status.replaceWith(errorBox((err as Error).message));
    return;
  }
  status.textContent = m.model.runs
    ? `${m.model.runs} runs, ${m.model.weeks.length} weeks with runs${m.model.loadRatio ? `; load ratio now ${m.model.loadRatio.ratio}` : ''}.`
    : 'No runs yet: upload or record some and the charts fill in.';
  const width = Math.max(280, Math.min(960, main.clientWidth - 32));
  const plots = chartSpecs(m, cramps).map((s) => plot(s, width));
  const grid = h('div', { class: 'training', 'data-testid': 'training' }, ...plots.map((p) => p.el));
  main.append(grid);
  return () => {
    for (const p of plots) p.plot?.destroy();
  };
}
