/**
 * The watch simulator: plays a stored run through the same /watch socket protocol a watch uses, at N× speed,
 * and shows what the watch would have been told, and when. At the end it sets the prompts beside the stored
 * report's. It plays with `crampguard replay`'s player (src/wire/replay.ts, the one feed of ingest/feed.ts) and the
 * settings the report was analysed with, so for the same athlete profile the prompts should match.
 */
import type { Alert, Report } from '../../../../../alerts/types.js';
import { api, session, type RunSummary } from '../api.js';
import { replayableRun } from '../shapes.js';
import { h, errorBox, statusLine } from '../dom.js';
import { formatDate, formatDuration } from '../format.js';
import { formatDistanceIn } from '../units.js';
import { LiveRunView } from '../liveview.js';
import { navigate, type Dispose } from '../navigate.js';
import type { WatchClient } from '../../../../wire/client.js';
import { replayRun } from '../../../../wire/replay.js';

const SPEEDS = [1, 10, 60, 300, 1000];
/** Samples per batch: well under the protocol's 600, about what a watch sends every few minutes. */
const BATCH = 300;
/** The page draws a step at most every this many ms of wall time. */
const TICK_MS = 50;
/** Back-pressure: never run ahead of the server by more than a few batches. */
const MAX_BACKLOG = 8;

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
    current?.stop();
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
  stopButton.addEventListener('click', () => current?.stop());
  return () => {
    current?.stop();
    current?.destroy();
  };
}

class Simulation {
  private client: WatchClient | null = null;
  private view: LiveRunView | null = null;
  private readonly stopping = new AbortController();

  constructor(
    private readonly stage: HTMLElement,
    private readonly status: HTMLElement,
    private readonly compare: HTMLElement,
  ) {}

  stop(): void {
    this.stopping.abort();
  }

  destroy(): void {
    this.client?.close();
    this.view?.destroy();
  }

  async play(storedId: string, speed: number): Promise<void> {
    try {
      this.status.textContent = 'Loading the run…';
      const [stored, samples] = await Promise.all([api.getRun(storedId), api.getAllSamples(storedId)]);
      const storedReport = stored.report;
      if (!storedReport) throw new Error('That run has no report yet.');
      const run = replayableRun(stored, samples);
      const total = run.samples.length > 0 ? run.samples.t[run.samples.length - 1]! : 0;
      const view = new LiveRunView(this.stage, { watchTitle: 'The watch would show' });
      this.view = view;
      // `crampguard replay`'s player: the one feed (legs, sport, the ordering rule), batches with seq numbers,
      // resend after reconnect, alert dedupe; the conditions and session kind the report was analysed with.
      const result = await replayRun(run, {
        url: location.origin,
        token: session.token() ?? '',
        batchSize: BATCH,
        speed,
        minWaitMs: TICK_MS,
        maxBacklog: MAX_BACKLOG,
        signal: this.stopping.signal,
        runId: `sim-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
        ...(stored.conditions ? { conditions: stored.conditions } : {}),
        ...(stored.sessionKind ? { sessionKind: stored.sessionKind } : {}),
        onAlert: (a) => view.addAlert(a),
        onRisk: (p) => view.addRisk(p),
        onStarted: (client) => {
          this.client = client;
          view.markStart();
        },
        onSamples: (sent) => {
          view.appendSamples(sent);
          this.status.textContent = `Playing at ${speed}×: ${formatDuration(sent[sent.length - 1]!.t)} of ${formatDuration(total)}`;
        },
      });
      const stopped = this.stopping.signal.aborted;
      this.status.replaceChildren(
        stopped ? `Stopped at ${formatDuration(view.lastSampleT())}. ` : 'Finished. ',
        h('a', { href: `#/runs/${encodeURIComponent(result.id)}` }, 'Open the replayed run →'),
      );
      // Alerts raised at the very end reach the report even if their socket event raced the ack.
      for (const a of result.report.alerts) view.addAlert(a);
      if (!stopped) this.compare.append(comparison(view.shownAlerts(), storedReport, storedId));
    } catch (err) {
      this.status.replaceChildren(errorBox((err as Error).message));
    }
  }
}

const sameAlert = (a: Alert, b: Alert): boolean => a.kind === b.kind && a.cause === b.cause && Math.abs(a.t - b.t) < 1e-6 && a.message === b.message;

function comparison(shown: readonly Alert[], storedReport: Report, storedId: string): HTMLElement {
  const stored = storedReport.alerts;
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
