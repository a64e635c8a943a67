/**
 * The runs list (by each run's own start, newest first) and a FIT upload by drag and drop or file picker, with
 * progress. The size limit is the server's (GET /api/config), so the form and the server cannot disagree.
 */
import { api, ApiError, type RunSummary } from '../api.js';
import { h, clear, errorBox, statusLine } from '../dom.js';
import { capitalize, formatDate, formatDuration, formatNumber } from '../format.js';
import { navigate } from '../navigate.js';
import { formatDistanceIn, formatPaceIn, getUnits } from '../units.js';

export async function renderRuns(main: HTMLElement): Promise<void> {
  const listHolder = h('div', { class: 'runs-list' }, statusLine('Loading your runs…'));
  main.append(h('div', { class: 'page-head' }, h('h1', null, 'Runs')), uploadCard(), listHolder);
  await loadList(listHolder);
}

const PAGE = 50;

async function loadList(holder: HTMLElement): Promise<void> {
  let page: { runs: RunSummary[]; next: string | null };
  try {
    page = await api.listRunsPage({ limit: PAGE });
  } catch (err) {
    holder.replaceChildren(errorBox((err as Error).message));
    return;
  }
  clear(holder);
  if (page.runs.length === 0) {
    holder.append(
      h(
        'div',
        { class: 'empty' },
        h('h2', null, 'No runs yet'),
        h('p', null, 'Drop a FIT, GPX or TCX file from your watch or app above to see where the risk built up and which prompts would have fired. Or start a run on your watch and follow it under Live.'),
      ),
    );
    return;
  }
  const body = h('tbody');
  holder.append(
    h(
      'table',
      { class: 'runs' },
      h('caption', { class: 'sr-only' }, 'Your runs, by date, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Date'),
          h('th', { scope: 'col', class: 'narrow-hide' }, 'Sport'),
          h('th', { scope: 'col', class: 'num' }, 'Distance'),
          h('th', { scope: 'col', class: 'num narrow-hide' }, 'Time'),
          h('th', { scope: 'col', class: 'num' }, 'Pace'),
          h('th', { scope: 'col', class: 'num narrow-hide' }, 'Prompts'),
          h('th', { scope: 'col', class: 'num' }, 'Peak risk'),
        ),
      ),
      body,
    ),
  );
  const more = h('button', { type: 'button', class: 'more' }, 'Show older runs');
  const addPage = (runs: RunSummary[], next: string | null): void => {
    body.append(...runs.map(runRow));
    more.hidden = next === null;
    more.onclick = async () => {
      if (!next) return;
      more.disabled = true;
      try {
        const older = await api.listRunsPage({ limit: PAGE, before: next });
        addPage(older.runs, older.next);
      } catch (err) {
        more.replaceWith(errorBox((err as Error).message));
      } finally {
        more.disabled = false;
      }
    };
  };
  holder.append(more);
  addPage(page.runs, page.next);
}

function runRow(run: RunSummary): HTMLTableRowElement {
  const units = getUnits();
  const href = run.status === 'live' ? `#/live/${encodeURIComponent(run.id)}` : `#/runs/${encodeURIComponent(run.id)}`;
  return h(
    'tr',
    { 'data-run-id': run.id },
    h('td', null, h('a', { href }, formatDate(run.startTime)), run.source === 'live' && run.status === 'ended' ? h('span', { class: 'pill source', title: 'Recorded live from a watch or the simulator' }, 'live') : null),
    h('td', { class: 'narrow-hide', 'data-col': 'sport' }, run.sport ? capitalize(run.sport.replaceAll('_', ' ')) : '–'),
    h('td', { class: 'num', 'data-col': 'distance' }, formatDistanceIn(run.distanceM, units)),
    h('td', { class: 'num narrow-hide' }, formatDuration(run.durationS)),
    h('td', { class: 'num', 'data-col': 'pace' }, formatPaceIn(run.paceSPerKm, units)),
    h('td', { class: 'num narrow-hide', 'data-col': 'prompts' }, run.status === 'live' ? h('span', { class: 'pill live' }, 'live') : run.alertCount === null ? '–' : String(run.alertCount)),
    h('td', { class: 'num', 'data-col': 'risk' }, run.status === 'live' ? '' : riskBadge(run.peakRisk)),
  );
}

/** Bytes as a person reads a file size: 32 MB (binary megabytes, as the server counts them). */
function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB`;
}

/** Peak risk with a word as well as a colour. */
export function riskBadge(score: number | null): HTMLElement {
  if (score === null) return h('span', { class: 'muted' }, '–');
  const level = score >= 70 ? 'high' : score >= 40 ? 'raised' : 'low';
  return h('span', { class: `risk risk-${level}`, title: `Peak cramp risk ${Math.round(score)} of 100 (${level})` }, `${formatNumber(score)} ${level}`);
}

function uploadCard(): HTMLElement {
  const limitNote = h('p', { class: 'muted small', 'data-testid': 'upload-limit' });
  void api
    .config()
    .then((c) => (limitNote.textContent = `Up to ${formatMb(c.uploadLimitBytes)} a file.`))
    .catch(() => undefined);
  const status = statusLine();
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const input = h('input', { type: 'file', id: 'fit-file', accept: '.fit,.gpx,.tcx,.gz,application/octet-stream,application/gpx+xml,application/vnd.garmin.tcx+xml,application/gzip', class: 'sr-only' });
  // In the reader's unit; the server takes °C.
  const fahrenheit = getUnits().temperature === 'F';
  const temp = h('input', fahrenheit
    ? { id: 'temp', type: 'number', min: -22, max: 122, step: '1', inputmode: 'decimal', placeholder: 'e.g. 75' }
    : { id: 'temp', type: 'number', min: -30, max: 50, step: '0.5', inputmode: 'decimal', placeholder: 'e.g. 24' });
  const humidity = h('input', { id: 'humidity', type: 'number', min: 0, max: 100, step: '1', inputmode: 'numeric', placeholder: 'e.g. 60' });
  const zone = h(
    'div',
    { class: 'dropzone', 'data-testid': 'dropzone' },
    h('p', null, h('strong', null, 'Drop a FIT, GPX or TCX file here'), ' or '),
    h('label', { for: 'fit-file', class: 'button', tabindex: 0, role: 'button' }, 'choose a file'),
    input,
    progress,
    status,
    limitNote,
  );
  const upload = async (file: File): Promise<void> => {
    status.classList.remove('error-text');
    clear(status);
    const limit = await api.config().then((c) => c.uploadLimitBytes, () => null);
    if (limit !== null && file.size > limit) {
      status.textContent = `That file is ${formatMb(file.size)}; the limit is ${formatMb(limit)}.`;
      status.classList.add('error-text');
      return;
    }
    progress.hidden = false;
    progress.value = 0;
    status.textContent = `Uploading ${file.name}…`;
    const conditions: { temp?: number; humidity?: number } = {};
    if (temp.value !== '') conditions.temp = fahrenheit ? Math.round(((Number(temp.value) - 32) * 5) / 9 * 10) / 10 : Number(temp.value);
    if (humidity.value !== '') conditions.humidity = Number(humidity.value);
    try {
      const run = await api.uploadRun(file, conditions, (f) => {
        progress.value = f;
        if (f >= 1) status.textContent = 'Analysing…';
      });
      status.textContent = 'Done.';
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      progress.hidden = true;
      status.classList.add('error-text');
      const existing = err instanceof ApiError && err.code === 'DUPLICATE_RUN' && typeof err.extra.id === 'string' ? err.extra.id : null;
      if (existing) {
        status.replaceChildren('This run is already stored. ', h('a', { href: `#/runs/${encodeURIComponent(existing)}`, 'data-testid': 'duplicate-link' }, 'Open it →'));
      } else status.textContent = (err as Error).message;
    }
  };
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) void upload(file);
  });
  zone.querySelector('label')!.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void upload(file);
  });
  return h(
    'section',
    { class: 'card upload', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Add a run'),
    zone,
    h(
      'details',
      null,
      h('summary', null, 'Weather on the day (optional: sharpens the sweat estimates)'),
      h('div', { class: 'row2' }, h('div', null, h('label', { for: 'temp' }, `Air temperature (°${fahrenheit ? 'F' : 'C'})`), temp), h('div', null, h('label', { for: 'humidity' }, 'Humidity (%)'), humidity)),
    ),
  );
}
