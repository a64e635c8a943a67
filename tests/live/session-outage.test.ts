// A live session's ordered write queue (src/live/write-queue.ts) with no server, no socket and no database: an
// in-memory store that can be made to fail, and a fake clock, so an outage and its back-off take milliseconds.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LiveBacklog } from '../../src/live/backlog.js';
import { GroupCommit } from '../../src/live/group-commit.js';
import { LiveSession, type LiveDeps, type RunFinisher } from '../../src/live/session.js';
import { StoreError, type RunRecord, type SampleBatch, type Store } from '../../src/store/types.js';
import { FakeClock } from './fake-clock.js';

/** The store calls a session makes, in memory; `down` makes every write fail as an outage does. */
function fakeStore() {
  const state = { down: false, attempts: 0, stored: [] as number[] };
  const outage = () => new StoreError('STORE_UNAVAILABLE', 'database down (simulated)');
  const store = {
    getCheckpoint: async () => null,
    readSamples: async () => null,
    listEvents: async () => [],
    saveCheckpoint: async () => {},
    appendAlerts: async (_a: string, _r: string, alerts: unknown[]) => alerts.length,
    appendEvents: async (_a: string, _r: string, events: unknown[]) => {
      if (state.down) throw outage();
      return events.length;
    },
    addJournalEntry: async () => ({}),
    appendSampleBatches: async (batches: SampleBatch[]) => {
      state.attempts++;
      if (state.down) throw outage();
      return batches.map((b) => {
        state.stored.push(b.seq);
        return { runId: b.runId, seq: b.seq, status: 'stored' as const, contiguousSeq: b.seq };
      });
    },
  };
  return { state, store: store as unknown as Store };
}

function session(backlog = new LiveBacklog()) {
  const clock = new FakeClock();
  const { state, store } = fakeStore();
  const deps: LiveDeps = {
    clock,
    store,
    // One batch per commit: no window timer, the fake clock drives everything else.
    commit: new GroupCommit(store, 4, 1),
    backlog,
    finisher: {} as RunFinisher,
    metrics: { samples() {}, prompt() {} },
    log: pino({ level: 'silent' }),
    output: { alerts() {}, risk() {}, wantsSamples: () => false, samples() {}, ended() {} },
  };
  const record = { id: 'run-1', athleteId: 'ada', clientRunId: 'watch-run-1', options: {}, contiguousSeq: 0, status: 'live', startTime: null } as unknown as RunRecord;
  return { clock, state, backlog, open: () => LiveSession.load(deps, record) };
}
const batch = (seq: number) => Array.from({ length: 10 }, (_, i) => ({ t: (seq - 1) * 10 + i, hr: 150, speed: 3 }));

describe('live session write queue on a fake clock', () => {
  it('an outage: prompts go on, the writes are retried with back-off, acked in order once the store is back', async () => {
    const { clock, state, backlog, open } = session(new LiveBacklog(25));
    const s = await open();
    state.down = true;
    const acks: number[] = [];
    const first = s.submitBatch(1, batch(1)).then((o) => o.ok && acks.push(o.value.contiguousSeq));
    const second = s.submitBatch(2, batch(2)).then((o) => o.ok && acks.push(o.value.contiguousSeq));
    await clock.advance(500);
    expect(state.attempts).toBeGreaterThan(2);
    expect(acks).toEqual([]);
    expect(backlog.degraded).toBe(true);
    expect(s.contiguousSeq).toBe(0);
    // Past the run's cap of unstored samples: refused before anything is stepped, as an outage.
    const third = await s.submitBatch(3, batch(3));
    expect(third).toMatchObject({ ok: false, error: { code: 'STORE_UNAVAILABLE' } });
    // A start's wait for the writes times out on the same clock.
    const settled = s.settled(1000);
    await clock.advance(1000);
    expect(await settled).toBe(false);
    // Back up: within the longest back-off (2 s) every write goes through, in order, and is acked.
    state.down = false;
    await clock.advance(2000);
    await Promise.all([first, second]);
    expect(acks).toEqual([1, 2]);
    expect(state.stored).toEqual([1, 2]);
    expect(backlog.degraded).toBe(false);
    expect(await s.submitBatch(3, batch(3))).toMatchObject({ ok: true });
  });

  it('copies of a batch waiting for its write each get an ack; past four the oldest is told to resend', async () => {
    const { clock, state, open } = session();
    const s = await open();
    state.down = true;
    const copies = Array.from({ length: 6 }, () => s.submitBatch(1, batch(1)));
    state.down = false;
    await clock.advance(2000);
    const outcomes = await Promise.all(copies);
    expect(outcomes.map((o) => (o.ok ? (o.value.duplicate ? 'dup' : 'first') : o.error.code))).toEqual([
      'RATE_LIMITED',
      'RATE_LIMITED',
      'dup',
      'dup',
      'dup',
      'dup',
    ]);
    expect(state.stored).toEqual([1]);
  });

  it('idle time is the clock\'s: lastActivity follows it', async () => {
    const { clock, open } = session();
    const s = await open();
    const opened = s.lastActivity;
    await clock.advance(60_000);
    await s.submitBatch(1, batch(1));
    expect(s.lastActivity - opened).toBe(60_000);
  });
});
