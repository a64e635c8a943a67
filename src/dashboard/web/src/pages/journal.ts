/** The cramp journal: each cramp with the context the engine recorded, and what they have in common. */
import { JOURNAL_DEFAULTS, personalThresholds } from '../../../../../alerts/journal.js';
import type { CrampContext } from '../../../../../alerts/types.js';
import { api, type CrampEntry, type RunSummary } from '../api.js';
import { h, append, errorBox, statusLine } from '../dom.js';
import { formatDate, formatDuration, formatNumber } from '../format.js';

const CONTEXT_LABELS: Record<string, [string, string, number]> = {
  shareOfUsualLongRun: ['of usual long run', '%', 0],
  decouplingPct: ['decoupling', '%', 1],
  cadenceChangePct: ['cadence change', '%', 1],
  fluidDeficitMl: ['fluid deficit', 'ml', 0],
  sodiumDeficitMg: ['sodium deficit', 'mg', 0],
  temperatureC: ['air', '°C', 0],
  intensity: ['of HR reserve', '%', 0],
};

function contextChips(context: Record<string, unknown> | undefined): HTMLElement | null {
  if (!context) return null;
  const chips: HTMLElement[] = [];
  for (const [key, [label, unit, digits]] of Object.entries(CONTEXT_LABELS)) {
    const v = context[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const shown = unit === '%' && (key === 'shareOfUsualLongRun' || key === 'intensity') ? v * 100 : v;
    chips.push(h('li', null, `${formatNumber(shown, digits)}${unit === '%' ? '%' : ` ${unit}`} ${label}`));
  }
  return chips.length ? h('ul', { class: 'chips' }, ...chips) : null;
}

export async function renderJournal(main: HTMLElement): Promise<void> {
  const status = statusLine('Loading your journal…');
  const listHolder = h('div');
  const commonHolder = h('div');
  const runs = await api.listRuns('ended').catch(() => [] as RunSummary[]);
  main.append(h('div', { class: 'page-head' }, h('h1', null, 'Cramp journal')), status, commonHolder, addForm(runs, () => void load()), listHolder);

  async function load(): Promise<void> {
    let entries: CrampEntry[];
    try {
      entries = await api.listCramps();
    } catch (err) {
      status.replaceChildren(errorBox((err as Error).message));
      return;
    }
    status.textContent = '';
    commonHolder.replaceChildren(commonCard(entries));
    if (entries.length === 0) {
      listHolder.replaceChildren(h('div', { class: 'empty' }, h('h2', null, 'No cramps logged'), h('p', null, 'Good. When one happens, tap Cramp on your watch or add it here: your own cramps are the best predictor there is, and the engine learns from them.')));
      return;
    }
    listHolder.replaceChildren(
      h(
        'ol',
        { class: 'journal', 'data-testid': 'journal' },
        ...entries.map((e) =>
          h(
            'li',
            { class: 'card' },
            h('strong', null, e.muscle ?? 'Cramp'),
            e.severity !== undefined ? h('span', { class: 'muted' }, ` · severity ${e.severity}/5`) : null,
            h('div', { class: 'muted small' }, formatDate(e.createdAt), e.runId ? h('a', { href: `#/runs/${encodeURIComponent(e.runId)}` }, ` in a run at ${formatDuration(e.t ?? null)}`) : null),
            e.note ? h('p', null, e.note) : null,
            contextChips(e.context),
          ),
        ),
      ),
    );
  }
  await load();
}

/**
 * What the cramps have in common, in the engine's own words (alerts/journal.ts): the same sentence and personal
 * thresholds the engine derives from these contexts when it analyses a run.
 */
function commonCard(entries: CrampEntry[]): HTMLElement {
  const contexts: CrampContext[] = entries.map((e) => ({ ...(e.context as Partial<CrampContext>), t: typeof e.context.t === 'number' ? e.context.t : (e.t ?? Number.NaN) }));
  const personal = personalThresholds(contexts, JOURNAL_DEFAULTS);
  const card = h('section', { class: 'card common', 'aria-labelledby': 'common-title', 'data-testid': 'journal-common' }, h('h2', { id: 'common-title' }, 'What your cramps have in common'));
  if (!personal.sentence) {
    const needed = JOURNAL_DEFAULTS.minCramps - entries.length;
    card.append(h('p', { class: 'muted' }, `After ${needed} more cramp${needed === 1 ? '' : 's'} logged in runs, the engine starts to look for a pattern and to warn you earlier where your cramps came.`));
    return card;
  }
  const lines: string[] = [];
  if (Number.isFinite(personal.driftPct)) lines.push(`Drift prompts from ${formatNumber(personal.driftPct, 1)}% decoupling`);
  if (Number.isFinite(personal.cadenceDropPct)) lines.push(`Cadence prompts from a ${formatNumber(personal.cadenceDropPct, 1)}% drop`);
  if (Number.isFinite(personal.lateShare)) lines.push(`"Late in the run" from ${formatNumber(personal.lateShare * 100)}% of your usual long run`);
  if (Number.isFinite(personal.sodiumMg)) lines.push(`Electrolyte prompts from ${formatNumber(personal.sodiumMg)} mg sodium lost`);
  append(
    card,
    h('p', { class: 'common-sentence' }, personal.sentence.charAt(0).toUpperCase() + personal.sentence.slice(1) + '.'),
    lines.length ? h('p', { class: 'muted' }, 'So the engine now warns earlier for you:') : null,
    lines.length ? h('ul', null, ...lines.map((l) => h('li', null, l))) : null,
  );
  return card;
}

function addForm(runs: RunSummary[], onAdded: () => void): HTMLElement {
  const status = statusLine();
  const runSelect = h(
    'select',
    { id: 'c-run', name: 'runId' },
    h('option', { value: '' }, 'Not in a recorded run'),
    ...runs.map((r) => h('option', { value: r.id }, `${formatDate(r.startTime)} · ${formatDuration(r.durationS)}`)),
  );
  const minute = h('input', { id: 'c-minute', name: 'minute', type: 'number', min: 0, step: '0.5', inputmode: 'decimal', disabled: true, placeholder: 'e.g. 95' });
  runSelect.addEventListener('change', () => {
    minute.disabled = runSelect.value === '';
  });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'add-cramp' },
    h('h2', { id: 'add-cramp' }, 'Log a cramp'),
    h(
      'div',
      { class: 'row2' },
      h('div', null, h('label', { for: 'c-muscle' }, 'Muscle'), h('select', { id: 'c-muscle', name: 'muscle' }, ...['calf', 'hamstring', 'quadriceps', 'foot', 'other'].map((m) => h('option', { value: m }, m)))),
      h('div', null, h('label', { for: 'c-severity' }, 'Severity (1–5)'), h('input', { id: 'c-severity', name: 'severity', type: 'number', min: 1, max: 5, value: 3 })),
    ),
    h(
      'div',
      { class: 'row2' },
      h('div', null, h('label', { for: 'c-run' }, 'During'), runSelect),
      h('div', null, h('label', { for: 'c-minute' }, 'Minutes into the run'), minute),
    ),
    h('p', { class: 'help' }, 'In a recorded run, the server keeps what the engine saw at that moment (drift, cadence, fluid and sodium deficit), and the engine learns from it.'),
    h('label', { for: 'c-note' }, 'Note'),
    h('textarea', { id: 'c-note', name: 'note', rows: 2, maxlength: 500, placeholder: 'e.g. last 5 km of the half, hot, skipped the second gel' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add to journal'), status),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      const runId = String(data.get('runId') ?? '');
      const minutes = Number(data.get('minute'));
      await api.addCramp({
        ...(runId ? { runId } : {}),
        ...(runId && data.get('minute') !== '' && Number.isFinite(minutes) ? { t: minutes * 60 } : {}),
        muscle: String(data.get('muscle')),
        severity: Number(data.get('severity')),
        note: String(data.get('note') ?? ''),
      });
      status.textContent = 'Added.';
      form.reset();
      minute.disabled = true;
      onAdded();
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  });
  return form;
}
