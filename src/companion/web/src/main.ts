/**
 * The phone companion: pairs a heart-rate strap and a foot pod over Web Bluetooth (or uses the phone's position),
 * streams the run with the project's WatchClient (over HTTP: no heartbeat to miss when the phone throttles the
 * page; every answer brings the prompts raised so far), keeps what is unsent in IndexedDB, and shows, vibrates
 * and speaks each prompt. Signed in with the athlete token, as the dashboard is (the same stored token).
 */
import type { Alert, Report } from '../../../../alerts/types.js';
import { api, ApiError, session } from '../../../dashboard/web/src/api.js';
import { errorBox, h } from '../../../dashboard/web/src/dom.js';
import { SampleRecorder } from '../../recorder.js';
import { WatchClient } from '../../../wire/client.js';
import type { StartRun, WireAlert, WireEvent, WireRisk } from '../../../wire/events.js';
import { bluetoothMissing, Sensor, type SensorKind, type SensorState } from './sensors.js';
import { pendingWriter, saved, type ActiveRun } from './store.js';

const app = document.getElementById('app')!;
const BATCH_SAMPLES = 10;
const MUSCLES = ['calf', 'hamstring', 'quad', 'foot', 'other'] as const;

// ------------------------------------------------------------------------------------------- page-wide state

/** Each sensor's state, shown in several places (the run screen's bar and its sensor list). */
const sensorText: Record<SensorKind, { text: string; state: SensorState }> = { hr: { text: 'not paired', state: 'unpaired' }, pod: { text: 'not paired', state: 'unpaired' } };
const sensorSpans: Record<SensorKind, HTMLElement[]> = { hr: [], pod: [] };
function sensorStatus(kind: SensorKind, testId = true): HTMLElement {
  const span = h('span', testId ? { 'data-testid': `${kind}-state` } : null, sensorText[kind].text);
  span.dataset.state = sensorText[kind].state;
  // Screens are rebuilt now and then: the few latest spans are the ones on screen.
  sensorSpans[kind] = [...sensorSpans[kind].slice(-5), span];
  return span;
}
let recorder: SampleRecorder | null = null;
let client: WatchClient | null = null;
let active: ActiveRun | null = null;
let geoWatch: number | null = null;
let wakeLock: { release(): Promise<void> } | null = null;
/** Stores what is unsent (and the second in progress) after every change: set while a run is open. */
let writer: ReturnType<typeof pendingWriter> | null = null;
const live = { hr: null as number | null, speed: null as number | null, distance: 0, t: 0 };

const sensors: Record<SensorKind, Sensor> = {
  hr: new Sensor('hr', handlers()),
  pod: new Sensor('pod', handlers()),
};
// For the browser tests (they reach the subscribed characteristics here) and for debugging on a phone.
(window as unknown as { crampguardCompanion: unknown }).crampguardCompanion = { sensors };

function handlers() {
  return {
    heartRate: (ms: number, m: Parameters<SampleRecorder['heartRate']>[1]) => {
      recorder?.heartRate(ms, m);
      writer?.changed();
      live.hr = m.sensorContact === 'no_contact' ? null : m.hr;
      renderStats();
    },
    footPod: (ms: number, m: Parameters<SampleRecorder['footPod']>[1]) => {
      recorder?.footPod(ms, m);
      writer?.changed();
      live.speed = m.speedMps;
      renderStats();
    },
    state: (kind: SensorKind, state: SensorState, detail: string) => {
      const words: Record<SensorState, string> = {
        unpaired: 'not paired',
        connecting: 'connecting…',
        connected: 'connected',
        reconnecting: 'reconnecting…',
        failed: 'failed',
      };
      sensorText[kind] = { text: `${words[state]}${detail ? ` (${detail})` : ''}`, state };
      for (const span of sensorSpans[kind]) {
        span.textContent = sensorText[kind].text;
        span.dataset.state = state;
      }
    },
    bad: (kind: SensorKind, code: string) => {
      note(`A ${sensors[kind].label} message could not be read (${code}); it was skipped.`);
    },
  };
}

// ------------------------------------------------------------------------------------------------- pieces

const noteLine = h('p', { class: 'note', role: 'status', 'aria-live': 'polite', 'data-testid': 'note' });
function note(text: string): void {
  noteLine.textContent = text;
}

const promptCard = h(
  'section',
  { class: 'prompt', 'aria-live': 'assertive', 'data-testid': 'prompt' },
  h('p', { class: 'prompt-message' }, 'No prompt yet.'),
  h('p', { class: 'prompt-why' }, 'Prompts appear here, are spoken and make the phone buzz.'),
);
const history = h('ol', { class: 'history', 'data-testid': 'prompts', reversed: true });
const gauge = h('meter', { min: 0, max: 100, low: 40, high: 70, optimum: 0, value: 0, 'data-testid': 'risk-meter' });
const gaugeValue = h('span', { class: 'gauge-value', 'data-testid': 'risk' }, '–');
const gaugeWhy = h('span', { class: 'gauge-why' }, '');
const stats = {
  time: h('span', { 'data-testid': 'time' }, '0:00'),
  hr: h('span', { 'data-testid': 'hr' }, '–'),
  pace: h('span', { 'data-testid': 'pace' }, '–'),
  distance: h('span', { 'data-testid': 'distance' }, '0.00'),
};
const linkState = h('span', { 'data-testid': 'link' }, '');
const unsent = h('span', { 'data-testid': 'unsent' }, '0');
const wakeState = h('span', { 'data-testid': 'wake' }, '');
const gpsState = h('span', { 'data-testid': 'gps', 'data-fixes': '0' }, 'off');
let fixes = 0;

function clock(t: number): string {
  const m = Math.floor(t / 60);
  const s = Math.floor(t % 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

function renderStats(): void {
  if (recorder) live.t = recorder.runSeconds(Date.now());
  stats.time.textContent = clock(live.t);
  stats.hr.textContent = live.hr === null ? '–' : String(Math.round(live.hr));
  stats.pace.textContent = live.speed && live.speed > 0.5 ? clock(1000 / live.speed) : '–';
  stats.distance.textContent = (live.distance / 1000).toFixed(2);
}

function renderLink(): void {
  if (!client) return;
  const connected = (client.socket as unknown as { connected: boolean }).connected;
  const n = client.backlog;
  linkState.textContent = connected ? 'online' : 'no network: keeping your data on this phone';
  linkState.dataset.state = connected ? 'online' : 'offline';
  unsent.textContent = String(n);
}

// ---------------------------------------------------------------------------------------------- prompts

function showPrompt(a: Alert | WireAlert, fresh: boolean): void {
  if (active && !active.alerts.some((x) => x.id === a.id)) {
    active.alerts.push(a);
    void saved.saveRun(active);
  }
  promptCard.dataset.kind = a.kind;
  promptCard.dataset.severity = a.severity;
  promptCard.replaceChildren(h('p', { class: 'prompt-message' }, a.message), h('p', { class: 'prompt-why' }, a.why), h('p', { class: 'prompt-time' }, `at ${clock(a.t)}`));
  history.prepend(h('li', { 'data-t': a.t, 'data-kind': a.kind, 'data-cause': a.cause, 'data-id': a.id }, h('b', null, a.message), ` · ${clock(a.t)} · `, a.why));
  if (!fresh) return;
  // Buzz and speak: the runner is not looking at the screen.
  navigator.vibrate?.(a.severity === 'urgent' ? [400, 150, 400, 150, 400] : [300, 150, 300]);
  if ('speechSynthesis' in window) {
    const u = new SpeechSynthesisUtterance(`${a.message}. ${a.why}`);
    u.rate = 1.05;
    speechSynthesis.speak(u);
  }
}

function showRisk(r: WireRisk): void {
  gauge.value = r.score;
  gaugeValue.textContent = String(Math.round(r.score));
  gaugeWhy.textContent = r.factors.length ? r.factors.slice(0, 2).join(', ').replaceAll('_', ' ') : '';
}

// ----------------------------------------------------------------------------------------------- the run

async function keepScreenOn(): Promise<void> {
  const wl = (navigator as unknown as { wakeLock?: { request(kind: 'screen'): Promise<{ release(): Promise<void> }> } }).wakeLock;
  if (!wl) {
    wakeState.textContent = 'This browser cannot keep the screen on: set the screen timeout long, or the run stops when it locks.';
    return;
  }
  try {
    wakeLock = await wl.request('screen');
    wakeState.textContent = 'Screen kept on.';
  } catch (err) {
    wakeState.textContent = `The screen may lock (${(err as Error).message}): a locked phone stops this page.`;
  }
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && active) void keepScreenOn();
});

function watchPosition(): void {
  if (!('geolocation' in navigator) || geoWatch !== null) return;
  geoWatch = navigator.geolocation.watchPosition(
    (pos) => {
      fixes++;
      gpsState.dataset.fixes = String(fixes);
      gpsState.textContent = `±${Math.round(pos.coords.accuracy)} m`;
      recorder?.position(Date.now(), {
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracyM: pos.coords.accuracy,
        altitudeM: pos.coords.altitude,
      });
      writer?.changed();
      if (sensors.pod.state !== 'connected' && pos.coords.speed !== null) live.speed = pos.coords.speed;
    },
    // An error between fixes happens (Chromium sends one when the position changes); keep watching.
    (err) => {
      if (err.code === err.PERMISSION_DENIED) note('Location is blocked: without a foot pod there is no pace or distance.');
    },
    { enableHighAccuracy: true, maximumAge: 0, timeout: 30_000 },
  );
}

function now(): number {
  return Date.now();
}

function t(): number {
  return recorder ? recorder.runSeconds(now()) : 0;
}

function addEvent(event: WireEvent, label: string): void {
  if (!client || !active) return;
  // Ids chosen here, unique per run and kept by the outbox across a reload: a resend changes nothing.
  client.addEvent(event, `${event.type}-${now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  note(`${label} logged at ${clock(event.t)}.`);
}

async function openRun(run: ActiveRun, restore: Awaited<ReturnType<typeof saved.pending>>): Promise<void> {
  active = run;
  live.distance = 0;
  const token = session.token();
  if (!token) throw new ApiError(401, 'UNAUTHENTICATED', 'sign in first');
  // Prompts announced before a reload are listed again at once (the network may be gone), quietly.
  const announced = new Set(run.alerts.map((a) => a.id));
  const listed = new Set<string>();
  history.replaceChildren();
  for (const a of run.alerts) {
    listed.add(a.id);
    showPrompt(a, false);
  }
  client = new WatchClient({
    url: location.origin,
    token,
    transport: 'http',
    batchSize: BATCH_SAMPLES,
    ackTimeoutMs: 15_000,
    reconnectDelayMs: 1000,
    reconnectDelayMaxMs: 10_000,
    ...(restore ? { restore } : {}),
    onPendingChange: () => {
      writer?.changed();
      renderLink();
    },
    onAlert: (a) => {
      if (listed.has(a.id)) return;
      listed.add(a.id);
      showPrompt(a, !announced.has(a.id));
    },
    onRisk: (r) => showRisk(r),
    onRejected: (what, e) => note(`The server refused ${what}: ${e.message}`),
  });
  const c = client;
  writer = pendingWriter(() => {
    const p = c.pending();
    const r = recorder?.persist();
    // The second in progress is stored as a sample too, so a reload mid-second loses nothing.
    return { ...p, buffer: r?.partial ? [...p.buffer, r.partial] : p.buffer, ...(r ? { recorder: r.state } : {}) };
  });
  const link = c.socket as unknown as { on(ev: string, fn: () => void): void };
  link.on('connect', renderLink);
  link.on('disconnect', renderLink);
  recorder = new SampleRecorder(
    run.start.startTime,
    (s) => {
      c.addSample(s);
      if (typeof s.distance === 'number') live.distance = s.distance;
      renderStats();
    },
    'steps',
    restore?.recorder,
  );
  renderRunScreen();
  watchPosition();
  void keepScreenOn();
  writer.changed();
  const ack = await c.start(run.start);
  run.id = ack.id;
  await saved.saveRun(run);
  renderLink();
}

async function startRun(form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const temp = Number(data.get('tempC'));
  const humidity = Number(data.get('humidity'));
  const startTime = now();
  const start: StartRun & { startTime: number } = {
    runId: `phone-${startTime.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    startTime,
  };
  if (String(data.get('tempC') ?? '') !== '' && Number.isFinite(temp)) {
    start.conditions = { tempC: temp, ...(String(data.get('humidity') ?? '') !== '' && Number.isFinite(humidity) ? { humidity } : {}) };
  }
  const run: ActiveRun = { start, id: null, alerts: [], paused: false, laps: 0 };
  await saved.saveRun(run);
  await saved.savePending({ nextSeq: 1, items: [], buffer: [] });
  await openRun(run, null);
}

async function endRun(): Promise<void> {
  if (!client || !recorder || !active) return;
  const c = client;
  recorder.finish();
  note('Ending: sending what is left (without a network it waits, and finishes by itself when one is back)…');
  let report: Report;
  try {
    report = await c.end();
  } catch (err) {
    note(`Could not end the run yet (${(err as Error).message}); your data is kept, try again.`);
    return;
  }
  if (geoWatch !== null) navigator.geolocation.clearWatch(geoWatch);
  geoWatch = null;
  await wakeLock?.release().catch(() => {});
  wakeLock = null;
  const id = active.id;
  c.close();
  await writer?.flushed();
  writer = null;
  client = null;
  recorder = null;
  active = null;
  await saved.clear();
  renderDone(report, id);
}

// ---------------------------------------------------------------------------------------------- screens

function limitsCard(): HTMLElement {
  return h(
    'details',
    { class: 'card limits', 'data-testid': 'limits' },
    h('summary', null, 'What this web app cannot do'),
    h(
      'ul',
      null,
      h('li', null, h('b', null, 'iPhone: no Bluetooth. '), 'Safari and every iOS browser lack Web Bluetooth. On an iPhone, use a watch that streams to crampguard, or this page with the phone’s position only (pace and distance, no heart rate).'),
      h('li', null, h('b', null, 'A locked phone stops the page. '), 'The screen is kept on while the run is open; if the phone locks anyway or you switch apps, recording pauses until you come back (what was recorded is kept). For runs with the phone in a pocket, a watch app is the better tool.'),
      h('li', null, h('b', null, 'Sensors pair per visit. '), 'After a reload, tap the sensor buttons again; the run itself resumes where it was.'),
      h('li', null, h('b', null, 'Needs https. '), 'Bluetooth, location and installing work only over https (or on localhost).'),
    ),
  );
}

function sensorRow(kind: SensorKind): HTMLElement {
  const s = sensors[kind];
  return h(
    'div',
    { class: 'sensor' },
    h(
      'button',
      {
        type: 'button',
        class: 'big',
        'data-testid': `pair-${kind}`,
        onclick: async () => {
          try {
            await s.pair();
          } catch (err) {
            note(`The ${s.label} did not connect: ${(err as Error).message}`);
          }
        },
      },
      kind === 'hr' ? 'Pair heart-rate strap' : 'Pair foot pod',
    ),
    sensorStatus(kind),
  );
}

function renderSignIn(message?: string): void {
  const error = h('div');
  if (message) error.append(errorBox(message));
  const form = h(
    'form',
    { class: 'card' },
    h('h1', null, 'crampguard on the run'),
    h('p', null, 'Sign in with your athlete token (from the dashboard).'),
    h('label', { for: 'token' }, 'Token'),
    h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' }),
    error,
    h('button', { type: 'submit', class: 'big primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    session.set(String(new FormData(form).get('token') ?? '').trim());
    try {
      await api.me();
      await boot();
    } catch (err) {
      session.clear();
      renderSignIn(err instanceof ApiError && err.status === 401 ? 'That token was not recognised.' : (err as Error).message);
    }
  });
  app.replaceChildren(form, limitsCard());
}

function renderSetup(): void {
  const missing = bluetoothMissing();
  const form = h(
    'form',
    { class: 'card' },
    h('h1', null, 'Ready to run'),
    missing ? h('p', { class: 'warn', 'data-testid': 'no-bluetooth' }, missing) : null,
    missing ? null : sensorRow('hr'),
    missing ? null : sensorRow('pod'),
    h('p', { class: 'muted small' }, 'No foot pod? Pace and distance come from the phone’s position.'),
    h(
      'div',
      { class: 'row2' },
      h('div', null, h('label', { for: 'tempC' }, 'Air temperature °C'), h('input', { id: 'tempC', name: 'tempC', type: 'number', min: -30, max: 50, step: '1', inputmode: 'numeric' })),
      h('div', null, h('label', { for: 'humidity' }, 'Humidity %'), h('input', { id: 'humidity', name: 'humidity', type: 'number', min: 0, max: 100, step: '1', inputmode: 'numeric' })),
    ),
    h('button', { type: 'submit', class: 'big primary', 'data-testid': 'start' }, 'Start run'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await startRun(form);
    } catch (err) {
      note(`Could not start: ${(err as Error).message}`);
    }
  });
  app.replaceChildren(form, noteLine, limitsCard(), installButton);
}

function renderRunScreen(): void {
  let endArmed = false;
  const pause = h('button', { type: 'button', class: 'tap', 'data-testid': 'pause' }, active?.paused ? 'Resume' : 'Pause');
  pause.addEventListener('click', () => {
    if (!active) return;
    active.paused = !active.paused;
    addEvent({ type: active.paused ? 'pause' : 'resume', t: t() }, active.paused ? 'Pause' : 'Resume');
    pause.textContent = active.paused ? 'Resume' : 'Pause';
    void saved.saveRun(active);
  });
  const muscles = h(
    'div',
    { class: 'muscles', hidden: true, 'data-testid': 'muscles' },
    ...MUSCLES.map((m) =>
      h(
        'button',
        {
          type: 'button',
          class: 'tap',
          'data-testid': `cramp-${m}`,
          onclick: () => {
            addEvent({ type: 'cramp', t: t(), muscle: m, severity: 3 }, `Cramp (${m})`);
            muscles.hidden = true;
          },
        },
        m,
      ),
    ),
  );
  const end = h('button', { type: 'button', class: 'tap end', 'data-testid': 'end' }, 'End run');
  end.addEventListener('click', () => {
    // Two taps, so a pocket cannot end the run.
    if (!endArmed) {
      endArmed = true;
      end.textContent = 'Tap again to end';
      setTimeout(() => {
        endArmed = false;
        end.textContent = 'End run';
      }, 4000);
      return;
    }
    void endRun();
  });
  const drink = (ml: number) => h('button', { type: 'button', class: 'tap', 'data-testid': `drink-${ml}`, onclick: () => addEvent({ type: 'drink', t: t(), ml }, `Drink ${ml} ml`) }, `Drink ${ml} ml`);
  app.replaceChildren(
    h(
      'header',
      { class: 'bar' },
      h('span', null, 'Link: ', linkState),
      h('span', null, 'Unsent: ', unsent),
      h('span', null, 'HR: ', sensorStatus('hr', false)),
      h('span', null, 'Pod: ', sensorStatus('pod', false)),
      h('span', null, 'GPS: ', gpsState),
    ),
    promptCard,
    h('section', { class: 'gauge', 'aria-label': 'Cramp risk' }, h('span', null, 'Risk'), gauge, gaugeValue, gaugeWhy),
    h(
      'section',
      { class: 'stats' },
      h('div', null, stats.time, h('small', null, 'time')),
      h('div', null, stats.hr, h('small', null, 'bpm')),
      h('div', null, stats.pace, h('small', null, 'min/km')),
      h('div', null, stats.distance, h('small', null, 'km')),
    ),
    noteLine,
    h(
      'section',
      { class: 'taps', 'aria-label': 'Log' },
      drink(150),
      drink(250),
      drink(500),
      h('button', { type: 'button', class: 'tap', 'data-testid': 'gel', onclick: () => addEvent({ type: 'gel', t: t(), carbsG: 25, sodiumMg: 50 }, 'Gel') }, 'Gel'),
      h('button', { type: 'button', class: 'tap', 'data-testid': 'electrolyte', onclick: () => addEvent({ type: 'electrolyte', t: t(), sodiumMg: 300 }, 'Electrolytes (300 mg sodium)') }, 'Salt 300 mg'),
      h('button', { type: 'button', class: 'tap cramp', 'data-testid': 'cramp', onclick: () => (muscles.hidden = !muscles.hidden) }, 'Cramp…'),
      h('button', { type: 'button', class: 'tap', 'data-testid': 'lap', onclick: () => addEvent({ type: 'lap', t: t() }, 'Lap') }, 'Lap'),
      pause,
      end,
    ),
    muscles,
    h('details', { class: 'card' }, h('summary', null, 'Prompts so far'), history),
    // Open while a sensor is not connected (after a reload they must be paired again: a tap each).
    h(
      'details',
      { class: 'card', open: !bluetoothMissing() && (sensors.hr.state !== 'connected' || sensors.pod.state !== 'connected'), 'data-testid': 'sensors' },
      h('summary', null, 'Sensors'),
      bluetoothMissing() ? h('p', null, bluetoothMissing()) : null,
      bluetoothMissing() ? null : sensorRow('hr'),
      bluetoothMissing() ? null : sensorRow('pod'),
      wakeState,
    ),
    limitsCard(),
  );
}

function renderDone(report: Report, id: string | null): void {
  app.replaceChildren(
    h(
      'section',
      { class: 'card', 'data-testid': 'done' },
      h('h1', null, 'Run saved'),
      h('p', null, `${report.alerts.length} prompt${report.alerts.length === 1 ? '' : 's'} in this run.`),
      id ? h('p', null, h('a', { href: `../#/runs/${encodeURIComponent(id)}` }, 'See it on the dashboard')) : null,
      h('button', { type: 'button', class: 'big primary', onclick: () => renderSetup() }, 'New run'),
    ),
    h('details', { class: 'card', open: true }, h('summary', null, 'Prompts'), history),
  );
}

// ------------------------------------------------------------------------------------------- installable

const installButton = h('button', { type: 'button', class: 'big', hidden: true }, 'Install on this phone');
let installPrompt: (Event & { prompt(): Promise<void> }) | null = null;
window.addEventListener('beforeinstallprompt', (e) => {
  e.preventDefault();
  installPrompt = e as Event & { prompt(): Promise<void> };
  installButton.hidden = false;
});
installButton.addEventListener('click', () => {
  void installPrompt?.prompt();
  installButton.hidden = true;
});
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').catch(() => {
    // Not installable here (plain http on a LAN address): the page still works while online.
  });
}

// The page is going away (reload, tab closed, the phone killing it): one more write of what is unsent.
window.addEventListener('pagehide', () => writer?.changed());

// --------------------------------------------------------------------------------------------------- boot

async function boot(): Promise<void> {
  if (!session.token()) return renderSignIn();
  const run = await saved.run().catch(() => null);
  if (run) {
    // A run was open when the page went away (reload, crash, the phone killed the tab): carry on with it.
    note('Resuming your run: tap the sensor buttons to reconnect them.');
    const pending = await saved.pending().catch(() => null);
    try {
      await openRun(run, pending);
    } catch (err) {
      if (err instanceof ApiError || (err as { code?: string }).code === 'BAD_TOKEN') return renderSignIn((err as Error).message);
      note(`Resuming failed: ${(err as Error).message}`);
    }
    return;
  }
  renderSetup();
}

void boot();
