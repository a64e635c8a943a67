/**
 * The profile page's "what the engine uses" card: each value the engine gets, and where it came from ("typed",
 * "learned from 14 runs since 12 Oct", "assumed"), with a button that analyses every stored run again with it.
 */
import type { Profile } from '../../../../../alerts/types.js';
import { api, type AthleteModelJson, type ReanalyzeJob } from '../api.js';
import { h, errorBox, statusLine } from '../dom.js';
import { formatPace } from '../format.js';

const ROWS: Array<[keyof Profile, string, (v: number) => string]> = [
  ['usualLongRunMin', 'Usual long run', (v) => `${Math.round(v)} min`],
  ['easyPaceMps', 'Easy pace', (v) => formatPace(1000 / v)],
  ['hrMax', 'Max heart rate', (v) => `${Math.round(v)} bpm`],
  ['lthr', 'Threshold heart rate', (v) => `${Math.round(v)} bpm`],
  ['thresholdPaceMps', 'Threshold pace', (v) => formatPace(1000 / v)],
  ['criticalSpeedMps', 'Critical speed', (v) => formatPace(1000 / v)],
  ['hrRest', 'Resting heart rate', (v) => `${Math.round(v)} bpm`],
  ['massKg', 'Weight', (v) => `${v} kg`],
  ['sweatRateMlPerH', 'Sweat rate', (v) => `${Math.round(v)} ml/h`],
];

function sourceText(s: AthleteModelJson['sources'][string] | undefined): string {
  if (!s) return 'assumed';
  return s.source === 'learned' ? s.note : s.source;
}

export function learnedCard(): HTMLElement {
  const body = h('div', null, statusLine('Loading what your runs taught…'));
  const card = h('section', { class: 'card', 'aria-labelledby': 'learned-title', 'data-testid': 'learned' }, h('h2', { id: 'learned-title' }, 'What the engine uses, and where it comes from'), body);
  void api.athleteModel().then(
    (m) => body.replaceChildren(table(m), h('p', { class: 'muted' }, `${m.model.runs} runs on record; model version ${m.model.version}.`), reanalyzeControl()),
    (err: unknown) => body.replaceChildren(errorBox((err as Error).message)),
  );
  return card;
}

function table(m: AthleteModelJson): HTMLElement {
  return h(
    'table',
    { class: 'sources' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Used'), h('th', { scope: 'col' }, 'Source'))),
    h(
      'tbody',
      null,
      ...ROWS.map(([key, label, show]) => {
        const v = m.profile[key];
        const source = sourceText(m.sources[key]);
        return h(
          'tr',
          { 'data-field': key },
          h('th', { scope: 'row' }, label),
          h('td', null, typeof v === 'number' ? show(v) : 'engine default'),
          h('td', { class: `source source-${m.sources[key]?.source ?? 'assumed'}` }, source),
        );
      }),
    ),
  );
}

/** "Analyse my runs again": starts the job and shows its progress until it ends. */
function reanalyzeControl(): HTMLElement {
  const status = statusLine();
  const button = h('button', { type: 'button', class: 'primary', 'data-testid': 'reanalyze' }, 'Analyse my runs again');
  const show = (job: ReanalyzeJob) => {
    if (job.status === 'running') status.textContent = `Analysing again… ${job.done} of ${job.total || '?'} runs`;
    else if (job.status === 'done') status.textContent = `Done: ${job.done} runs analysed again${job.failed ? ` (${job.failed} failed, their reports kept)` : ''}.`;
    else status.textContent = `Stopped: ${job.error ?? 'unknown error'}`;
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      let job = await api.reanalyze();
      show(job);
      while (job.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 500));
        job = await api.reanalyzeStatus(job.id);
        show(job);
      }
    } catch (err) {
      status.textContent = (err as Error).message;
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'actions' }, button, status, h('p', { class: 'muted' }, 'After you change your profile or your runs taught the engine something new, earlier runs can be analysed again with it.'));
}
