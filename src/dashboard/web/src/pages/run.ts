/** One stored run: summary, charts with prompt markers, the prompt list, the metrics and the warnings. */
import type { Report } from '../../../../../alerts/types.js';
import { api, peakRisk, type RunPageSummary, type SampleSeries, type ServerConfig, type SplitRow } from '../api.js';
import { ChartStack } from '../charts.js';
import { h, append, errorBox, statusLine } from '../dom.js';
import { METRIC_INFO, capitalize, formatDate, formatDuration, formatNumber, humanizeKey } from '../format.js';
import { routeMap, trackPoints, type RouteMap } from '../map.js';
import { navigate, type Dispose } from '../navigate.js';
import { fillCharts, promptList, runPanels, type RunTimeline } from '../runview.js';
import { formatDistanceIn, formatElevationIn, formatPaceIn, formatTempIn, getUnits, type Units } from '../units.js';
import { riskBadge } from './runs.js';

/** Enough points for a crisp line on a wide screen; the server downsamples. */
const CHART_POINTS = 2000;

export async function renderRun(main: HTMLElement, [id]: string[]): Promise<Dispose | void> {
  const status = statusLine('Loading the run…');
  main.append(status);
  let report: Report;
  let samples: SampleSeries;
  let timeline: RunTimeline;
  let summary: RunPageSummary | null = null;
  let config: ServerConfig = { uploadLimitBytes: 0, mapTileUrl: '', mapAttribution: '' };
  try {
    const [run, series, cfg] = await Promise.all([api.getRun(id!), api.getSamples(id!, CHART_POINTS), api.config().catch(() => config)]);
    config = cfg;
    summary = run.summary ?? null;
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

  const units = getUnits();
  const peak = peakRisk(report.risk);
  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('p', { class: 'crumb' }, h('a', { href: '#/runs' }, '← Runs')),
      h('h1', null, formatDate(report.startTime)),
      summaryCards(report, summary, units, peak),
    ),
  );

  const hasDistance = (samples.distance ?? []).some((v) => typeof v === 'number');
  let xMode: 'time' | 'distance' = 'time';
  const xToggle = h(
    'div',
    { class: 'x-toggle', role: 'group', 'aria-label': 'Horizontal axis' },
    ...(['time', 'distance'] as const).map((mode) =>
      h(
        'button',
        {
          type: 'button',
          'data-x': mode,
          'aria-pressed': String(mode === xMode),
          disabled: mode === 'distance' && !hasDistance,
          onclick: () => {
            if (xMode === mode) return;
            xMode = mode;
            for (const b of xToggle.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.x === mode));
            fillCharts(stack, samples, report, timeline, xMode, units);
          },
        },
        mode === 'time' ? 'Time' : 'Distance',
      ),
    ),
  );
  const chartsSection = h(
    'section',
    { class: 'card charts', 'aria-labelledby': 'charts-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'charts-title' }, 'Over time'), xToggle),
  );
  main.append(chartsSection);
  const stack = new ChartStack(chartsSection, runPanels(units));
  fillCharts(stack, samples, report, timeline, xMode, units);

  let map: RouteMap | null = null;
  try {
    map = routeMap(trackPoints(samples.lat, samples.lon), config);
  } catch {
    map = null;
  }
  if (map) main.append(map.element);
  if (summary) {
    const splits = splitsSection(summary, units);
    if (splits) main.append(splits);
  }

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
    exportSection(id!, samples),
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
  return () => {
    map?.destroy();
    stack.destroy();
  };
}

function stat(label: string, value: string, key?: string): HTMLElement {
  return h('div', key ? { 'data-card': key } : null, h('dt', null, label), h('dd', null, value));
}

const SOURCE_WORDS = { given: 'as entered', watch: 'watch sensor', assumed: 'assumed' } as const;

/** The headline cards: the server's summary where it has one, the report's own fields otherwise. */
function summaryCards(report: Report, s: RunPageSummary | null, units: Units, peak: number | null): HTMLElement {
  const sport = [s?.sport ?? report.sport, s?.subSport && s.subSport !== 'generic' ? s.subSport : null]
    .filter((x): x is string => !!x)
    .map((x) => x.replaceAll('_', ' '))
    .join(' · ');
  const weather = s?.weather
    ? `${formatTempIn(s.weather.tempC, units)} (${SOURCE_WORDS[s.weather.tempSource]}), ${formatNumber(s.weather.humidity)} % (${SOURCE_WORDS[s.weather.humiditySource]})`
    : '–';
  return h(
    'dl',
    { class: 'summary', 'data-testid': 'summary-cards' },
    stat('Distance', formatDistanceIn(s?.distanceM ?? report.distanceM, units), 'distance'),
    stat('Time', formatDuration(s?.durationS ?? report.durationS), 'time'),
    stat('Moving time', formatDuration(s?.movingTimeS ?? report.movingTimeS), 'moving'),
    stat('Avg pace', formatPaceIn(s?.avgPaceSPerKm ?? null, units), 'pace'),
    stat('Avg HR', formatNumber(s?.avgHr ?? null, 0, 'bpm'), 'avg-hr'),
    stat('Max HR', formatNumber(s?.maxHr ?? null, 0, 'bpm'), 'max-hr'),
    stat('Elevation gain', formatElevationIn(s?.elevationGainM ?? null, units), 'elevation'),
    stat('Avg cadence', formatNumber(s?.avgCadence ?? null, 0, 'spm'), 'cadence'),
    stat('Sport', sport ? capitalize(sport) : '–', 'sport'),
    stat('Device', s?.device ?? '–', 'device'),
    stat('Weather used', weather, 'weather'),
    stat('Prompts', String(report.alerts.length), 'prompts'),
    h('div', { 'data-card': 'risk' }, h('dt', null, 'Peak risk'), h('dd', null, riskBadge(peak))),
  );
}

/** Laps (when the file has several) and splits per km or mile, as a table with a choice between them. */
function splitsSection(s: RunPageSummary, units: Units): HTMLElement | null {
  const perUnit = units.distance === 'mi' ? s.splits.mi : s.splits.km;
  const choices: [string, string, SplitRow[]][] = [];
  if (perUnit.length > 0) choices.push(['splits', `Per ${units.distance === 'mi' ? 'mile' : 'km'}`, perUnit]);
  if (s.laps.length > 1) choices.push(['laps', 'Laps', s.laps]);
  if (choices.length === 0) return null;
  const holder = h('div', { class: 'table-scroll' });
  const show = (key: string) => {
    const [, , rows] = choices.find(([k]) => k === key)!;
    holder.replaceChildren(splitsTable(rows, units, key));
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.view === key));
  };
  const buttons = choices.map(([key, label]) => h('button', { type: 'button', 'data-view': key, 'aria-pressed': 'false', onclick: () => show(key) }, label));
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'splits-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'splits-title' }, 'Laps and splits'), h('div', { class: 'x-toggle', role: 'group', 'aria-label': 'Rows' }, ...buttons)),
    holder,
  );
  show(choices[0]![0]);
  return section;
}

function splitsTable(rows: SplitRow[], units: Units, kind: string): HTMLElement {
  const th = (text: string, num = true) => h('th', { scope: 'col', class: num ? 'num' : null }, text);
  return h(
    'table',
    { class: 'runs splits', 'data-testid': `${kind}-table` },
    h('thead', null, h('tr', null, th(kind === 'laps' ? 'Lap' : units.distance, false), th('Distance'), th('Time'), th('Pace'), th('Avg HR'), th('Max HR'), th('Cadence'), th('Climb'))),
    h(
      'tbody',
      null,
      ...rows.map((r) =>
        h(
          'tr',
          null,
          h('td', null, String(r.index)),
          h('td', { class: 'num' }, r.distanceM === null ? '–' : `${(r.distanceM / (units.distance === 'mi' ? 1609.344 : 1000)).toFixed(2)} ${units.distance}`),
          h('td', { class: 'num' }, formatDuration(r.movingTimeS)),
          h('td', { class: 'num', 'data-col': 'pace' }, formatPaceIn(r.paceSPerKm, units)),
          h('td', { class: 'num' }, formatNumber(r.avgHr)),
          h('td', { class: 'num' }, formatNumber(r.maxHr)),
          h('td', { class: 'num' }, formatNumber(r.avgCadence)),
          h('td', { class: 'num' }, formatElevationIn(r.elevationGainM, units)),
        ),
      ),
    ),
  );
}

/** Download buttons: the run as FIT, GPX (with a track) or CSV, the report as JSON. */
function exportSection(id: string, samples: SampleSeries): HTMLElement {
  const status = statusLine();
  const hasTrack = trackPoints(samples.lat, samples.lon).length > 1;
  const button = (format: 'fit' | 'gpx' | 'csv' | 'json', label: string) =>
    h(
      'button',
      {
        type: 'button',
        'data-export': format,
        disabled: format === 'gpx' && !hasTrack,
        title: format === 'gpx' && !hasTrack ? 'This run has no GPS track' : null,
        onclick: async () => {
          status.classList.remove('error-text');
          status.textContent = `Preparing ${label}…`;
          try {
            const { blob, filename } = await api.exportRun(id, format);
            const url = URL.createObjectURL(blob);
            const a = h('a', { href: url, download: filename, hidden: true });
            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
            status.textContent = `Downloaded ${filename}.`;
          } catch (err) {
            status.textContent = (err as Error).message;
            status.classList.add('error-text');
          }
        },
      },
      label,
    );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'export-title', 'data-testid': 'export' },
    h('h2', { id: 'export-title' }, 'Export'),
    h('div', { class: 'button-row' }, button('fit', 'FIT'), button('gpx', 'GPX'), button('csv', 'CSV'), button('json', 'Report (JSON)')),
    status,
  );
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
