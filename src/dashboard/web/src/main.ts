/**
 * Entry point: a hash router (deep links work whatever the server does with unknown paths), the navigation,
 * and page lifecycles (each page may return a function that tears down its charts and sockets).
 */
import './style.css';
import { h, clear } from './dom.js';
import { session } from './api.js';
import { navigate, type Dispose } from './navigate.js';
import { renderSignIn } from './pages/signin.js';
import { renderRuns } from './pages/runs.js';
import { renderRun } from './pages/run.js';
import { renderLive } from './pages/live.js';
import { renderSimulator } from './pages/simulator.js';
import { renderJournal } from './pages/journal.js';
import { renderProfile } from './pages/profile.js';
import { renderTraining } from './pages/training.js';

export type Page = (main: HTMLElement, params: string[]) => void | Dispose | Promise<void | Dispose>;

interface Route {
  pattern: RegExp;
  page: Page;
  nav?: string;
  public?: boolean;
}

const routes: Route[] = [
  { pattern: /^\/signin$/, page: renderSignIn, public: true },
  { pattern: /^\/runs$/, page: renderRuns, nav: 'runs' },
  { pattern: /^\/runs\/([^/]+)$/, page: renderRun, nav: 'runs' },
  { pattern: /^\/live$/, page: renderLive, nav: 'live' },
  { pattern: /^\/live\/([^/]+)$/, page: renderLive, nav: 'live' },
  { pattern: /^\/simulator$/, page: renderSimulator, nav: 'simulator' },
  { pattern: /^\/simulator\/([^/]+)$/, page: renderSimulator, nav: 'simulator' },
  { pattern: /^\/journal$/, page: renderJournal, nav: 'journal' },
  { pattern: /^\/profile$/, page: renderProfile, nav: 'profile' },
  { pattern: /^\/training$/, page: renderTraining, nav: 'training' },
];

const NAV: [string, string][] = [
  ['runs', 'Runs'],
  ['live', 'Live'],
  ['simulator', 'Simulator'],
  ['journal', 'Cramp journal'],
  ['training', 'Training'],
  ['profile', 'Profile'],
];

let dispose: Dispose | null = null;
let generation = 0;

function renderNav(active: string | undefined, signedIn: boolean): void {
  const nav = document.getElementById('nav')!;
  clear(nav);
  if (!signedIn) return;
  const list = h('ul');
  for (const [id, label] of NAV) {
    list.append(h('li', null, h('a', { href: `#/${id}`, 'aria-current': id === active ? 'page' : null }, label)));
  }
  list.append(
    h(
      'li',
      null,
      h('button', {
        type: 'button',
        class: 'link',
        onclick: () => {
          session.clear();
          navigate('/signin');
        },
      }, 'Sign out'),
    ),
  );
  nav.append(list);
}

async function route(): Promise<void> {
  const path = location.hash.replace(/^#/, '') || '/runs';
  const main = document.getElementById('main')!;
  const mine = ++generation;
  dispose?.();
  dispose = null;
  let match: { route: Route; params: string[] } | null = null;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) {
      match = { route: r, params: m.slice(1).map(decodeURIComponent) };
      break;
    }
  }
  const signedIn = session.token() !== null;
  if (!match) {
    navigate(signedIn ? '/runs' : '/signin');
    return;
  }
  if (!match.route.public && !signedIn) {
    navigate('/signin');
    return;
  }
  renderNav(match.route.nav, signedIn);
  clear(main);
  const result = await match.route.page(main, match.params);
  if (mine !== generation) {
    // The user moved on while this page was loading.
    if (typeof result === 'function') result();
    return;
  }
  if (typeof result === 'function') dispose = result;
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => void route());
void route();
