// The live core (src/live/) without a server, a socket or a real timer: a real SQLite store in a temp directory
// (wrapped so its writes can be made to fail as in an outage) and a fake clock, so outages, back-off, rebuilds
// and idle eviction take milliseconds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import type { Alert, EngineOptions } from '../../alerts/types.js';
import { runFeed } from '../../ingest/feed.js';
import { decodeFit } from '../../ingest/fit.js';
import type { WireSample } from '../../ingest/live.js';
import type { RunEvent } from '../../ingest/sample.js';
import { LiveBacklog } from '../../src/live/backlog.js';
import { GroupCommit } from '../../src/live/group-commit.js';
import { CHECKPOINT_EVERY_BATCHES, firstCheckpointAfter } from '../../src/live/rebuild.js';
import { IDLE_SWEEP_EVERY_MS, LiveRegistry, type RegistryDeps } from '../../src/live/registry.js';
import { LiveSession } from '../../src/live/session.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreError, type RunRecord, type Store } from '../../src/store/types.js';
import { toWireSample } from '../../src/wire/client.js';
import { FakeClock, turn } from './fake-clock.js';

const ROOT = join(import.meta.dirname, '..', '..');
const WRITES = new Set(['appendSampleBatches', 'appendEvents', 'appendAlerts', 'addJournalEntry']);
const alertKey = (a: Alert) => `${a.t}|${a.kind}|${a.cause}`;

/** The real store, but its writes fail STORE_UNAVAILABLE while `faults.down`; every call is counted. */
function flaky(real: Store) {
  const faults = { down: false, refused: 0, calls: new Map<string, number>() };
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        faults.calls.set(prop, (faults.calls.get(prop) ?? 0) + 1);
        if (faults.down && WRITES.has(prop)) {
          faults.refused++;
          return Promise.reject(new StoreError('STORE_UNAVAILABLE', 'database down (simulated)'));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, faults };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A live core on a temp SQLite store and a fake clock; `emitted` is what went to the transport. */
async function core(backlog = new LiveBacklog(), limits: RegistryDeps['limits'] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cg-live-core-'));
  const real = SqliteStore.open({ dataDir: dir });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => real.close());
  const { store, faults } = flaky(real);
  const clock = new FakeClock();
  const emitted = { alerts: [] as Alert[], samplesBySeq: [] as number[], risk: 0, ended: 0 };
  const deps: RegistryDeps = {
    clock,
    store,
    // One batch per commit: no window timer; the fake clock drives the retries and waits.
    commit: new GroupCommit(store, 4, 1, clock),
    backlog,
    finisher: { analyze: async (run, options) => analyzeRun(run, options), learn: async () => {} },
    metrics: { samples() {}, prompt() {}, liveRuns: 0 },
    log: pino({ level: 'silent' }),
    limits,
    output: {
      alerts: (_s, alerts) => void emitted.alerts.push(...alerts),
      risk: () => void emitted.risk++,
      wantsSamples: () => true,
      samples: (_s, seq) => void emitted.samplesBySeq.push(seq),
      ended: () => void emitted.ended++,
    },
  };
  const { athlete } = await real.createAthlete({ name: 'Ada' });
  const start = (clientRunId: string, options: EngineOptions = {}) => ({ clientRunId, options, startTime: '2026-06-01T07:00:00.000Z' });
  const record = async (clientRunId: string, options: EngineOptions = {}): Promise<RunRecord> =>
    (await real.startLiveRun(athlete.id, start(clientRunId, options))).run;
  const open = async (clientRunId: string, options: EngineOptions = {}) => LiveSession.load(deps, await record(clientRunId, options));
  const registry = () => {
    const r = new LiveRegistry(deps);
    cleanups.push(() => r.close());
    return r;
  };
  return { real, faults, clock, emitted, deps, athleteId: athlete.id, start, record, open, registry, backlog };
}

const batch = (seq: number): WireSample[] => Array.from({ length: 10 }, (_, i) => ({ t: (seq - 1) * 10 + i, hr: 150, speed: 3 }));

type Step = { kind: 'batch'; seq: number; samples: WireSample[] } | { kind: 'event'; key: string; event: RunEvent };

/** A fixture as a watch sends it: batches of 10 samples, each event after the samples before it (ingest/feed.ts). */
async function watchMessages(file: string): Promise<Step[]> {
  const run = await decodeFit(readFileSync(join(ROOT, 'fixtures', 'scenarios', file)));
  const cursor = runFeed(run).cursor();
  const steps: Step[] = [];
  let pending: WireSample[] = [];
  let seq = 0;
  const flush = () => {
    if (pending.length) steps.push({ kind: 'batch', seq: ++seq, samples: pending });
    pending = [];
  };
  for (let step = cursor.next(); step !== 'done'; step = cursor.next()) {
    if (step === 'event') {
      flush();
      steps.push({ kind: 'event', key: `ev:${steps.length}`, event: { ...cursor.event! } });
    } else {
      pending.push(toWireSample(cursor.sample));
      if (pending.length === 10) flush();
    }
  }
  flush();
  return steps;
}

/** Sends `steps` one at a time, each answered (stored) before the next, as a watch with a window of one. */
async function send(session: LiveSession, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    const answer = step.kind === 'batch' ? await session.submitBatch(step.seq, step.samples) : await session.submitEvent(step.key, step.event);
    expect(answer.ok).toBe(true);
  }
}

describe('live session: seq rules', () => {
  it('a stored seq is a duplicate, a seq beyond the next is SEQ_GAP with expectedSeq (and stays free)', async () => {
    const c = await core();
    const s = await c.open('w-seq');
    expect(await s.submitBatch(1, batch(1))).toEqual({ ok: true, value: { contiguousSeq: 1, duplicate: false } });
    expect(await s.submitBatch(1, batch(1))).toEqual({ ok: true, value: { contiguousSeq: 1, duplicate: true } });
    const gap = await s.submitBatch(3, batch(3));
    expect(gap).toMatchObject({ ok: false, error: { code: 'SEQ_GAP', expectedSeq: 2 } });
    expect(await s.submitBatch(2, batch(2))).toMatchObject({ ok: true, value: { contiguousSeq: 2 } });
    expect((await c.real.readSamples(c.athleteId, s.id))!.length).toBe(20);
    // Each batch was stepped (and sent to followers) once.
    expect(c.emitted.samplesBySeq).toEqual([1, 2]);
  });

  it('a resend of a seq still in memory is not stepped again: both copies are answered once it is stored', async () => {
    const c = await core();
    const s = await c.open('w-resend');
    c.faults.down = true;
    const first = s.submitBatch(1, batch(1));
    const resent = s.submitBatch(1, batch(1));
    await c.clock.advance(300);
    c.faults.down = false;
    await c.clock.advance(2000);
    expect(await first).toEqual({ ok: true, value: { contiguousSeq: 1, duplicate: false } });
    expect(await resent).toEqual({ ok: true, value: { contiguousSeq: 1, duplicate: true } });
    expect(c.emitted.samplesBySeq).toEqual([1]);
    expect((await c.real.readSamples(c.athleteId, s.id))!.length).toBe(10);
  });
});

describe('live session: events', () => {
  it('an event later than the samples it follows is moved to the last sample\'s t, and stored that way', async () => {
    const c = await core();
    const s = await c.open('w-events');
    await send(s, [{ kind: 'batch', seq: 1, samples: batch(1) }, { kind: 'batch', seq: 2, samples: batch(2) }]);
    const late = await s.submitEvent('ev:late', { type: 'pause', t: 5 });
    expect(late).toEqual({ ok: true, value: { t: 19, duplicate: false } });
    const ahead = await s.submitEvent('ev:ahead', { type: 'resume', t: 25 });
    expect(ahead).toEqual({ ok: true, value: { t: 25, duplicate: false } });
    // A resent key changes nothing and is answered with the stored time.
    expect(await s.submitEvent('ev:late', { type: 'pause', t: 5 })).toEqual({ ok: true, value: { t: 19, duplicate: true } });
    const stored = (await c.real.listEvents(c.athleteId, s.id))!.map((e) => [e.key, e.event.type, e.event.t]);
    expect(stored).toEqual([
      ['ev:late', 'pause', 19],
      ['ev:ahead', 'resume', 25],
    ]);
  });
});

describe('live session: acked ⇒ stored through an outage', () => {
  it('no ack while the store is down; retried with back-off on the clock; acked in order once stored', async () => {
    const c = await core();
    const s = await c.open('w-outage');
    c.faults.down = true;
    const storedAtAck: Array<[number, number]> = [];
    const acked = [1, 2].map((seq) =>
      s.submitBatch(seq, batch(seq)).then(async (o) => {
        const cols = c.real.readSamples(c.athleteId, s.id); // read at the moment of the ack
        if (o.ok) storedAtAck.push([o.value.contiguousSeq, (await cols)?.length ?? 0]);
      }),
    );
    // Prompts go on from memory meanwhile: both batches were stepped and sent out.
    expect(c.emitted.samplesBySeq).toEqual([1, 2]);
    await c.clock.advance(500);
    expect(storedAtAck).toEqual([]);
    expect(s.contiguousSeq).toBe(0);
    expect((await c.real.readSamples(c.athleteId, s.id))!.length).toBe(0);
    expect(c.backlog.degraded).toBe(true);
    // Back-off: the first batch was tried again, but not in a busy loop (delays 50 → 2000 ms, doubling, jittered).
    expect(c.faults.refused).toBeGreaterThanOrEqual(3);
    expect(c.faults.refused).toBeLessThanOrEqual(6);
    c.faults.down = false;
    await c.clock.advance(2000);
    await Promise.all(acked);
    expect(storedAtAck).toEqual([
      [1, 10],
      [2, 20],
    ]);
    expect(c.backlog.degraded).toBe(false);
    expect(c.backlog.samples).toBe(0);
  });

  it('past the run\'s cap of unstored samples a batch is refused before it is stepped, and its seq stays free', async () => {
    const c = await core(new LiveBacklog(25));
    const s = await c.open('w-caps');
    c.faults.down = true;
    const pending = [s.submitBatch(1, batch(1)), s.submitBatch(2, batch(2))];
    await c.clock.advance(100);
    const risk = c.emitted.risk;
    expect(await s.submitBatch(3, batch(3))).toMatchObject({ ok: false, error: { code: 'STORE_UNAVAILABLE' } });
    expect(c.emitted.samplesBySeq).toEqual([1, 2]);
    expect(c.emitted.risk).toBe(risk);
    c.faults.down = false;
    await c.clock.advance(2000);
    await Promise.all(pending);
    expect(await s.submitBatch(3, batch(3))).toMatchObject({ ok: true, value: { contiguousSeq: 3, duplicate: false } });
  });
});

describe('live session: end', () => {
  it('an end while the store is down answers STORE_UNAVAILABLE after its wait, the run stays open; sent again it ends', async () => {
    const c = await core();
    const s = await c.open('w-end');
    expect((await s.submitBatch(1, batch(1))).ok).toBe(true);
    c.faults.down = true;
    const second = s.submitBatch(2, batch(2));
    const refused = s.end();
    await c.clock.advance(10_000);
    expect(await refused).toMatchObject({ ok: false, error: { code: 'STORE_UNAVAILABLE' } });
    expect(s.isOpen()).toBe(true);
    c.faults.down = false;
    await c.clock.advance(2000);
    expect(await second).toMatchObject({ ok: true, value: { contiguousSeq: 2 } });
    const ended = await s.end();
    expect(ended.ok).toBe(true);
    expect(s.isOpen()).toBe(false);
    expect(c.emitted.ended).toBe(1);
    expect((await c.real.getRun(c.athleteId, s.id))?.status).toBe('ended');
    expect(await s.submitBatch(3, batch(3))).toMatchObject({ ok: false, error: { code: 'UNKNOWN_RUN' } });
  });
});

describe('live session: rebuild', () => {
  it('a run rebuilt from its checkpoint and the samples after it gives the prompts of an uninterrupted run', async () => {
    // Batches of 5 samples: 540 of them, so that the first checkpoint (at batch 1 to CHECKPOINT_EVERY_BATCHES) falls in.
    const steps = rebatch(await watchMessages('fast-start-easy.fit'), 5);
    expect(steps.filter((s) => s.kind === 'batch').length).toBeGreaterThan(CHECKPOINT_EVERY_BATCHES + 5);
    const options: EngineOptions = { profile: { massKg: 68, hrRest: 50, hrMax: 188 }, conditions: { tempC: 28, humidity: 60 } };
    const c = await core();

    const whole = await c.open('w-whole', options);
    await send(whole, steps);
    const wholeReport = await whole.end();
    const uninterrupted = c.emitted.alerts.splice(0).map(alertKey);
    expect(uninterrupted.length).toBeGreaterThan(0);

    const first = await c.open('w-rebuilt', options);
    // Stop past the first checkpoint but not on the next (they come at batches f, f + CHECKPOINT_EVERY_BATCHES, …):
    // the rebuild restores it and replays the batches after it.
    const cutSeq = firstCheckpointAfter(first.id) + 5;
    const cut = steps.findIndex((s) => s.kind === 'batch' && s.seq === cutSeq);
    await send(first, steps.slice(0, cut + 1));
    await turn();
    first.discard(); // as a crash: nothing saved on the way out
    const rebuilt = await LiveSession.load(c.deps, (await c.real.getRun(c.athleteId, first.id))!);
    expect(rebuilt.contiguousSeq).toBe(first.contiguousSeq);
    expect(rebuilt.rebuild.checkpointSeq).toBeGreaterThan(0);
    expect(rebuilt.rebuild.replayedSamples).toBe((rebuilt.contiguousSeq - rebuilt.rebuild.checkpointSeq) * 5);
    expect(rebuilt.rebuild.replayedSamples).toBeGreaterThan(0);
    await send(rebuilt, steps.slice(cut + 1));
    const rebuiltReport = await rebuilt.end();

    expect(c.emitted.alerts.map(alertKey)).toEqual(uninterrupted);
    const stored = async (s: LiveSession) => (await c.real.listAlerts(c.athleteId, s.id))!.map((a) => alertKey(a.alert));
    expect(await stored(rebuilt)).toEqual(await stored(whole));
    expect(wholeReport.ok && rebuiltReport.ok).toBe(true);
    if (wholeReport.ok && rebuiltReport.ok) expect(rebuiltReport.value.alerts.map(alertKey)).toEqual(wholeReport.value.alerts.map(alertKey));
  });
});

describe('live sessions side by side', () => {
  it('runs whose batches interleave (of different sizes) each get the prompts they get alone', async () => {
    // The sessions of a process share the scratch their batches are normalised into: nothing may leak across.
    const [easy, hot] = await Promise.all([watchMessages('fast-start-easy.fit'), watchMessages('hot-long-drift.fit')]);
    const hotIn30 = rebatch(hot, 30);
    const c = await core();
    const options: EngineOptions = { profile: { massKg: 68, hrRest: 50, hrMax: 188 }, conditions: { tempC: 28, humidity: 60 } };
    const bySession = new Map<LiveSession, string[]>();
    c.deps.output.alerts = (s, alerts) => void bySession.set(s, [...(bySession.get(s) ?? []), ...alerts.map(alertKey)]);

    const aloneEasy = await c.open('w-alone-easy', options);
    await send(aloneEasy, easy);
    const aloneHot = await c.open('w-alone-hot', options);
    await send(aloneHot, hotIn30);

    const a = await c.open('w-side-easy', options);
    const b = await c.open('w-side-hot', options);
    for (let i = 0; i < Math.max(easy.length, hotIn30.length); i++) {
      // Both submitted before either is answered, as two watches' messages arrive.
      const answers = [submit(a, easy[i]), submit(b, hotIn30[i])];
      for (const answer of await Promise.all(answers)) expect(answer?.ok ?? true).toBe(true);
    }
    expect(bySession.get(aloneEasy)!.length).toBeGreaterThan(0);
    expect(bySession.get(aloneHot)!.length).toBeGreaterThan(0);
    expect(bySession.get(a)).toEqual(bySession.get(aloneEasy));
    expect(bySession.get(b)).toEqual(bySession.get(aloneHot));
  });
});

/** The same messages with the samples between events regrouped `size` to a batch, seqs renumbered. */
function rebatch(steps: readonly Step[], size: number): Step[] {
  const out: Step[] = [];
  let pending: WireSample[] = [];
  let seq = 0;
  const flush = () => {
    for (let i = 0; i < pending.length; i += size) out.push({ kind: 'batch', seq: ++seq, samples: pending.slice(i, i + size) });
    pending = [];
  };
  for (const step of steps) {
    if (step.kind === 'batch') pending.push(...step.samples);
    else {
      flush();
      out.push(step);
    }
  }
  flush();
  return out;
}

function submit(session: LiveSession, step: Step | undefined) {
  if (!step) return Promise.resolve(null);
  return step.kind === 'batch' ? session.submitBatch(step.seq, step.samples) : session.submitEvent(step.key, step.event);
}

describe('live registry', () => {
  it('loads one session per run however many messages ask for it at once', async () => {
    const c = await core();
    const registry = c.registry();
    const start = c.start('w-many');
    const opened = await Promise.all(Array.from({ length: 5 }, (_, i) => registry.session(c.athleteId, 'w-many', start, `conn-${i % 2}`)));
    expect(new Set(opened).size).toBe(1);
    expect(opened[0]!.isOpen()).toBe(true);
    expect(registry.size).toBe(1);
    expect(c.faults.calls.get('getCheckpoint')).toBe(1);
    // A message without start finds the same session; an unknown run is not opened.
    expect(await registry.session(c.athleteId, 'w-many')).toBe(opened[0]);
    expect(await registry.session(c.athleteId, 'w-never')).toBeNull();
  });

  it('a run idle past the limit is checkpointed out of memory by the sweeper on the clock, and rebuilt on its next start', async () => {
    const c = await core(undefined, { idleEvictMs: 15 * 60_000 });
    const registry = c.registry();
    const s = (await registry.session(c.athleteId, 'w-idle', c.start('w-idle')))!;
    expect(await s.submitBatch(1, batch(1))).toMatchObject({ ok: true });
    await c.clock.advance(10 * 60_000);
    expect(s.isOpen()).toBe(true);
    await c.clock.advance(6 * 60_000 + IDLE_SWEEP_EVERY_MS);
    expect(s.isOpen()).toBe(false);
    expect(registry.size).toBe(0);
    expect((await c.real.getCheckpoint(c.athleteId, s.id))?.seq).toBe(1);
    expect(await registry.session(c.athleteId, 'w-idle')).toBeNull();
    const again = (await registry.session(c.athleteId, 'w-idle', c.start('w-idle')))!;
    expect(again).not.toBe(s);
    expect(again.rebuild).toEqual({ checkpointSeq: 1, replayedSamples: 0 });
    expect(await again.submitBatch(2, batch(2))).toMatchObject({ ok: true, value: { contiguousSeq: 2 } });
  });
});
