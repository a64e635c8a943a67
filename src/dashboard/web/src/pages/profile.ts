/** The profile the engine uses: what the athlete told us, and beside each field the default it assumes. */
import { PROFILE_DEFAULTS, resolveProfile } from '../../../../../alerts/profile.js';
import type { Profile } from '../../../../../alerts/types.js';
import { api, type Athlete } from '../api.js';
import { h, errorBox, statusLine } from '../dom.js';
import { capitalize, formatPace } from '../format.js';
import { learnedCard } from './profile-learned.js';
import { getUnits, setUnits, type Units } from '../units.js';

interface Field {
  /** A field the athlete types (the wire profile: learned-only fields are not typed here). */
  key: keyof Athlete['profile'];
  label: string;
  unit: string;
  min: number;
  max: number;
  step: string;
  help: string;
}

const FIELDS: Field[] = [
  { key: 'massKg', label: 'Weight', unit: 'kg', min: 30, max: 200, step: '0.1', help: 'Scales sweat and sodium estimates.' },
  { key: 'hrRest', label: 'Resting heart rate', unit: 'bpm', min: 25, max: 120, step: '1', help: 'With max HR gives your heart-rate reserve, the effort scale.' },
  { key: 'hrMax', label: 'Max heart rate', unit: 'bpm', min: 120, max: 230, step: '1', help: 'Measured is better than estimated from age.' },
  { key: 'lthr', label: 'Threshold heart rate', unit: 'bpm', min: 100, max: 220, step: '1', help: 'The HR you can hold for about an hour racing.' },
  { key: 'age', label: 'Age', unit: 'years', min: 10, max: 100, step: '1', help: 'Used only to estimate max HR when you leave it empty.' },
  { key: 'usualLongRunMin', label: 'Usual long run', unit: 'min', min: 10, max: 600, step: '1', help: 'Cramps come most often beyond what you are used to.' },
  { key: 'sweatRateMlPerH', label: 'Sweat rate', unit: 'ml/h', min: 100, max: 4000, step: '10', help: 'From weighing yourself before and after a run.' },
  { key: 'sweatSodiumMmolPerL', label: 'Sweat sodium', unit: 'mmol/L', min: 5, max: 150, step: '1', help: 'From a sweat test; salty sweaters lose more.' },
];

export async function renderProfile(main: HTMLElement): Promise<void> {
  const status = statusLine('Loading your profile…');
  main.append(h('div', { class: 'page-head' }, h('h1', null, 'Profile')), status);
  let athlete: Athlete;
  try {
    athlete = await api.me();
  } catch (err) {
    status.replaceWith(errorBox((err as Error).message));
    return;
  }
  status.remove();
  const profile = athlete.profile ?? {};
  // The engine's own resolution (alerts/profile.ts), not a copy: what it would assume for this profile.
  const resolved = resolveProfile(profile, PROFILE_DEFAULTS);
  let assumed = assumptionsCard(profile);
  // What the engine assumes is judged on the profile it gets: typed values, then those learned from the runs.
  const showAssumed = (p: Profile): void => {
    const fresh = assumptionsCard(p);
    assumed.replaceWith(fresh);
    assumed = fresh;
  };
  const refreshAssumed = (): void => {
    void api.athleteModel().then((m) => showAssumed(m.profile), () => {});
  };
  const defaults: Partial<Record<keyof Profile, number>> = {
    massKg: resolved.massKg,
    hrMax: resolved.hrMax,
    hrRest: resolved.hrRest,
    lthr: resolved.lthr,
    usualLongRunMin: resolved.usualLongRunS / 60,
    sweatSodiumMmolPerL: resolved.sweatSodiumMmolPerL,
  };
  const saveStatus = statusLine();
  const form = h('form', { class: 'card profile', 'aria-describedby': 'profile-intro' });
  const fields = h('div', { class: 'fields' });
  form.append(
    h('p', { id: 'profile-intro', class: 'muted' }, `Signed in as ${athlete.name}. Everything is optional: where a field is empty the engine uses what it assumes.`),
    fields,
  );
  for (const f of FIELDS) {
    const value = profile[f.key];
    const fallback = defaults[f.key];
    fields.append(
      h(
        'div',
        { class: 'field' },
        h('label', { for: `p-${f.key}` }, f.label, h('small', null, ` (${f.unit})`)),
        h('input', { id: `p-${f.key}`, name: f.key, type: 'number', min: f.min, max: f.max, step: f.step, inputmode: 'decimal', value: typeof value === 'number' ? value : '', placeholder: fallback !== undefined ? `assumed ${fallback}` : '', 'aria-describedby': `h-${f.key}` }),
        h('small', { id: `h-${f.key}`, class: 'help' }, f.help, fallback !== undefined && value === undefined ? h('span', { class: 'assumed' }, ` Assumed: ${fallback} ${f.unit}.`) : null),
      ),
    );
  }
  const easy = typeof profile.easyPaceMps === 'number' ? formatPace(1000 / profile.easyPaceMps).replace(' /km', '') : '';
  fields.append(
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'p-easyPace' }, 'Easy pace', h('small', null, ' (min:s per km)')),
      h('input', { id: 'p-easyPace', name: 'easyPace', inputmode: 'numeric', pattern: '\\d{1,2}:[0-5]\\d', placeholder: 'e.g. 6:15', value: easy, 'aria-describedby': 'h-easyPace' }),
      h('small', { id: 'h-easyPace', class: 'help' }, 'Faster than this early in a run counts as a fast start.'),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'p-sex' }, 'Sex'),
      h('select', { id: 'p-sex', name: 'sex' }, h('option', { value: '' }, 'not said'), h('option', { value: 'female', selected: profile.sex === 'female' }, 'female'), h('option', { value: 'male', selected: profile.sex === 'male' }, 'male')),
      h('small', { class: 'help' }, 'Only refines the max-HR and sweat estimates.'),
    ),
  );
  form.append(
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save profile'), saveStatus),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const next: Record<string, unknown> = {};
    for (const f of FIELDS) {
      const raw = String(data.get(f.key) ?? '').trim();
      if (raw !== '') next[f.key] = Number(raw);
    }
    const pace = /^(\d{1,2}):([0-5]\d)$/.exec(String(data.get('easyPace') ?? '').trim());
    if (pace) next.easyPaceMps = Math.round((1000 / (Number(pace[1]) * 60 + Number(pace[2]))) * 1000) / 1000;
    const sex = String(data.get('sex') ?? '');
    if (sex === 'male' || sex === 'female') next.sex = sex;
    saveStatus.textContent = 'Saving…';
    try {
      const saved = await api.updateProfile(next as Profile);
      saveStatus.textContent = 'Saved. New runs and replays use it.';
      showAssumed(saved.profile ?? (next as Profile));
      refreshAssumed();
    } catch (err) {
      saveStatus.textContent = (err as Error).message;
    }
  });
  main.append(unitsCard(), learnedCard(), assumed, form);
  refreshAssumed();
}

/** Units for every page: kept in this browser (the server always speaks metres and °C). */
function unitsCard(): HTMLElement {
  const units = getUnits();
  const status = statusLine();
  const choice = (name: 'distance' | 'temperature', options: [string, string][]) =>
    h(
      'fieldset',
      { class: 'units-choice' },
      h('legend', null, name === 'distance' ? 'Distance and pace' : 'Temperature'),
      ...options.map(([value, label]) =>
        h(
          'label',
          { class: 'inline' },
          h('input', {
            type: 'radio',
            name: `units-${name}`,
            value,
            id: `units-${name}-${value}`,
            checked: units[name] === value,
            onchange: () => {
              const next: Units = { ...getUnits(), [name]: value } as Units;
              setUnits(next);
              status.textContent = 'Saved in this browser.';
            },
          }),
          ` ${label}`,
        ),
      ),
    );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'units-title', 'data-testid': 'units' },
    h('h2', { id: 'units-title' }, 'Units'),
    h('div', { class: 'row2' }, choice('distance', [['km', 'Kilometres (min/km)'], ['mi', 'Miles (min/mi)']]), choice('temperature', [['C', '°C'], ['F', '°F']])),
    status,
  );
}

function assumptionsCard(profile: Profile): HTMLElement {
  const notes = resolveProfile(profile, PROFILE_DEFAULTS).notes;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'assumed-title', 'data-testid': 'assumptions', 'aria-live': 'polite' },
    h('h2', { id: 'assumed-title' }, 'What the engine assumes'),
    notes.length ? h('ul', null, ...notes.map((n) => h('li', null, capitalize(n)))) : h('p', null, 'Nothing: your profile gives it everything it uses.'),
  );
}
