/** Follow a run in progress: charts grow as samples arrive, prompts appear as they fire. */
import { api, session, type RunSummary } from '../api.js';
import { h, errorBox, statusLine } from '../dom.js';
import { formatDate, formatDuration } from '../format.js';
import { LiveRunView } from '../liveview.js';
import type { Dispose } from '../navigate.js';
import { connectWatch, watch, type WatchSocket } from '../watch.js';

export async function renderLive(main: HTMLElement, [id]: string[]): Promise<Dispose | void> {
  if (!id) return renderLiveList(main);
  return followRun(main, id);
}

async function renderLiveList(main: HTMLElement): Promise<Dispose> {
  const holder = h('div', null, statusLine('Looking for runs in progress…'));
  main.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Live'), h('p', { class: 'muted' }, 'Runs in progress from your watch appear here; open one to follow it as it happens.')),
    holder,
  );
  const refresh = async (): Promise<void> => {
    let runs: RunSummary[];
    try {
      runs = await api.listRuns('live');
    } catch (err) {
      holder.replaceChildren(errorBox((err as Error).message));
      return;
    }
    if (runs.length === 0) {
      holder.replaceChildren(
        h(
          'div',
          { class: 'empty' },
          h('h2', null, 'Nobody is running right now'),
          h('p', null, 'Start a run on your watch companion, or play a stored run on the ', h('a', { href: '#/simulator' }, 'watch simulator'), ' to see it here.'),
        ),
      );
      return;
    }
    holder.replaceChildren(
      h(
        'ul',
        { class: 'card live-runs' },
        ...runs.map((r) =>
          h('li', null, h('span', { class: 'pill live' }, 'live'), ' ', h('a', { href: `#/live/${encodeURIComponent(r.id)}` }, formatDate(r.startTime)), h('span', { class: 'muted', 'data-testid': 'live-duration' }, ` · ${liveDuration(r)}`)),
        ),
      ),
    );
  };
  await refresh();
  const timer = setInterval(() => void refresh(), 5000);
  return () => clearInterval(timer);
}

/**
 * How long a run in progress has been going: the report's duration once there is one, else the time since its
 * start. A start more than a day back is a replay of an old run (the CLI's replay, the simulator): it says so.
 */
export function liveDuration(r: RunSummary, now = Date.now()): string {
  if (r.durationS !== null) return `${formatDuration(r.durationS)} so far`;
  const start = r.startTime ? Date.parse(r.startTime) : NaN;
  if (!Number.isFinite(start)) return 'just started';
  const s = (now - start) / 1000;
  if (s < 0 || s > 86_400) return `replaying a run of ${formatDate(r.startTime)}`;
  return `${formatDuration(s)} so far`;
}

async function followRun(main: HTMLElement, id: string): Promise<Dispose | void> {
  const status = h('span', { class: 'pill', 'data-testid': 'live-status' }, 'connecting');
  const note = statusLine();
  main.append(h('div', { class: 'page-head' }, h('p', { class: 'crumb' }, h('a', { href: '#/live' }, '← Live')), h('h1', null, 'Following a run ', status)), note);
  const view = new LiveRunView(main);
  let socket: WatchSocket | null = null;
  const dispose = (): void => {
    socket?.disconnect();
    view.destroy();
  };
  try {
    socket = await connectWatch(session.token() ?? '');
    // Listen before following, then load what was stored: nothing falls between the two.
    socket.on('samples', (batch) => {
      if (batch.id === id) view.appendSamples(batch.samples);
    });
    socket.on('risk', (point) => view.addRisk(point));
    socket.on('alert', (alert) => view.addAlert(alert));
    socket.on('ended', (info) => {
      if (info.id !== id) return;
      status.textContent = 'finished';
      status.className = 'pill done';
      note.replaceChildren('The run has finished. ', h('a', { href: `#/runs/${encodeURIComponent(id)}` }, 'See the full report →'));
    });
    const follow = await watch.follow(socket, id);
    // Reconnects (network blips): follow again; alerts are deduplicated by id.
    socket.io.on('reconnect', () => {
      if (socket) void watch.follow(socket, id).then((ack) => ack.alerts.forEach((a) => view.addAlert(a, false))).catch(() => undefined);
    });
    for (const alert of follow.alerts) view.addAlert(alert, false);
    // The risk and fluid estimate from before the page was opened, then the latest point.
    view.prependRisk(follow.riskHistory ?? []);
    if (follow.risk) view.addRisk(follow.risk);
    const stored = await api.getSamples(id);
    const rows = stored.t.map((t, i) => ({ t, hr: stored.hr[i], speed: stored.speed[i], cadence: stored.cadence[i] }));
    // Batches that arrived meanwhile are later in time: put the stored ones first.
    view.prependStored(rows);
    if (follow.status === 'ended') {
      status.textContent = 'finished';
      status.className = 'pill done';
      note.replaceChildren('This run has already finished. ', h('a', { href: `#/runs/${encodeURIComponent(id)}` }, 'See the full report →'));
    } else {
      status.textContent = 'live';
      status.className = 'pill live';
    }
  } catch (err) {
    note.replaceChildren(errorBox((err as Error).message));
  }
  return dispose;
}
