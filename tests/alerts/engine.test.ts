/**
 * Behaviour of the engine's parts on small synthetic runs: rings against naive sums, events (cramp, drinks),
 * what each detector does and does not do on telling inputs, channel gating, the cramp journal, the policy.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { analyzeRun, createEngine } from '../../alerts/engine.js';
import { personalThresholds, JOURNAL_DEFAULTS } from '../../alerts/journal.js';
import { MAX_MESSAGE_CHARS, type Shared } from '../../alerts/detector.js';
import { CAUSES } from '../../alerts/registry.js';
import { PROFILE_DEFAULTS, resolveProfile } from '../../alerts/profile.js';
import { bodySurfaceArea, sweatRateMlPerH, SWEAT_DEFAULTS } from '../../alerts/physiology.js';
import { createLagRing, createRing, lagPush, packRingSlots, ringPush } from '../../alerts/ring.js';
import type { Alert, AlertCause, CrampContext, EngineOptions } from '../../alerts/types.js';
import { emptySample, readRow, type NormalizedRun, type RunEvent } from '../../ingest/sample.js';
import { prng, steadyPoint, synthRun } from './helpers.js';

const athlete = { massKg: 68, hrRest: 50, hrMax: 188, usualLongRunMin: 150 };

function replay(run: NormalizedRun, options: EngineOptions) {
  const alerts: Alert[] = [];
  const cramps: CrampContext[] = [];
  const engine = createEngine({ channels: run.channels, ...options }, { alert: (a) => alerts.push(a), risk: () => {}, cramp: (c) => cramps.push(c) });
  const events = [...run.events].sort((a, b) => a.t - b.t);
  let e = 0;
  const row = emptySample();
  for (let i = 0; i < run.samples.length; i++) {
    readRow(run.samples, i, row);
    while (e < events.length && events[e]!.t < row.t) engine.event(events[e++]!);
    engine.push(row);
  }
  while (e < events.length) engine.event(events[e++]!);
  return { alerts, cramps };
}

describe('rings', () => {
  // A slot is float32: the window's statistics are those of the values as float32 keeps them (Math.fround).
  it('keep the mean and CV of the last N valid values, NaN slots included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.oneof(fc.double({ min: 0, max: 300, noNaN: true }), fc.constant(NaN)), { maxLength: 80 }), (cap, xs) => {
        const r = createRing(cap);
        for (const x of xs) {
          r.next = x;
          ringPush(r);
        }
        const window = xs.slice(-cap).filter((x) => !Number.isNaN(x)).map(Math.fround);
        const mean = window.length ? window.reduce((a, b) => a + b, 0) / window.length : NaN;
        if (Number.isNaN(mean)) expect(r.mean).toBeNaN();
        else expect(r.mean).toBeCloseTo(mean, 6);
        expect(r.n).toBe(window.length);
      }),
    );
  });

  it('compare a recent window with the one `lag` slots older', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 10, maxLength: 60 }), (xs) => {
        const r = createLagRing(3, 5, 1);
        for (const x of xs) {
          r.next = x;
          lagPush(r);
        }
        const recent = xs.slice(-3).map(Math.fround);
        const older = xs.slice(-8, -5).map(Math.fround);
        expect(r.recentMean).toBeCloseTo(recent.reduce((a, b) => a + b, 0) / 3, 6);
        expect(r.olderMean).toBeCloseTo(older.reduce((a, b) => a + b, 0) / 3, 6);
      }),
    );
  });
});

describe('packRingSlots', () => {
  it('moves every ring of a state into views of one buffer, keeping the windows and their sums', () => {
    const state = { a: createRing(4), nested: { list: [createLagRing(2, 3, 0.5), createRing(3)] }, other: new Float32Array(2) };
    const xs = [150.5, 151, NaN, 152.25, 149, 148.5];
    const push = () => {
      for (const x of xs) {
        state.a.next = x;
        ringPush(state.a);
        state.nested.list[0]!.next = x;
        lagPush(state.nested.list[0] as ReturnType<typeof createLagRing>);
      }
    };
    push();
    const before = { slots: Array.from(state.a.buf), mean: state.a.mean };
    packRingSlots(state);
    const buffers = new Set([state.a.buf.buffer, state.nested.list[0]!.buf.buffer, state.nested.list[1]!.buf.buffer]);
    expect(buffers.size).toBe(1);
    expect(state.other.buffer).not.toBe(state.a.buf.buffer);
    expect(Array.from(state.a.buf)).toEqual(before.slots);
    expect(state.a.mean).toBe(before.mean);
    push(); // and the packed rings go on as before: the same window again
    expect(state.a.mean).toBeCloseTo(before.mean, 9);
    expect(Array.from(state.nested.list[1]!.buf)).toEqual([NaN, NaN, NaN]);
  });
});

describe('rings restored from a checkpoint with float64 slots (before float32)', () => {
  it('go on with sums that match their window', () => {
    const r = createRing(4);
    r.buf = new Float64Array(4).fill(NaN);
    const xs = [151.3, 152.7, NaN, 149.9, 150.05, 153.33, 148.1];
    for (const x of xs) {
      r.next = x;
      ringPush(r);
    }
    const window = xs.slice(-4).filter((x) => !Number.isNaN(x));
    expect(r.mean).toBeCloseTo(window.reduce((a, b) => a + b, 0) / window.length, 9);
    expect(r.n).toBe(window.length);
  });
});

describe('sweat model (Gonzalez 2009 with ACSM metabolic heat)', () => {
  const bsa = bodySurfaceArea(68);
  it('gives athlete-range sweat rates that rise with heat, humidity and speed', () => {
    const mild = sweatRateMlPerH(3, 0, 68, bsa, 22, 50, SWEAT_DEFAULTS);
    const hot = sweatRateMlPerH(3, 0, 68, bsa, 30, 50, SWEAT_DEFAULTS);
    const humid = sweatRateMlPerH(3, 0, 68, bsa, 30, 80, SWEAT_DEFAULTS);
    const fast = sweatRateMlPerH(4, 0, 68, bsa, 22, 50, SWEAT_DEFAULTS);
    expect(mild).toBeGreaterThan(500);
    expect(mild).toBeLessThan(1500);
    expect(hot).toBeGreaterThan(mild);
    expect(humid).toBeGreaterThan(hot);
    expect(fast).toBeGreaterThan(mild);
    expect(sweatRateMlPerH(3, 0, 68, bsa, 45, 95, SWEAT_DEFAULTS)).toBeLessThanOrEqual(SWEAT_DEFAULTS.ceilingMlPerH);
  });

  it('has no step at the cool-air switch: a tenth of a degree changes the rate by under 2 %', () => {
    for (let t = 10; t <= 30; t += 0.1) {
      const a = sweatRateMlPerH(3, 0, 68, bsa, t, 50, SWEAT_DEFAULTS);
      const b = sweatRateMlPerH(3, 0, 68, bsa, t + 0.1, 50, SWEAT_DEFAULTS);
      expect(Math.abs(b / a - 1)).toBeLessThan(0.02);
    }
  });
});

describe('events', () => {
  const rand = prng(5);
  const base = synthRun(3600, (t) => steadyPoint(rand, t));

  it('a reported cramp gets the care prompt at once and its context goes to the journal sink', () => {
    const run = { ...base, events: [{ t: 2400, type: 'cramp', muscle: 'calf', severity: 2 } as RunEvent] };
    const { alerts, cramps } = replay(run, { profile: athlete, conditions: { tempC: 15, humidity: 50 } });
    const care = alerts.filter((a) => a.kind === 'cramp_care');
    expect(care).toHaveLength(1);
    expect(care[0]).toMatchObject({ t: 2400, cause: 'cramp_reported', severity: 'urgent', id: 'cramp_reported-2400' });
    expect(care[0]!.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(care[0]!.why).toContain('calf');
    expect(cramps).toHaveLength(1);
    const c = cramps[0]!;
    expect(c.t).toBe(2400);
    expect(c.muscle).toBe('calf');
    expect(c.shareOfUsualLongRun).toBeCloseTo(2400 / 9000, 1);
    expect(c.temperatureC).toBe(15);
    expect(c.fluidDeficitMl).toBeGreaterThan(100);
    expect(c.intensity).toBeGreaterThan(0.5);
    expect(c.intensity).toBeLessThan(0.8);
  });

  it('drinking keeps the hydrate prompt quiet, and advice never exceeds the losses or 800 ml/h', () => {
    const hot: EngineOptions = { profile: athlete, conditions: { tempC: 30, humidity: 60 } };
    const dry = replay(base, hot).alerts.filter((a) => a.kind === 'hydrate');
    expect(dry.length).toBeGreaterThanOrEqual(1);
    for (const a of dry) expect(Number(/~(\d+) ml/.exec(a.message)![1])).toBeLessThanOrEqual(250);
    const drinks: RunEvent[] = [];
    for (let t = 900; t < 3600; t += 900) drinks.push({ t, type: 'drink', ml: 200 });
    const wet = replay({ ...base, events: drinks }, hot).alerts.filter((a) => a.kind === 'hydrate');
    expect(wet.length).toBeLessThan(dry.length);
    // Already drinking 800 ml/h: nothing more is ever urged.
    const plenty: RunEvent[] = [];
    for (let t = 60; t < 3600; t += 300) plenty.push({ t, type: 'drink', ml: 70 });
    expect(replay({ ...base, events: plenty }, hot).alerts.filter((a) => a.kind === 'hydrate')).toEqual([]);
  });
});

describe('detectors on telling inputs', () => {
  it('an easy steady hour says nothing', () => {
    const rand = prng(9);
    const run = synthRun(3600, (t) => steadyPoint(rand, t));
    expect(replay(run, { profile: athlete, conditions: { tempC: 12, humidity: 50 } }).alerts).toEqual([]);
  });

  it('HR drifting 12 % at constant pace after the baseline prompts slow_down (cardiac_drift)', () => {
    const rand = prng(10);
    const run = synthRun(5400, (t) => {
      const p = steadyPoint(rand, t);
      return { ...p, hr: p.hr + (t > 1800 ? Math.min(18, ((t - 1800) / 1800) * 18) : 0) };
    });
    const slow = replay(run, { profile: athlete, conditions: { tempC: 12, humidity: 50 } }).alerts.filter((a) => a.cause === 'cardiac_drift');
    expect(slow.length).toBeGreaterThanOrEqual(1);
    expect(slow[0]!.t).toBeGreaterThan(1800);
    expect(slow[0]!.why).toMatch(/^HR \d+ bpm \(\d+%\) above what this pace took early in the run, for \d+ min\.$/);
  });

  it('the same drift with HR locked onto the cadence is ignored (optical cadence lock)', () => {
    const rand = prng(10);
    const run = synthRun(5400, (t) => {
      const p = steadyPoint(rand, t);
      return t > 1800 ? { ...p, hr: p.cadence!, cadence: p.cadence! } : p;
    });
    expect(replay(run, { profile: athlete, conditions: { tempC: 12, humidity: 50 } }).alerts.filter((a) => a.kind === 'slow_down')).toEqual([]);
  });

  it('interval reps (fast/slow alternation) never read as drift', () => {
    const rand = prng(12);
    const run = synthRun(3600, (t) => {
      const p = steadyPoint(rand, t);
      const hard = t > 900 && t % 300 < 180;
      return { ...p, speed: hard ? 4.2 : 2.4, hr: hard ? 172 : 140 };
    });
    expect(replay(run, { profile: athlete, conditions: { tempC: 12, humidity: 50 } }).alerts.filter((a) => a.cause === 'cardiac_drift')).toEqual([]);
  });

  it('with HR only, speed-based detectors are off and the report says so', () => {
    const rand = prng(13);
    const run = synthRun(1800, (t) => ({ hr: steadyPoint(rand, t).hr, speed: NaN }));
    const report = analyzeRun(run, { profile: athlete });
    const status = Object.fromEntries((report.detectors as { id: string; on: boolean; note: string }[]).map((d) => [d.id, d]));
    expect(status['cardiac-drift']!.on).toBe(false);
    expect(status['cardiac-drift']!.note).toContain('speed');
    expect(status['fast-start']!.on).toBe(true);
    expect(report.alerts).toEqual([]);
  });

  it('a sudden stop after risk built up suggests cramp care; the same stop early in an easy run does not', () => {
    const rand = prng(14);
    const stopAt = (at: number) =>
      synthRun(at + 120, (t) => {
        const p = steadyPoint(rand, t);
        if (t >= at) return { ...p, speed: 0, cadence: 0 };
        // Late in a long, hot, drifting run: HR creeping up at the same pace.
        return { ...p, hr: p.hr + Math.min(15, Math.max(0, (t - 1800) / 300)) };
      });
    const late = replay(stopAt(9000), { profile: { ...athlete, usualLongRunMin: 90 }, conditions: { tempC: 30, humidity: 70 } }).alerts;
    expect(late.some((a) => a.cause === 'cramp_suspected')).toBe(true);
    const early = replay(stopAt(1500), { profile: athlete, conditions: { tempC: 12, humidity: 50 } }).alerts;
    expect(early.some((a) => a.cause === 'cramp_suspected')).toBe(false);
  });
});

describe('policy', () => {
  it('never two prompts within a minute, and every message fits a watch', () => {
    const rand = prng(15);
    // A hard, hot, long run that makes several detectors fire.
    const run = synthRun(3 * 3600, (t) => {
      const p = steadyPoint(rand, t);
      return { ...p, hr: Math.min(185, p.hr + 20 + t / 400), cadence: p.cadence! - (t > 7200 ? (t - 7200) / 200 : 0) };
    });
    const { alerts } = replay(run, { profile: { ...athlete, usualLongRunMin: 90 }, conditions: { tempC: 31, humidity: 70 } });
    expect(alerts.length).toBeGreaterThan(3);
    for (let i = 1; i < alerts.length; i++) expect(alerts[i]!.t - alerts[i - 1]!.t).toBeGreaterThanOrEqual(60);
    for (const a of alerts) expect(a.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(alerts.length / 3).toBeLessThanOrEqual(8);
  });

  it('time comes only from the samples: the wall clock changes nothing', () => {
    const rand = prng(16);
    const run = synthRun(3600, (t) => ({ ...steadyPoint(rand, t), hr: 175 }));
    const a = replay(run, { profile: athlete, conditions: { tempC: 25, humidity: 50 } }).alerts;
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2031-01-01T00:00:00Z'));
    const b = replay(run, { profile: athlete, conditions: { tempC: 25, humidity: 50 } }).alerts;
    vi.useRealTimers();
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});

describe('prompt texts', () => {
  it('every cause, first or escalated, fits a watch screen and gives one sentence of why', () => {
    const sig = { active: true, value: 123.4, a: 45.6, b: 7.8 };
    const profile = resolveProfile({ hrMax: 188, hrRest: 50 }, PROFILE_DEFAULTS);
    for (const { cause, words } of CAUSES) {
      for (const [escalated, lastDrinkT] of [[false, NaN], [true, 1200]] as const) {
        const shared = { lastDrinkT } as Shared;
        const { message, why } = words({ sig, escalated, profile, shared, muscle: 'calf' });
        expect(message.length, `${cause} ${escalated}`).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
        expect(why).toMatch(/^\S.*\.$/);
        expect(why.replace(/\d\.\d/g, '').split('. ')).toHaveLength(1);
      }
    }
  });
});

describe('compliance', () => {
  // HR drifts up at constant pace; the simulated runner either slows 10 % after the first slow_down or ignores it.
  function closedLoop(complies: boolean): Alert[] {
    const rand = prng(19);
    const alerts: Alert[] = [];
    const engine = createEngine({ profile: athlete, conditions: { tempC: 12, humidity: 50 } }, { alert: (a) => alerts.push(a), risk: () => {} });
    const s = emptySample();
    let dist = 0;
    for (let t = 0; t < 3 * 3600; t++) {
      const slowed = complies && alerts.some((a) => a.kind === 'slow_down');
      const p = steadyPoint(rand, t);
      s.t = t;
      s.speed = slowed ? p.speed * 0.88 : p.speed;
      dist += s.speed;
      s.distance = dist;
      s.cadence = p.cadence!;
      s.altitude = 100;
      s.hr = p.hr + (t > 1800 ? Math.min(20, ((t - 1800) / 3600) * 20) : 0);
      engine.push(s);
    }
    return alerts.filter((a) => a.kind === 'slow_down');
  }

  it('an ignored slow_down escalates while the drift keeps rising; a heeded one stays quiet', () => {
    const ignored = closedLoop(false);
    expect(ignored.length).toBeGreaterThanOrEqual(2);
    expect(ignored.slice(1).every((a) => a.severity === 'urgent')).toBe(true);
    const heeded = closedLoop(true);
    expect(heeded).toHaveLength(1);
  });
});

describe('sink contract', () => {
  it('risk points are fresh objects the caller may keep, unless it opts into reuse', () => {
    const rand = prng(18);
    const run = synthRun(600, (t) => steadyPoint(rand, t));
    const collect = (reuse: boolean) => {
      const kept: { t: number; factors: string[] }[] = [];
      const engine = createEngine({ channels: run.channels }, { alert: () => {}, risk: (p) => void kept.push(p), reuseRiskPoint: reuse });
      const row = emptySample();
      for (let i = 0; i < run.samples.length; i++) engine.push(readRow(run.samples, i, row));
      return kept;
    };
    const fresh = collect(false);
    expect(fresh.length).toBeGreaterThan(50);
    expect(new Set(fresh.map((p) => p.t)).size).toBe(fresh.length);
    expect(new Set(fresh).size).toBe(fresh.length);
    const reused = collect(true);
    expect(new Set(reused).size).toBe(1);
  });
});

describe('cramp journal', () => {
  const contexts: CrampContext[] = [
    { t: 7800, decouplingPct: 6.5, shareOfUsualLongRun: 0.9, cadenceChangePct: -3 },
    { t: 8400, decouplingPct: 7.2, shareOfUsualLongRun: 1.0, cadenceChangePct: -4 },
    { t: 9000, decouplingPct: 6.1, shareOfUsualLongRun: 1.1, cadenceChangePct: -2 },
  ];

  it('from two cramps on, thresholds move toward this athlete’s own and the report says so in words', () => {
    const p = personalThresholds(contexts, JOURNAL_DEFAULTS);
    expect(p.basedOn).toBe(3);
    expect(p.driftPct).toBeCloseTo(0.8 * 6.5, 5);
    expect(p.sentence).toBe('your last 3 cramps came after 2 h 10 with decoupling over 6% and cadence down over 2%');
    expect(personalThresholds(contexts.slice(0, 1), JOURNAL_DEFAULTS).sentence).toBeNull();
  });

  it('makes the engine speak earlier on the same run', () => {
    const rand = prng(17);
    const run = synthRun(5400, (t) => {
      const p = steadyPoint(rand, t);
      return { ...p, hr: p.hr + (t > 1800 ? Math.min(9, ((t - 1800) / 1800) * 9) : 0) };
    });
    const first = (o: EngineOptions) => replay(run, o).alerts.find((a) => a.cause === 'cardiac_drift')?.t ?? Infinity;
    const plain = first({ profile: athlete, conditions: { tempC: 12, humidity: 50 } });
    const personal = first({ profile: { ...athlete, crampHistory: contexts }, conditions: { tempC: 12, humidity: 50 } });
    expect(personal).toBeLessThan(plain);
    const report = analyzeRun(run, { profile: { ...athlete, crampHistory: contexts } });
    expect(report.personal).toContain('your last 3 cramps');
  });
});
