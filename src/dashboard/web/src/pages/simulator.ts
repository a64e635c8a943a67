/**
 * The watch simulator: plays a stored run through the same /watch socket protocol a watch uses, at N× speed,
 * and shows what the watch would have been told, and when. At the end it sets the prompts beside the stored
 * report's: the same engine serves both paths, so they should match.
 */
import type { Alert, Report, RunEvent } from '../../../../../alerts/types.js';
import type { WireEvent } from '../../../../wire/events.js';
import { api, session, type RunSummary } from '../api.js';
import { wireRows } from '../shapes.js';
import { h, errorBox, statusLine } from '../dom.js';
import { formatDate, formatDuration } from '../format.js';
import { formatDistanceIn } from '../units.js';
import { LiveRunView } from '../liveview.js';
import { navigate, type Dispose } from '../navigate.js';
import { WatchClient } from '../../../../wire/client.js';

const SPEEDS = [1, 10, 60, 300, 1000];
/** Samples per batch: well under the protocol's 600, about what a watch sends every few minutes. */
const BATCH = 300;
const TICK_MS = 50;

export async function renderSimulator(main: HTMLElement, [id]: string[]): Promise<Dispose | void> {
  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Watch simulator'),
      h('p', { class: 'muted' }, 'Play a stored run as if a watch were sending it live, and see which prompts it would have shown, and when.'),
    ),
  );
  let runs: RunSummary[];
  try {
    runs = (await api.listRuns('ended')).filter((r) => r.durationS === null || r.durationS > 0);
  } catch (err) {
    main.append(errorBox((err as Error).message));
    return;
  }
  if (runs.length === 0) {
    main.append(h('div', { class: 'empty' }, h('h2', null, 'No stored runs to play'), h('p', null, h('a', { href: '#/runs' }, 'Upload a FIT file'), ' first, then come back to replay it.')));
    return;
  }
  const runSelect = h(
    'select',
    { id: 'sim-run', name: 'run' },
    ...runs.map((r) => h('option', { value: r.id, selected: r.id === id }, `${formatDate(r.startTime)} · ${formatDistanceIn(r.distanceM)} · ${formatDuration(r.durationS)}${r.source === 'live' ? ' (live)' : ''}`)),
  );
  const speedSelect = h('select', { id: 'sim-speed', name: 'speed' }, ...SPEEDS.map((s) => h('option', { value: s, selected: s === 60 }, `${s}×`)));
  const startButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'sim-start' }, 'Play');
  const stopButton = h('button', { type: 'button', disabled: true, 'data-testid': 'sim-stop' }, 'Stop');
  const status = statusLine();
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Simulation settings' },
    h('div', { class: 'row2' }, h('div', null, h('label', { for: 'sim-run' }, 'Run'), runSelect), h('div', null, h('label', { for: 'sim-speed' }, 'Speed'), speedSelect)),
    h('div', { class: 'actions' }, startButton, stopButton, status),
  );
  const stage = h('div');
  const compare = h('div', { 'data-testid': 'sim-compare-holder' });
  main.append(form, compare, stage);

  let current: Simulation | null = null;
  runSelect.addEventListener('change', () => history.replaceState(null, '', `#/simulator/${encodeURIComponent(runSelect.value)}`));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    current?.stop('replaced');
    stage.replaceChildren();
    compare.replaceChildren();
    startButton.disabled = true;
    stopButton.disabled = false;
    current = new Simulation(stage, status, compare);
    try {
      await current.play(runSelect.value, Number(speedSelect.value));
    } finally {
      startButton.disabled = false;
      stopButton.disabled = true;
    }
  });
  stopButton.addEventListener('click', () => current?.stop('stopped'));
  return () => {
    current?.stop('left');
    current?.destroy();
  };
}

class Simulation {
  private client: WatchClient | null = null;
  private view: LiveRunView | null = null;
  private stopped: string | null = null;

  constructor(
    private readonly stage: HTMLElement,
    private readonly status: HTMLElement,
    private readonly compare: HTMLElement,
  ) {}

  stop(reason: string): void {
    this.stopped ??= reason;
  }

  destroy(): void {
    this.client?.close();
    this.view?.destroy();
  }

  async play(storedId: string, speed: number): Promise<void> {
    let client: WatchClient | null = null;
    try {
      this.status.textContent = 'Loading the run…';
      const [run, samples] = await Promise.all([api.getRun(storedId), api.getSamples(storedId)]);
      const stored = run.report;
      if (!stored) throw new Error('That run has no report yet.');
      const view = new LiveRunView(this.stage, { watchTitle: 'The watch would show' });
      this.view = view;
      // The same client `crampguard replay` uses: batches with seq numbers, resend after reconnect, alert dedupe.
      client = new WatchClient({
        url: location.origin,
        token: session.token() ?? '',
        batchSize: BATCH,
        onAlert: (a) => view.addAlert(a),
        onRisk: (p) => view.addRisk(p),
      });
      this.client = client;
      const conditions = conditionsOf(stored);
      const start = await client.start({
        runId: `sim-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
        startTime: stored.startTime ?? new Date().toISOString(),
        ...(conditions ? { conditions } : {}),
      });
      view.markStart();
      const rows = wireRows(samples);
      const events = eventsOf(stored);
      const total = rows.length ? rows[rows.length - 1]!.t : 0;
      const began = performance.now();
      let next = 0;
      let nextEvent = 0;
      while (!this.stopped && (next < rows.length || nextEvent < events.length)) {
        const simT = ((performance.now() - began) / 1000) * speed;
        const from = next;
        while (next < rows.length || nextEvent < events.length) {
          const sampleT = next < rows.length ? rows[next]!.t : Infinity;
          const eventT = nextEvent < events.length ? events[nextEvent]!.t : Infinity;
          if (Math.min(sampleT, eventT) > simT) break;
          // An event at t goes after every sample with sample.t <= t (alerts/types.ts ordering rule).
          if (eventT < sampleT) client.addEvent(events[nextEvent] as WireEvent, `sim-ev-${nextEvent++}`);
          else client.addSample(rows[next++]!);
        }
        if (next > from) {
          client.flush();
          view.appendSamples(rows.slice(from, next));
          this.status.textContent = `Playing at ${speed}×: ${formatDuration(rows[next - 1]!.t)} of ${formatDuration(total)}`;
        }
        // Back-pressure: never run ahead of the server by more than a few batches.
        while (client.backlog > 8 && !this.stopped) await sleep(20);
        await sleep(TICK_MS);
      }
      const report = await client.end();
      this.status.replaceChildren(
        this.stopped ? `Stopped at ${formatDuration(view.lastSampleT())}. ` : 'Finished. ',
        h('a', { href: `#/runs/${encodeURIComponent(start.id)}` }, 'Open the replayed run →'),
      );
      // Alerts raised at the very end reach the report even if their socket event raced the ack.
      for (const a of report.alerts) view.addAlert(a);
      if (!this.stopped) this.compare.append(comparison(view.shownAlerts(), stored.alerts, storedId));
    } catch (err) {
      this.status.replaceChildren(errorBox((err as Error).message));
    } finally {
      client?.close();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function conditionsOf(report: Report): { tempC?: number; humidity?: number } | null {
  const c = (report.conditions ?? (report.options as { conditions?: unknown } | undefined)?.conditions) as { tempC?: unknown; humidity?: unknown } | undefined;
  if (!c || typeof c !== 'object') return null;
  const out: { tempC?: number; humidity?: number } = {};
  if (typeof c.tempC === 'number') out.tempC = c.tempC;
  if (typeof c.humidity === 'number') out.humidity = c.humidity;
  return Object.keys(out).length ? out : null;
}

function eventsOf(report: Report): RunEvent[] {
  const events = report.events;
  if (!Array.isArray(events)) return [];
  return (events as RunEvent[]).filter((e) => typeof e?.t === 'number' && typeof e.type === 'string').sort((a, b) => a.t - b.t);
}

const sameAlert = (a: Alert, b: Alert): boolean => a.kind === b.kind && a.cause === b.cause && Math.abs(a.t - b.t) < 1e-6 && a.message === b.message;

function comparison(shown: readonly Alert[], stored: readonly Alert[], storedId: string): HTMLElement {
  const missing = stored.filter((s) => !shown.some((a) => sameAlert(a, s)));
  const extra = shown.filter((a) => !stored.some((s) => sameAlert(a, s)));
  const same = missing.length === 0 && extra.length === 0;
  return h(
    'section',
    { class: `card compare ${same ? 'same' : 'differs'}`, 'data-testid': 'sim-compare', 'data-same': same ? 'yes' : 'no' },
    h('h2', null, same ? `Same prompts as the report (${stored.length})` : 'The replay differs from the report'),
    same
      ? h('p', { class: 'muted' }, 'Played live through the watch socket, the run gave exactly the prompts its uploaded report lists: same kind, cause, time and words.')
      : h(
          'ul',
          null,
          ...missing.map((a) => h('li', null, `In the report only: ${formatDuration(a.t)} ${a.message}`)),
          ...extra.map((a) => h('li', null, `In the replay only: ${formatDuration(a.t)} ${a.message}`)),
        ),
    h('p', null, h('a', { href: `#/runs/${encodeURIComponent(storedId)}`, onclick: (e: Event) => (e.preventDefault(), navigate(`/runs/${encodeURIComponent(storedId)}`)) }, 'Open the original report →')),
  );
}
