/** Sign in with a token, or create an athlete (the token is shown once, with a copy button). */
import { api, ApiError, session } from '../api.js';
import { h, errorBox } from '../dom.js';
import { navigate } from '../navigate.js';

function numberOrUndefined(value: FormDataEntryValue | null): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export async function renderSignIn(main: HTMLElement): Promise<void> {
  const signInError = h('div');
  const createError = h('div');

  const signIn = h(
    'form',
    { class: 'card', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste the token you were given when your athlete was created.'),
    h('label', { for: 'token' }, 'Token'),
    h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' }),
    signInError,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  signIn.addEventListener('submit', async (e) => {
    e.preventDefault();
    signInError.replaceChildren();
    const token = String(new FormData(signIn).get('token') ?? '').trim();
    session.set(token);
    try {
      await api.me();
      navigate('/runs');
    } catch (err) {
      session.clear();
      const message = err instanceof ApiError && err.status === 401 ? 'That token was not recognised.' : (err as Error).message;
      signInError.append(errorBox(message));
    }
  });

  const create = h(
    'form',
    { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'New athlete'),
    h('p', { class: 'muted' }, 'Only a name is needed. The rest sharpens the prompts; you can change it later in Profile.'),
    h('label', { for: 'name' }, 'Name'),
    h('input', { id: 'name', name: 'name', required: true, maxlength: 80, autocomplete: 'nickname' }),
    h(
      'div',
      { class: 'row3' },
      h('div', null, h('label', { for: 'massKg' }, 'Weight (kg)'), h('input', { id: 'massKg', name: 'massKg', type: 'number', min: 30, max: 200, step: '0.1', inputmode: 'decimal' })),
      h('div', null, h('label', { for: 'hrRest' }, 'Resting HR'), h('input', { id: 'hrRest', name: 'hrRest', type: 'number', min: 25, max: 120, inputmode: 'numeric' })),
      h('div', null, h('label', { for: 'hrMax' }, 'Max HR'), h('input', { id: 'hrMax', name: 'hrMax', type: 'number', min: 120, max: 230, inputmode: 'numeric' })),
    ),
    createError,
    h('button', { type: 'submit', class: 'primary' }, 'Create athlete'),
  );
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    createError.replaceChildren();
    const form = new FormData(create);
    const profile: Record<string, number> = {};
    for (const key of ['massKg', 'hrRest', 'hrMax']) {
      const v = numberOrUndefined(form.get(key));
      if (v !== undefined) profile[key] = v;
    }
    try {
      const { token } = await api.createAthlete(String(form.get('name') ?? '').trim(), Object.keys(profile).length ? profile : undefined);
      session.set(token);
      showToken(main, token);
    } catch (err) {
      createError.append(errorBox((err as Error).message));
    }
  });

  main.append(
    h(
      'section',
      { class: 'hero' },
      h('h1', null, 'Cramps are predictable. Mostly.'),
      h('p', null, 'crampguard reads your heart rate, pace and cadence as you run and tells you, in time, to ease off, breathe, drink or take salt.'),
    ),
    h('div', { class: 'grid2' }, signIn, create),
  );
}

function showToken(main: HTMLElement, token: string): void {
  const copied = h('span', { class: 'status', role: 'status' });
  main.replaceChildren(
    h(
      'section',
      { class: 'card narrow' },
      h('h1', null, 'Your athlete is ready'),
      h('p', null, 'This is your token. It is shown only this once: keep it somewhere safe, and use it to sign in on your watch companion and other devices.'),
      h('code', { class: 'token', 'data-testid': 'token' }, token),
      h(
        'div',
        { class: 'actions' },
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(token);
              copied.textContent = 'Copied.';
            } catch {
              copied.textContent = 'Copy it by hand: the browser would not let us.';
            }
          },
        }, 'Copy token'),
        h('button', { type: 'button', class: 'primary', onclick: () => navigate('/runs') }, 'Continue to my runs'),
        copied,
      ),
    ),
  );
}
