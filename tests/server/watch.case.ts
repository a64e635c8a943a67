// The watch protocol against a real server (random port, temporary store), over either transport: the /watch
// socket.io namespace (socket.io-client) or POST /api/watch/... (fetch), behind the small driver below so that the
// same cases run on both; run for each store backend by watch.sqlite.test.ts and watch.postgres.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import type { EngineOptions } from '../../alerts/types.js';
import { decodeFit } from '../../ingest/fit.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { emptySample, readRow } from '../../ingest/sample.js';
import { toWireSample, WatchClient } from '../../src/wire/client.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/wire/events.js';
import { replayRun } from '../../src/wire/replay.js';
import { alertKey, api, newAthlete, startTestServer, type Backend, type TestServer } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const scenario = (name: string) => join(ROOT, 'fixtures', 'scenarios', `${name}.fit`);
const PROFILE = { massKg: 68, hrRest: 50, hrMax: 188 };
const HOT = { tempC: 28, humidity: 60 };

type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

async function expected(file: string, options: EngineOptions): Promise<{ run: NormalizedRun; keys: string[] }> {
  const run = await decodeFit(readFileSync(file));
  return { run, keys: analyzeRun(run, options).alerts.map(alertKey) };
}

function rawSocket(url: string, token: string | undefined, transports: string[] = ['websocket']): RawSocket {
  return io(`${url}/watch`, { transports, ...(token ? { auth: { token } } : {}), reconnection: false, forceNew: true });
}

function connected(s: RawSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
}

type Transport = 'websocket' | 'http';

/** A watch's raw connection on one transport: one message, its ack. */
interface RawLink {
  send(event: 'start' | 'samples' | 'event' | 'end', msg: unknown): Promise<any>;
  /** Still usable (a socket stays connected through bad messages; HTTP has nothing to lose). */
  readonly connected: boolean;
  /** Socket only: a message sent without asking for an ack. */
  fireAndForget?(event: string, msg: unknown): void;
  close(): void;
}

async function rawLink(transport: Transport, url: string, token: string): Promise<RawLink> {
  if (transport === 'websocket') {
    const s = rawSocket(url, token);
    await connected(s);
    return {
      send: (event, msg) => (s.emitWithAck as (ev: string, m: unknown) => Promise<unknown>)(event, msg),
      get connected() {
        return s.connected;
      },
      fireAndForget: (event, msg) => (s as unknown as { emit(ev: string, m: unknown): void }).emit(event, msg),
      close: () => s.close(),
    };
  }
  return {
    async send(event, msg) {
      const res = await fetch(`${url}/api/watch/${event}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(msg),
      });
      const body = (await res.json()) as { ok?: boolean; error?: { code: string } };
      // The HTTP status says what the ack says.
      expect(res.status === 200).toBe(body.ok === true);
      return body;
    },
    connected: true,
    close: () => {},
  };
}

/** The code a watch without a (valid) token is refused with, on the transport. */
async function refusal(transport: Transport, url: string, token: string | undefined): Promise<string> {
  if (transport === 'websocket') {
    const s = rawSocket(url, token);
    try {
      await connected(s);
      return 'connected';
    } catch (err) {
      return (err as { data?: { code?: string } }).data?.code ?? 'refused';
    } finally {
      s.close();
    }
  }
  const res = await fetch(`${url}/api/watch/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ runId: 'r', startTime: Date.now() }),
  });
  expect(res.status).toBe(401);
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/**
 * `uploadLoad: false` leaves out the upload-concurrency test, which exercises the worker pool, not the store.
 * `transport` is how the watches speak to the server (dashboards follow through the socket either way).
 */
export function runWatchSuite(
  backend: Backend,
  { uploadLoad = true, transport = 'websocket' }: { uploadLoad?: boolean; transport?: Transport } = {},
): void {
const T = { transport };
const where = transport === 'http' ? 'POST /api/watch' : '/watch';
describe.skipIf(backend.skip !== null)(`watch protocol (${where}) on ${backend.name}`, () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    // No per-minute HTTP limits: the suite's own requests from 127.0.0.1 would reach them within a minute on a fast
    // machine and not on a slow one (the limiter has its own tests: tests/reliability/http-hostile.test.ts). The
    // watch budgets this suite tests (messages, samples, connections) stay on.
    server = await startTestServer(backend, { RATE_LIMIT_ADDRESS_PER_MIN: '0', RATE_LIMIT_TOKEN_PER_MIN: '0' });
    token = (await newAthlete(server.url, 'Watcher')).token;
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('a replayed run raises the alerts `analyze` raises, and ends with the same report', async () => {
    // A fresh athlete: the athlete model learns from earlier runs, and `analyze` here knows none.
    const { token } = await newAthlete(server.url, 'Fresh');
    const options = { profile: PROFILE, conditions: HOT };
    const { run, keys } = await expected(scenario('hot-long-drift'), options);
    expect(keys.length).toBeGreaterThan(3);
    const arrived: string[] = [];
    const result = await replayRun(run, { ...T, url: server.url, token, profile: PROFILE, conditions: HOT, onAlert: (a) => arrived.push(alertKey(a)) });
    expect(arrived).toEqual(keys);
    expect(result.report.alerts.map(alertKey)).toEqual(keys);
    // The run is listed once it ends, with the same report, and all of its samples, once each.
    const got = await api(server.url, 'GET', `/api/runs/${result.id}`, { token });
    expect(got.body.status).toBe('ended');
    expect(got.body.report.alerts.map(alertKey)).toEqual(keys);
    const samples = await api(server.url, 'GET', `/api/runs/${result.id}/samples?fields=t`, { token });
    expect(samples.body.columns.t).toEqual(Array.from(run.samples.t));
    const list = await api(server.url, 'GET', '/api/runs', { token });
    expect(list.body.runs.find((r: { id: string }) => r.id === result.id)).toMatchObject({ source: 'live', status: 'ended' });
  });

  it('events (pauses) go through the same path: a run with a pause matches `analyze` too', async () => {
    // A fresh athlete: the athlete model learns from earlier runs, and `analyze` here knows none.
    const { token } = await newAthlete(server.url, 'Fresh');
    const options = { profile: PROFILE, conditions: { tempC: 16, humidity: 50 } };
    const { run, keys } = await expected(scenario('pause-mid-run'), options);
    expect(run.events.some((e) => e.type === 'pause')).toBe(true);
    const result = await replayRun(run, { ...T, url: server.url, token, profile: PROFILE, conditions: options.conditions });
    expect(result.alerts.map(alertKey)).toEqual(keys);
    expect(result.report.alerts.map(alertKey)).toEqual(keys);
    // The run API shows the watch's events, and the pause and laps they make, as the file has them.
    const got = await api(server.url, 'GET', `/api/runs/${result.id}`, { token });
    const byTime = (xs: readonly { t: number; type: string }[]) => [...xs].sort((a, b) => a.t - b.t || a.type.localeCompare(b.type));
    expect(byTime(got.body.events)).toEqual(byTime(run.events));
    expect(got.body.pauses).toEqual(run.meta.pauses);
    expect(got.body.laps.map((l: { endT: number }) => l.endT).slice(0, -1)).toEqual(run.meta.laps.map((l) => l.endT).slice(0, -1));
  });

  it('a multisport file replays to the alerts `analyze` gives: its running legs, told as running', async () => {
    // A fresh athlete: the athlete model learns from earlier runs, and `analyze` here knows none.
    const { token } = await newAthlete(server.url, 'Fresh');
    const file = join(ROOT, 'fixtures/fit/dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit');
    const { run, keys } = await expected(file, {});
    expect(keys.length).toBeGreaterThan(0);
    const result = await replayRun(run, { ...T, url: server.url, token });
    expect(result.alerts.map(alertKey)).toEqual(keys);
  });

  it('a replay of an uploaded run is analysed with the settings its report used, though the model learned from it since', async () => {
    const { token } = await newAthlete(server.url, 'Replayer');
    const file = join(ROOT, 'fixtures/fit/roznet__FitFileParser/running.fit');
    const upload = await api(server.url, 'POST', '/api/runs?temp=29&humidity=70', { token, body: readFileSync(file), headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    const stored = await api(server.url, 'GET', `/api/runs/${upload.body.id}`, { token });
    const report = stored.body.report as { alerts: { t: number; kind: string; cause: string }[]; athleteModel: { key: string } };
    expect(report.alerts.length).toBeGreaterThan(0);
    // The upload taught the model, so a new run would now get another model stamp (and, here, other prompts);
    // the replay (same start instant) gets the report's own.
    const { run } = await expected(file, {});
    const result = await replayRun(run, { ...T, url: server.url, token, conditions: { tempC: 29, humidity: 70 } });
    expect((result.client.run?.settings as { athleteModel?: { key: string } }).athleteModel?.key).toBe(report.athleteModel.key);
    expect(result.alerts.map(alertKey)).toEqual(report.alerts.map(alertKey));
    expect(result.report.alerts.map(alertKey)).toEqual(report.alerts.map(alertKey));
  });

  it('a replay hands each stretch it sent to onSamples, and one stopped on its signal ends the run with what was sent', async () => {
    const { token } = await newAthlete(server.url, 'Stopped');
    const run = await decodeFit(readFileSync(scenario('hot-long-drift')));
    const stopping = new AbortController();
    const handed: number[] = [];
    const result = await replayRun(run, {
      ...T,
      url: server.url,
      token,
      batchSize: 100,
      maxBacklog: 1,
      signal: stopping.signal,
      onSamples: (sent) => {
        handed.push(...sent.map((s) => s.t));
        if (handed.length >= 1000) stopping.abort();
      },
    });
    expect(handed.length).toBeGreaterThanOrEqual(1000);
    expect(handed.length).toBeLessThan(run.samples.length);
    // In order, each once, from the first record on.
    expect(handed).toEqual(Array.from(run.samples.t.subarray(0, handed.length)));
    const stored = await api(server.url, 'GET', `/api/runs/${result.id}/samples?fields=t`, { token });
    expect(stored.body.columns.t).toEqual(handed);
    expect(result.report.durationS).toBeLessThan(run.meta.elapsedS);
  });

  it('a live run whose start names another sport gets no prompt', async () => {
    // A fresh athlete: the athlete model learns from earlier runs, and `analyze` here knows none.
    const { token } = await newAthlete(server.url, 'Fresh');
    const { run, keys } = await expected(scenario('hot-long-drift'), { profile: PROFILE, conditions: HOT });
    expect(keys.length).toBeGreaterThan(0);
    const cycling = { ...run, meta: { ...run.meta, sport: 'cycling', legs: [] } };
    const result = await replayRun(cycling, { ...T, url: server.url, token, profile: PROFILE, conditions: HOT });
    expect(result.alerts).toEqual([]);
    expect(result.report.alerts).toEqual([]);
  });

  it('a connection dropped every 300 ms loses and doubles no sample and raises the same alerts', async () => {
    // A fresh athlete: the athlete model learns from earlier runs, and `analyze` here knows none.
    const { token } = await newAthlete(server.url, 'Fresh');
    const options = { profile: PROFILE, conditions: HOT };
    const { run, keys } = await expected(scenario('fast-start-easy'), options);
    let drops = 0;
    let timer: NodeJS.Timeout | undefined;
    const result = await replayRun(run, {
      ...T,
      url: server.url,
      token,
      profile: PROFILE,
      conditions: HOT,
      batchSize: 10,
      window: 2,
      reconnectDelayMs: 50,
      reconnectDelayMaxMs: 100,
      // Slow enough that the run spans several drops.
      speed: 1500,
      onStarted: (client) => {
        timer = setInterval(() => {
          if (client.socket.connected) {
            drops++;
            // Drop the transport under the client, as a network would.
            client.socket.io.engine.close();
          }
        }, 300);
      },
    }).finally(() => clearInterval(timer));
    expect(drops).toBeGreaterThanOrEqual(3);
    expect(result.client.stats.reconnects).toBeGreaterThanOrEqual(3);
    expect(result.alerts.map(alertKey)).toEqual(keys);
    expect(result.report.alerts.map(alertKey)).toEqual(keys);
    const samples = await api(server.url, 'GET', `/api/runs/${result.id}/samples?fields=t`, { token });
    expect(samples.body.columns.t).toEqual(Array.from(run.samples.t));
  });

  it.runIf(uploadLoad)('live prompts keep flowing while the largest fixture uploads four times at once', async () => {
    const options = { profile: PROFILE, conditions: HOT };
    // A fresh athlete: no runs to learn from (src/athlete/), so the engine gets exactly PROFILE, as `analyze` does.
    const { token } = await newAthlete(server.url, 'Fresh');
    const { run, keys } = await expected(scenario('hot-long-drift'), options);
    const big = readFileSync(join(ROOT, 'fixtures', 'fit', 'dtcooper__python-fitparse', 'activity-large-fenxi2-multisport.fit'));
    expect(big.length).toBeGreaterThan(1_000_000);
    // Four athletes, so that the same bytes are decoded four times rather than deduplicated.
    const uploaders = await Promise.all([1, 2, 3, 4].map((i) => newAthlete(server.url, `Uploader ${i}`)));
    const firstAlertAt: number[] = [];
    const began = performance.now();
    const uploads = Promise.all(
      uploaders.map(async (u) => {
        const r = await api(server.url, 'POST', '/api/runs', { token: u.token, body: big, headers: { 'content-type': 'application/octet-stream' } });
        return { status: r.status, at: performance.now() - began };
      }),
    );
    const replay = replayRun(run, {
      ...T,
      url: server.url,
      token,
      profile: PROFILE,
      conditions: HOT,
      onAlert: () => firstAlertAt.push(performance.now() - began),
    });
    const [done, result] = await Promise.all([uploads, replay]);
    expect(done.map((d) => d.status)).toEqual([201, 201, 201, 201]);
    expect(result.alerts.map(alertKey)).toEqual(keys);
    // Prompts arrived while the uploads were still being decoded, not after them.
    const lastUpload = Math.max(...done.map((d) => d.at));
    expect(firstAlertAt[0]!).toBeLessThan(lastUpload);
  });

  it('alerts raised while the watch was away are delivered when it comes back (from the alert log)', async () => {
    const options = { profile: PROFILE, conditions: HOT };
    // A fresh athlete: no runs to learn from (src/athlete/), so the engine gets exactly PROFILE, as `analyze` does.
    const { token } = await newAthlete(server.url, 'Fresh');
    const { run, keys } = await expected(scenario('fast-start-easy'), options);
    const runId = `away-${Date.now()}`;
    // A watch that sends the first 10 minutes and goes away without listening for prompts.
    const s = await rawLink(transport, server.url, token);
    const started = await s.send('start', { runId, startTime: Date.now(), profile: PROFILE, conditions: HOT });
    expect(started.ok).toBe(true);
    const row = emptySample();
    const tenMinutes: ReturnType<typeof toWireSample>[] = [];
    for (let i = 0; i < run.samples.length && run.samples.t[i]! < 600; i++) tenMinutes.push(toWireSample(readRow(run.samples, i, row)));
    for (let k = 0; k * 100 < tenMinutes.length; k++) {
      expect(await s.send('samples', { runId, seq: k + 1, samples: tenMinutes.slice(k * 100, k * 100 + 100) })).toMatchObject({ ok: true });
    }
    s.close();
    const early = keys.filter((k) => Number(k.split('|')[0]) < 600);
    expect(early.length).toBeGreaterThan(0);
    // It comes back with a fresh connection (no recovery possible): resuming hands over the alerts it missed.
    const back = new WatchClient({ ...T, url: server.url, token });
    const ack = await back.start({ runId, startTime: Date.now() });
    expect(ack).toMatchObject({ resumed: true, contiguousSeq: Math.ceil(tenMinutes.length / 100) });
    expect(back.alerts.map(alertKey)).toEqual(early);
    back.close();
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    const prompts = [...metrics.matchAll(/^crampguard_prompts_total\{kind="[a-z_]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(prompts).toBeGreaterThanOrEqual(early.length);
    expect(metrics).toMatch(/^crampguard_samples_total [1-9]\d*$/m);
  });

  it('a cramp tapped on the watch reaches the engine and the cramp journal', async () => {
    const watch = new WatchClient({ ...T, url: server.url, token, batchSize: 60 });
    const ack = await watch.start({ runId: `cramp-${Date.now()}`, startTime: Date.now(), profile: PROFILE });
    for (let t = 0; t < 1200; t++) watch.addSample({ t, hr: 150, speed: 3, cadence: 170 });
    watch.addEvent({ type: 'cramp', t: 1199, muscle: 'calf', severity: 4 }, 'tap-1');
    for (let t = 1200; t < 1300; t++) watch.addSample({ t, hr: 150, speed: 3, cadence: 170 });
    const report = await watch.end();
    watch.close();
    expect(report.alerts.some((a) => a.kind === 'cramp_care')).toBe(true);
    expect(watch.alerts.some((a) => a.kind === 'cramp_care')).toBe(true);
    const journal = await api(server.url, 'GET', '/api/cramps', { token });
    const entry = journal.body.cramps.find((c: { runId: string }) => c.runId === ack.id);
    expect(entry).toMatchObject({ muscle: 'calf', severity: 4, t: 1199 });
  });

  it('the client skips a batch the server refuses for good, and a fresh client resumes numbering after the server', async () => {
    const runId = `client-edges-${Date.now()}`;
    const rejected: string[] = [];
    const first = new WatchClient({ ...T, url: server.url, token, batchSize: 10, onRejected: (_what, e) => rejected.push(e.code) });
    const ack = await first.start({ runId, startTime: Date.now() });
    for (let t = 0; t < 30; t++) first.addSample({ t, hr: 140 });
    first.flush();
    // A batch whose samples are all older than the last stored one (an app resending its history).
    for (let t = 5; t < 10; t++) first.addSample({ t, hr: 140 });
    first.flush();
    for (let t = 30; t < 50; t++) first.addSample({ t, hr: 140 });
    await first.drain();
    first.close();
    expect(rejected).toEqual(['SAMPLE_INVALID']);
    // The app restarts: a new client resumes the run and numbers its batches after what the server has.
    const second = new WatchClient({ ...T, url: server.url, token, batchSize: 10 });
    const resumed = await second.start({ runId, startTime: Date.now() });
    expect(resumed.contiguousSeq).toBe(5);
    for (let t = 50; t < 60; t++) second.addSample({ t, hr: 140 });
    await second.end();
    second.close();
    const samples = await api(server.url, 'GET', `/api/runs/${ack.id}/samples?fields=t`, { token });
    expect(samples.body.columns.t).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('bad messages get coded error acks; the connection and the run survive them', async () => {
    const s = await rawLink(transport, server.url, token);
    const runId = `bad-inputs-${Date.now()}`;
    const started = await s.send('start', { runId, startTime: '2026-05-01T07:00:00Z', profile: PROFILE });
    expect(started).toMatchObject({ ok: true, runId, status: 'live', resumed: false, contiguousSeq: 0 });
    const batch = (from: number, n = 5) => Array.from({ length: n }, (_, i) => ({ t: from + i, hr: 140, speed: 3 }));
    const send = (msg: unknown) => s.send('samples', msg);
    const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

    expect(code(await s.send('start', { runId: 'x' } as never))).toBe('BAD_MESSAGE');
    expect(code(await send({ runId, seq: 1, samples: 'nope' }))).toBe('BAD_MESSAGE');
    expect(code(await send({ runId, seq: 0, samples: batch(0) }))).toBe('BAD_MESSAGE');
    expect(code(await send({ runId, seq: 1, samples: [{ t: 0, hr: 'fast' }] }))).toBe('SAMPLE_INVALID');
    expect(code(await send({ runId, seq: 1, samples: [{ hr: 140 }] }))).toBe('SAMPLE_INVALID');
    expect(code(await send({ runId, seq: 1, samples: batch(0, 601) }))).toBe('SAMPLE_BATCH_TOO_LARGE');
    expect(code(await send({ runId: 'never-started-run', seq: 1, samples: batch(0) }))).toBe('UNKNOWN_RUN');
    const gap = await send({ runId, seq: 3, samples: batch(0) });
    expect(gap).toMatchObject({ ok: false, error: { code: 'SEQ_GAP' }, expectedSeq: 1 });
    expect(code(await s.send('event', { runId, id: 'e1', event: { type: 'drink', t: 1 } } as never))).toBe('BAD_MESSAGE');
    expect(code(await s.send('event', { runId, id: 'e1', event: { type: 'teleport', t: 1 } } as never))).toBe('BAD_MESSAGE');
    // A message without an ack callback is ignored, not fatal (socket only: an HTTP request always has an answer).
    s.fireAndForget?.('samples', { runId, seq: 1, samples: batch(0) });

    // The run goes on: seq 1 is still free, and a resent batch changes nothing.
    const ok1 = await send({ runId, seq: 1, samples: batch(0) });
    expect(ok1).toMatchObject({ ok: true, seq: 1, contiguousSeq: 1, duplicate: false });
    const again = await send({ runId, seq: 1, samples: batch(0) });
    expect(again).toMatchObject({ ok: true, contiguousSeq: 1, duplicate: true });
    expect(code(await send({ runId, seq: 2, samples: batch(0) }))).toBe('SAMPLE_INVALID'); // time went backwards
    expect(await send({ runId, seq: 2, samples: batch(5) })).toMatchObject({ ok: true, contiguousSeq: 2 });
    const ev = await s.send('event', { runId, id: 'drink-1', event: { type: 'drink', t: 3, ml: 200 } });
    // Samples up to t=9 had arrived: the drink takes effect at t=9, and a resend is a duplicate.
    expect(ev).toMatchObject({ ok: true, t: 9, duplicate: false });
    expect(await s.send('event', { runId, id: 'drink-1', event: { type: 'drink', t: 3, ml: 200 } })).toMatchObject({ ok: true, duplicate: true });

    // Flood: far more messages in a moment than the budget (200 at once, 50 a second), 16 in flight at a time:
    // over HTTP each one in flight is a connection, and the server caps those per address.
    const flood: Array<{ ok: boolean; error?: { code: string } }> = [];
    for (let k = 0; k < 400; k += 16) {
      flood.push(...(await Promise.all(Array.from({ length: 16 }, () => send({ runId, seq: 1, samples: batch(0) })))));
    }
    const codes = new Set(flood.map(code));
    expect(codes.has('RATE_LIMITED')).toBe(true);
    expect(s.connected).toBe(true);
    await new Promise((r) => setTimeout(r, 1100)); // let the budget refill

    const ended = await s.send('end', { runId });
    expect(ended.ok).toBe(true);
    const id = started.ok ? started.id : '';
    const samples = await api(server.url, 'GET', `/api/runs/${id}/samples?fields=t`, { token });
    expect(samples.body.columns.t).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(code(await send({ runId, seq: 3, samples: batch(10) }))).toBe('UNKNOWN_RUN');
    // Starting an ended run again answers with its report, so a watch that lost the end ack can finish.
    const restart = await s.send('start', { runId, startTime: '2026-05-01T07:00:00Z' });
    expect(restart).toMatchObject({ ok: true, status: 'ended' });
    s.close();
  });

  it('refuses watches without a valid token (and, on the socket, long-polling)', async () => {
    expect(await refusal(transport, server.url, undefined)).toBe('UNAUTHENTICATED');
    expect(await refusal(transport, server.url, 'cg_wrong-token-wrong-token')).toBe('BAD_TOKEN');
    if (transport === 'websocket') {
      const polling = rawSocket(server.url, token, ['polling']);
      await expect(connected(polling)).rejects.toBeTruthy();
      polling.close();
    }
  });

  it('keeps athletes apart: another athlete cannot feed, end or follow a run', async () => {
    const other = await newAthlete(server.url, 'Intruder');
    const a = await rawLink(transport, server.url, token);
    const b = await rawLink(transport, server.url, other.token);
    // Dashboards follow through the socket whatever the watches use.
    const bDash = rawSocket(server.url, other.token);
    await connected(bDash);
    const runId = `private-${Date.now()}`;
    const started = await a.send('start', { runId, startTime: Date.now() });
    if (!started.ok) throw new Error('start failed');
    const codeOf = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);
    expect(codeOf(await b.send('samples', { runId, seq: 1, samples: [{ t: 0, hr: 150 }] }))).toBe('UNKNOWN_RUN');
    expect(codeOf(await b.send('end', { runId }))).toBe('UNKNOWN_RUN');
    expect(codeOf(await bDash.emitWithAck('follow', { runId: started.id }))).toBe('UNKNOWN_RUN');
    expect((await api(server.url, 'GET', `/api/runs/${started.id}`, { token: other.token })).status).toBe(404);
    // The same client run id from another athlete is another run.
    const theirs = await b.send('start', { runId, startTime: Date.now() });
    expect(theirs.ok && theirs.id !== started.id).toBe(true);
    a.close();
    b.close();
    bDash.close();
  });

  it('a dashboard of the same athlete follows a live run: samples, risk and alerts as they happen', async () => {
    const options = { profile: PROFILE, conditions: HOT };
    // A fresh athlete: no runs to learn from (src/athlete/), so the engine gets exactly PROFILE, as `analyze` does.
    const { token } = await newAthlete(server.url, 'Fresh');
    const { run, keys } = await expected(scenario('fast-start-easy'), options);
    const watch = new WatchClient({ ...T, url: server.url, token, batchSize: 20 });
    const ack = await watch.start({ runId: `followed-${Date.now()}`, startTime: Date.now(), profile: PROFILE, conditions: HOT });
    const dash = rawSocket(server.url, token);
    await connected(dash);
    const seen = { samples: 0, risk: 0, alerts: [] as string[], ended: false };
    dash.on('samples', (b) => (seen.samples += b.samples.length));
    const deficits: number[] = [];
    dash.on('risk', (p) => {
      seen.risk++;
      if (typeof p.fluidDeficitMl === 'number') deficits.push(p.fluidDeficitMl);
    });
    dash.on('alert', (a) => seen.alerts.push(alertKey(a)));
    dash.on('ended', () => (seen.ended = true));
    const follow = await dash.emitWithAck('follow', { runId: ack.id });
    expect(follow).toMatchObject({ ok: true, status: 'live', alerts: [] });
    const row = emptySample();
    for (let i = 0; i < run.samples.length; i++) watch.addSample(toWireSample(readRow(run.samples, i, row)));
    await watch.end();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.samples).toBe(run.samples.length);
    expect(seen.risk).toBeGreaterThan(10);
    // Each risk event carries the engine's fluid-deficit estimate, rising in a run without drinks.
    expect(deficits.length).toBe(seen.risk);
    expect(deficits.at(-1)!).toBeGreaterThan(deficits[0]!);
    expect(seen.alerts).toEqual(keys);
    expect(seen.ended).toBe(true);
    // Followed after the end: the ack carries the alert log.
    const late = rawSocket(server.url, token);
    await connected(late);
    const again = await late.emitWithAck('follow', { runId: ack.id });
    expect(again).toMatchObject({ ok: true, status: 'ended' });
    if (again.ok) expect(again.alerts.map(alertKey)).toEqual(keys);
    watch.close();
    dash.close();
    late.close();
  });
});
}
