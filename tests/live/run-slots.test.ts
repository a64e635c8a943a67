// The live-run caps (src/live/run-slots.ts) without a server or a socket: fake runs on a fake clock, in ms.
import { describe, expect, it } from 'vitest';
import { NoRoomError, PROCESS_SCAN_EVERY_MS, RunSlots, type RunSlotLimits } from '../../src/live/run-slots.js';

class FakeRun {
  open = true;
  closes = 0;
  constructor(
    readonly key: string,
    public lastActivity: number,
    private readonly registry: Map<string, FakeRun>,
  ) {}
  isOpen(): boolean {
    return this.open;
  }
  async close(): Promise<void> {
    this.closes++;
    this.open = false;
    this.registry.delete(this.key);
  }
}

function setup(limits: Partial<RunSlotLimits> = {}) {
  const clock = { t: 1_000_000 };
  const runs = new Map<string, FakeRun>();
  const evicted: string[] = [];
  const slots = new RunSlots<FakeRun>(
    { perAthlete: 4, perConnection: 2, perProcess: 100, evictableAfterMs: 60_000, ...limits },
    runs,
    () => clock.t,
    (run) => evicted.push(run.key),
  );
  /** Opens a run as the service does: a slot, then the run in the registry, then the release. */
  const open = async (key: string, athlete: string, conn: string) => {
    const release = await slots.reserve(key, athlete, conn);
    const run = new FakeRun(key, clock.t, runs);
    runs.set(key, run);
    release();
    return run;
  };
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => (e instanceof NoRoomError ? { code: e.code, retryAfterMs: e.retryAfterMs } : Promise.reject(e)),
    );
  return { clock, runs, slots, evicted, open, refusal };
}

describe('run slots', () => {
  it('refuses a connection\'s third busy run with the wait until one is quiet, then evicts the quietest', async () => {
    const { clock, open, refusal, evicted, slots } = setup();
    const a = await open('a', 'ada', 'c1');
    clock.t += 10_000;
    const b = await open('b', 'ada', 'c1');
    clock.t += 5_000;
    expect(await refusal(slots.reserve('c', 'ada', 'c1'))).toEqual({ code: 'TOO_MANY_RUNS', retryAfterMs: 45_000 });
    clock.t += 45_000; // a has been quiet 60 s
    await open('c', 'ada', 'c1');
    expect(evicted).toEqual(['a']);
    expect(a.open).toBe(false);
    expect(b.open).toBe(true);
  });

  it('caps an athlete over all its connections; a run resuming its own slot is not counted twice', async () => {
    const { clock, open, refusal, slots } = setup();
    for (let i = 0; i < 4; i++) await open(`r${i}`, 'ada', `c${i}`);
    expect((await refusal(slots.reserve('r4', 'ada', 'c9')))?.code).toBe('TOO_MANY_RUNS');
    // The same key again (a resume of an open run's slot) fits.
    expect(await refusal(slots.reserve('r0', 'ada', 'c0').then((release) => release()))).toBeNull();
    // Another athlete is not affected.
    await open('x', 'bo', 'c9');
    clock.t += 60_000;
    await open('r4', 'ada', 'c9');
  });

  it('holds a slot while a run is opening: concurrent starts cannot overshoot the cap', async () => {
    const { slots, refusal } = setup({ perConnection: 0 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => refusal(slots.reserve(`k${i}`, 'ada', `c${i}`))));
    expect(results.filter((r) => r === null)).toHaveLength(4);
    expect(results.filter((r) => r?.code === 'TOO_MANY_RUNS')).toHaveLength(46);
  });

  it('a closed run frees its slot; a dropped connection leaves its runs counted for the athlete only', async () => {
    const { open, refusal, slots } = setup();
    const a = await open('a', 'ada', 'c1');
    await open('b', 'ada', 'c1');
    await a.close();
    await open('c', 'ada', 'c1');
    slots.forgetConnection('c1');
    await open('d', 'ada', 'c2');
    await open('e', 'ada', 'c2');
    expect((await refusal(slots.reserve('f', 'ada', 'c3')))?.code).toBe('TOO_MANY_RUNS');
  });

  it('at the process cap evicts the quietest run of anyone, and refuses a burst between scans', async () => {
    const { clock, open, refusal, slots, evicted } = setup({ perAthlete: 0, perConnection: 0, perProcess: 3 });
    await open('old', 'ada', 'c1');
    clock.t += 120_000;
    await open('mid', 'bo', 'c2');
    await open('new', 'cy', 'c3');
    await open('next', 'dee', 'c4');
    expect(evicted).toEqual(['old']);
    // Within the scan interval every further start is refused, whatever is quiet.
    expect(await refusal(slots.reserve('more', 'eve', 'c5'))).toEqual({ code: 'TOO_MANY_RUNS', retryAfterMs: PROCESS_SCAN_EVERY_MS });
    clock.t += PROCESS_SCAN_EVERY_MS;
    // Nothing is quiet for 60 s yet: refused with the wait.
    expect((await refusal(slots.reserve('more', 'eve', 'c5')))?.retryAfterMs).toBe(60_000 - PROCESS_SCAN_EVERY_MS);
  });

  it('no caps: every start gets a slot', async () => {
    const { open } = setup({ perAthlete: 0, perConnection: 0, perProcess: 0 });
    for (let i = 0; i < 500; i++) await open(`k${i}`, 'ada', 'c1');
  });
});
