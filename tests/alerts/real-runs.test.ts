/**
 * The nine classes of wrong advice a coach found on real runs (issue 12), each pinned on a real file: the
 * project's fixtures always, ../shared's real runs where present (skipped with a reason otherwise).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeRun, createEngine } from '../../alerts/engine.js';
import type { Shared } from '../../alerts/detector.js';
import { CAUSES } from '../../alerts/registry.js';
import { minettiFactor, movingMetabolicWatts } from '../../alerts/physiology.js';
import { resolveProfile, PROFILE_DEFAULTS } from '../../alerts/profile.js';
import type { Alert, Report } from '../../alerts/types.js';
import { decodeFitFile } from '../../ingest/fit-file.js';
import { runFeed } from '../../ingest/feed.js';
import type { NormalizedRun } from '../../ingest/sample.js';

const FIX = join(import.meta.dirname, '../../fixtures/fit');
const SHARED = join(import.meta.dirname, '../../../shared');
const haveShared = existsSync(join(SHARED, 'realruns'));
if (!haveShared) console.log('real-runs: ../shared/realruns absent: the tests on its files are skipped');

const running = () => decodeFitFile(join(FIX, 'roznet__FitFileParser/running.fit'));
const FATIGUE = new Set(['slow_down', 'breathe', 'cramp_care']);

/** A copy of a run whose columns `edit` may change (the decoded run is not touched). */
function edited(run: NormalizedRun, edit: (c: NormalizedRun['samples']) => void, channels = run.channels): NormalizedRun {
  const c = { ...run.samples } as NormalizedRun['samples'];
  for (const k of Object.keys(c) as (keyof typeof c)[]) {
    const v = c[k];
    if (v instanceof Float64Array) (c as unknown as Record<string, Float64Array>)[k] = v.slice();
  }
  edit(c);
  return { ...run, samples: c, channels: [...channels] };
}

describe('1. only running is analysed', () => {
  it('a cycling file gets a report that says "not analysed: cycling" and no prompt', async () => {
    const r = analyzeRun(await decodeFitFile(join(FIX, 'jimmykane__fit-parser/batt.fit')), {});
    expect(r.analysed).toBe(false);
    expect(r.notAnalysed).toBe('not analysed: cycling');
    expect(r.alerts).toEqual([]);
    expect(r.assumptions).toEqual([]);
  });

  it('a live run whose start names another sport gets no prompt, from the same samples that prompt as a run', async () => {
    const run = await running();
    const prompts = (sport: string) => {
      const alerts: Alert[] = [];
      const engine = createEngine({ sport, channels: run.channels }, { alert: (a) => alerts.push(a), risk: () => {} });
      runFeed(run).play(engine);
      return alerts;
    };
    expect(prompts('running').length).toBeGreaterThan(0);
    expect(prompts('cycling')).toEqual([]);
    expect(prompts('Kitesurfing')).toEqual([]);
  });
});

describe('2. drink and sodium advice never add up past the engine\'s own estimate', () => {
  const check = (r: Report) => {
    const hydrate = r.alerts.filter((a) => a.kind === 'hydrate');
    let advised = 0;
    for (const a of hydrate) {
      expect(a.amountMl, a.message).toBeGreaterThanOrEqual(100);
      expect(a.message).toBe(`Drink ~${a.amountMl} ml`);
      advised += a.amountMl!;
      const deficit = r.fluid!.filter((p) => p.t <= a.t).at(-1)!.deficitMl;
      expect(advised).toBeLessThanOrEqual(deficit + 1);
      expect(advised).toBeLessThanOrEqual(250 + (800 * (a.t - hydrate[0]!.t)) / 3600 + 1);
    }
    const sodium = r.alerts.filter((a) => a.kind === 'electrolytes').reduce((s, a) => s + a.sodiumMg!, 0);
    expect(sodium).toBeLessThanOrEqual(r.metrics.estSodiumLossMg!);
    expect(r.metrics.advisedDrinkMl).toBe(advised);
    return advised;
  };
  it('on a 2-hour real run the amounts adapt and stay within the loss', async () => {
    const r = analyzeRun(await running(), {});
    expect(check(r)).toBeGreaterThan(0);
  });
  it('on a 7-hour multisport file, counted from the running leg', async () => {
    const run = await decodeFitFile(join(FIX, 'dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit'));
    const r = analyzeRun(run, {});
    check(r);
    const legStart = run.meta.legs!.find((l) => l.running)!.startT;
    for (const a of r.alerts.filter((x) => x.kind === 'hydrate')) {
      const min = Number(/(\d+) min since/.exec(a.why)?.[1]);
      expect(min).toBeLessThanOrEqual((a.t - legStart) / 60 + 1);
    }
  });
  it.skipIf(!haveShared)('on a real marathon', async () => {
    check(analyzeRun(await decodeFitFile(join(SHARED, 'realruns/willianpaixao__polar-running-index/outdoor_marathon.FIT')), {}));
  });
});

describe('3. sweat on climbs and without speed', () => {
  it('a slow steep climb costs far more than the same speed on the flat (Minetti 2002)', () => {
    expect(minettiFactor(0)).toBe(1);
    expect(minettiFactor(0.25)).toBeGreaterThan(2.5);
    expect(minettiFactor(-0.1)).toBeLessThan(0.7);
    expect(movingMetabolicWatts(2.2, 0.2, 70, 1.4)).toBeGreaterThan(1.8 * movingMetabolicWatts(2.2, 0, 70, 1.4));
  });
  it('a run without speed still gets a sweat estimate from HR, and the report says so', async () => {
    const run = await running();
    const noSpeed = edited(run, (c) => { c.speed.fill(NaN); c.distance.fill(NaN); }, run.channels.filter((ch) => ch !== 'speed' && ch !== 'distance'));
    const r = analyzeRun(noSpeed, {});
    expect(r.metrics.estSweatLossMl).toBeGreaterThan(600);
    expect((r.assumptions as string[]).join(' ')).toMatch(/from heart rate \(Keytel 2005/);
    expect(r.detectors).toContainEqual(expect.objectContaining({ id: 'hydration-gap', on: true }));
  });
});

describe('4. breathe prompts only from device-recorded respiration', () => {
  it('RR intervals are not turned into a respiration channel', async () => {
    const hrv = await decodeFitFile(join(FIX, 'stadelmanma__fitparse-rs/hrv-activity.fit'));
    const asRun = { ...hrv, meta: { ...hrv.meta, sport: 'running', legs: [] }, channels: hrv.channels.filter((c) => c !== 'respiration') };
    expect(asRun.rr?.ms.length ?? 0).toBeGreaterThan(0);
    const r = analyzeRun(asRun, {});
    expect(r.channels).not.toContain('respiration');
    expect(r.warnings.map((w) => w.code)).not.toContain('respiration_from_rr');
    expect(r.detectors).toContainEqual(expect.objectContaining({ id: 'respiration', on: false }));
  });
});

describe('5. fast start judged against the athlete\'s own numbers', () => {
  it.skipIf(!haveShared)('an even tempo from the gun is no fast start when nothing is known of the runner', async () => {
    const r = analyzeRun(await decodeFitFile(join(SHARED, 'realruns/msimms__TestFilesForFitnessApps/20210507_run_coros_pace_2.fit')), {});
    expect(r.alerts.filter((a) => a.cause === 'fast_start')).toEqual([]);
  });
  it('with nothing known the message says it is a guess', () => {
    const p = resolveProfile(undefined, PROFILE_DEFAULTS);
    const fastStart = CAUSES.find((c) => c.cause === 'fast_start')!;
    const { why } = fastStart.words({ sig: { active: true, value: 98, a: 186.1, b: 7 }, escalated: false, profile: p, shared: {} as Shared, muscle: '' });
    expect(why).toMatch(/not known: a guess/);
  });
});

describe('6. workouts, terrain and sensor artefacts are not fatigue', () => {
  it('short wrist HR spikes change no prompt', async () => {
    const run = await running();
    const spiky = edited(run, (c) => {
      for (let i = 0; i < c.length; i++) if (Math.floor(c.t[i]! / 600) % 2 === 1 && c.t[i]! % 600 < 15) c.hr[i] = 203;
    });
    const causes = (r: Report) => r.alerts.map((a) => `${a.cause}@${a.t}`);
    expect(causes(analyzeRun(spiky, {}))).toEqual(causes(analyzeRun(run, {})));
  });
  it.skipIf(!haveShared)('a fartlek (about six fast reps) is recognised from the file: no fatigue prompt, no decoupling', async () => {
    const r = analyzeRun(await decodeFitFile(join(SHARED, 'realruns/aaron-schroeder__heartandsole/3981100861.fit')), {});
    expect(r.sessionKind).toBe('intervals');
    expect(r.alerts.filter((a) => FATIGUE.has(a.kind))).toEqual([]);
    expect(r.metrics.decouplingPct).toBeNull();
    expect((r.notes as string[]).join(' ')).toMatch(/structured workout/);
  });
});

describe('7. the wall: pace and HR falling together late in a long run', () => {
  it('is recognised with a fitting prompt', async () => {
    const run = await running();
    const t0 = 75 * 60;
    const fading = edited(run, (c) => {
      for (let i = 0; i < c.length; i++) {
        if (c.t[i]! < t0) continue;
        c.speed[i] = c.speed[i]! * 0.8;
        c.hr[i] = c.hr[i]! - 12;
      }
    });
    const f = analyzeRun(fading, {}).alerts.filter((a) => a.cause === 'fading');
    expect(f.length).toBeGreaterThan(0);
    expect(f[0]!.t).toBeGreaterThan(t0);
    expect(f[0]!.message).toMatch(/carbs/);
    expect(analyzeRun(run, {}).alerts.filter((a) => a.cause === 'fading')).toEqual([]);
  });
});

describe('8. texts never state a default as the runner\'s fact', () => {
  it('no prompt on the fixtures says "your usual" or "threshold" while those are assumed', async () => {
    for (const f of ['roznet__FitFileParser/running.fit', 'jimmykane__fit-parser/garmin-stamina.fit', 'dtcooper__python-fitparse/activity-large-fenxi2-multisport.fit']) {
      for (const a of analyzeRun(await decodeFitFile(join(FIX, f)), {}).alerts) expect(a.why, f).not.toMatch(/your usual|threshold/);
    }
  });
  it('learned values are stated as learned', () => {
    const p = resolveProfile({ hrMax: 186, usualLongRunMin: 105, learned: { hrMax: 'learned from 14 runs since 12 Oct' } }, PROFILE_DEFAULTS);
    expect(p.hrMaxKnown).toBe(true);
    expect(p.notes).toContain('HRmax 186 bpm learned from 14 runs since 12 Oct');
    expect(p.notes.join(' ')).not.toMatch(/HRmax assumed/);
  });
});

describe('9. metrics over steady running only', () => {
  it('the report gives average pace and HR, and decoupling only where it means something', async () => {
    const r = analyzeRun(await running(), {});
    expect(r.metrics.avgPaceSPerKm).toBeGreaterThan(240);
    expect(r.metrics.avgPaceSPerKm).toBeLessThan(480);
    expect(r.metrics.avgHr).toBeGreaterThan(100);
    expect(r.metrics.maxHr).toBeGreaterThanOrEqual(r.metrics.avgHr!);
    const notes = r.notes as string[];
    if (r.metrics.decouplingPct === null) expect(notes.join(' ')).toMatch(/decoupling not given/);
    else expect(Math.abs(r.metrics.decouplingPct)).toBeLessThan(20);
  });
});
