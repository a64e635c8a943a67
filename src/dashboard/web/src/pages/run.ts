/** One stored run: summary, charts with prompt markers, the prompt list, the metrics and the warnings. */
import type { Report } from '../../../../../alerts/types.js';
import { api, peakRisk, type SampleSeries } from '../api.js';
import { ChartStack } from '../charts.js';
import { h, append, errorBox, statusLine } from '../dom.js';
import { METRIC_INFO, capitalize, formatDate, formatDistance, formatDuration, formatNumber, humanizeKey } from '../format.js';
import { navigate, type Dispose } from '../navigate.js';
import { RUN_PANELS, fillCharts, promptList, type RunTimeline } from '../runview.js';
import { riskBadge } from './runs.js';

/** Enough points for a crisp line on a wide screen; the server downsamples. */
const CHART_POINTS = 2000;

export async function renderRun(main: HTMLElement, [id]: string[]): Promise<Dispose | void> {
  const status = statusLine('Loading the run…');
  main.append(status);
  let report: Report;
  let samples: SampleSeries;
  let timeline: RunTimeline;
  try {
    const [run, series] = await Promise.all([api.getRun(id!), api.getSamples(id!, CHART_POINTS)]);
    if (!run.report) {
      // Still going: the live view is the right page for it.
      navigate(`/live/${encodeURIComponent(id!)}`);
      return;
    }
    report = run.report;
    samples = series;
    timeline = { ...(run.laps ? { laps: run.laps } : {}), ...(run.pauses ? { pauses: run.pauses } : {}) };
  } catch (err) {
    status.remove();
    main.append(errorBox((err as Error).message), h('p', null, h('a', { href: '#/runs' }, '← Back to runs')));
    return;
  }
  status.remove();

  const peak = peakRisk(report.risk);
  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('p', { class: 'crumb' }, h('a', { href: '#/runs' }, '← Runs')),
      h('h1', null, formatDate(report.startTime)),
      h(
        'dl',
        { class: 'summary' },
        stat('Distance', formatDistance(report.distanceM)),
        stat('Time', formatDuration(report.durationS)),
        stat('Moving', formatDuration(report.movingTimeS)),
        stat('Prompts', String(report.alerts.length)),
        h('div', null, h('dt', null, 'Peak risk'), h('dd', null, riskBadge(peak))),
      ),
    ),
  );

  const chartsSection = h('section', { class: 'card charts', 'aria-labelledby': 'charts-title' }, h('h2', { id: 'charts-title' }, 'Over time'));
  main.append(chartsSection);
  const stack = new ChartStack(chartsSection, RUN_PANELS);
  fillCharts(stack, samples, report, timeline);

  append(
    main,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'prompts-title' },
      h('h2', { id: 'prompts-title' }, 'Prompts'),
      h('p', { class: 'muted' }, 'What the watch would have shown, and why. Choose one to see it on the charts.'),
      promptList(report.alerts, (alert) => {
        stack.focusTime(alert.t);
        stack.element.scrollIntoView({ behavior: 'smooth', block: 'start' });
      }),
    ),
    metricsSection(report),
    warningsSection(report),
    h(
      'section',
      { class: 'card actions' },
      h('a', { class: 'button', href: `#/simulator/${encodeURIComponent(id!)}` }, 'Replay on the watch simulator'),
      h('button', {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          if (!confirm('Delete this run? This cannot be undone.')) return;
          try {
            await api.deleteRun(id!);
            navigate('/runs');
          } catch (err) {
            alert((err as Error).message);
          }
        },
      }, 'Delete run'),
    ),
  );
  return () => stack.destroy();
}

function stat(label: string, value: string): HTMLElement {
  return h('div', null, h('dt', null, label), h('dd', null, value));
}

function metricItem(key: string, value: number | null): HTMLElement {
  const info = METRIC_INFO[key];
  return h(
    'div',
    { class: 'metric', 'data-metric': key, title: info?.help || null },
    h('dt', null, info?.label ?? humanizeKey(key)),
    h('dd', null, key.endsWith('TimeS') ? formatDuration(value) : formatNumber(value, info?.digits ?? 1, info?.unit ?? '')),
  );
}

function metricsSection(report: Report): HTMLElement {
  const entries = Object.entries(report.metrics);
  const headline = entries.filter(([k]) => METRIC_INFO[k]?.headline);
  const more = entries.filter(([k]) => !METRIC_INFO[k]?.headline);
  const assumptions = Array.isArray(report.assumptions) ? (report.assumptions as unknown[]).map(String) : [];
  const detectors = Array.isArray(report.detectors) ? (report.detectors as { id: string; on: boolean; note: string }[]) : [];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'metrics-title' },
    h('h2', { id: 'metrics-title' }, 'Metrics'),
    h('dl', { class: 'metrics' }, ...headline.map(([k, v]) => metricItem(k, v))),
    h('p', { class: 'muted small' }, '– means the run did not carry what the metric needs (e.g. no heart rate).'),
    more.length ? h('details', null, h('summary', null, 'More numbers'), h('dl', { class: 'metrics' }, ...more.map(([k, v]) => metricItem(k, v)))) : null,
    assumptions.length ? h('details', { 'data-testid': 'assumptions' }, h('summary', null, 'What the engine assumed'), h('ul', null, ...assumptions.map((a) => h('li', null, capitalize(a))))) : null,
    detectors.length
      ? h(
          'details',
          null,
          h('summary', null, 'Which checks ran'),
          h('ul', { class: 'detectors' }, ...detectors.map((d) => h('li', null, h('strong', null, d.on ? '✓ ' : '✗ '), humanizeKey(d.id.replaceAll('-', ' ')), h('span', { class: 'muted' }, `: ${d.note.replace(/^on: /, '')}`)))),
        )
      : null,
  );
}

function warningsSection(report: Report): HTMLElement | null {
  if (report.warnings.length === 0) return null;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'warnings-title' },
    h('h2', { id: 'warnings-title' }, 'About this file'),
    h('ul', { class: 'warnings' }, ...report.warnings.map((w) => h('li', { 'data-code': w.code }, w.message, w.count ? h('span', { class: 'muted' }, ` (${w.count})`) : null))),
  );
}
