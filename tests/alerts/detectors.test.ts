/**
 * One contract, run against every detector in the registry (style.md Model 5): missing data never throws and
 * never prompts, the same ticks give the same state, state survives the snapshot encoding and continues
 * identically, and the rings are allocated once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../ingest/sample.js';
import { DEFAULT_CONFIG } from '../../alerts/config.js';
import { F, RISK_FACTORS, type EngineCtx, type Shared, type Signal, type Tick } from '../../alerts/detector.js';
import { personalThresholds, resolveLimits } from '../../alerts/journal.js';
import { PROFILE_DEFAULTS, resolveProfile } from '../../alerts/profile.js';
import { CAUSES, DETECTORS, orderCauses } from '../../alerts/registry.js';
import { decodeState, encodeState } from '../../alerts/snapshot.js';
import { ALERT_CAUSES, type AlertCause } from '../../alerts/types.js';
import { prng } from './helpers.js';

function makeCtx(): EngineCtx {
  const cfg = structuredClone(DEFAULT_CONFIG);
  const profile = resolveProfile({ massKg: 68, hrRest: 50, hrMax: 188, usualLongRunMin: 60 }, PROFILE_DEFAULTS);
  const personal = personalThresholds([], cfg.journal);
  const signals = {} as Record<AlertCause, Signal>;
  for (const c of CAUSES) signals[c.cause] = { active: false, value: NaN, a: NaN, b: NaN };
  const shared: Shared = {
    movingS: 0, sens: 1, hrrFrac: NaN, speed1m: NaN, gas1m: NaN, aboveThresholdS: 0, sweatMl: 0, drankMl: 0,
    lastDrinkT: NaN, sodiumLossMg: 0, sodiumIntakeMg: 0, decouplingPct: NaN,
    cadenceChangePct: NaN, maxDecouplingPct: NaN, risk: 0, crampT: -1e9, startT: NaN, advisedMl: 0, advisedTotalMl: 0,
    firstAdviceT: NaN, sodiumAdvisedMg: 0, sodiumAdvisedTotalMg: 0, sweatFromSpeedTicks: 0, sweatFromHrTicks: 0,
    structured: 0, surges: 0,
  };
  return {
    cfg, profile, personal, session: null, conditionsTempC: 20, conditionsHumidity: 50, shared, signals,
    factors: new Float64Array(RISK_FACTORS.length),
    limits: resolveLimits({ driftPct: cfg.drift.thresholdPct, cadenceDropPct: cfg.cadence.dropPct, lateShare: cfg.overload.lateShare, sodiumMg: cfg.sodium.thresholdMg }, personal),
  };
}

/** A plausible tick stream: easy running with noise, a drift and a cadence fade late, NaN gaps sprinkled in. */
function tickAt(k: number, rand: () => number, out: Tick): Tick {
  const t = (k + 1) * 5;
  const gap = rand() < 0.03;
  out.k = k;
  out.t = t;
  out.dt = 5;
  out.paused = false;
  out.speed = gap ? NaN : 3 + (rand() - 0.5) * 0.2;
  out.moving = true;
  out.running = true;
  out.sinceResumeS = t;
  out.hr = gap ? NaN : 140 + (t > 3000 ? (t - 3000) / 200 : 0) + (rand() - 0.5) * 3;
  out.hrOk = out.hr === out.hr;
  out.grade = 0;
  out.gas = out.speed;
  out.cadence = 166 - (t > 4000 ? (t - 4000) / 150 : 0);
  out.cadenceSd = 1.5 + rand();
  out.resp = 30 + (t > 3000 ? (t - 3000) / 300 : 0);
  out.airTempC = 24;
  return out;
}

function blankTick(k: number): Tick {
  return {
    k, t: (k + 1) * 5, dt: 5, moving: true, running: true, paused: false, sinceResumeS: (k + 1) * 5, hr: NaN, hrOk: false,
    speed: NaN, gas: NaN, grade: NaN, cadence: NaN, cadenceSd: NaN, resp: NaN, airTempC: NaN, sinceClimbS: 1e9,
  };
}

function run(detectorIndex: number, ticks: number, seed: number, ctx = makeCtx(), state?: unknown) {
  const d = DETECTORS[detectorIndex]!;
  const s = state ?? d.init(ctx);
  const rand = prng(seed);
  const tick = blankTick(0);
  for (let k = 0; k < ticks; k++) {
    ctx.shared.movingS += 5;
    d.step(s, tickAt(k, rand, tick), ctx);
  }
  return { s, ctx };
}

/** The file under alerts/detectors/ that defines the detector with this id. */
function detectorFile(id: string): string {
  const dir = join(import.meta.dirname, '..', '..', 'alerts', 'detectors');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  const found = files.filter((f) => readFileSync(f, 'utf8').includes(`id: '${id}'`));
  expect(found, `the file defining ${id}`).toHaveLength(1);
  return found[0]!;
}

/** The `@default` of each field of the file's exported `…Config` interface, as numbers. */
function documentedDefaults(source: string): Record<string, number> {
  const body = /export interface \w+Config \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? '';
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\s*(\w+)\??:/g)) {
    const value = /@default\s+(-?[\d.e+-]+)/.exec(m[1]!)?.[1];
    out[m[2]!] = value === undefined ? NaN : Number(value);
  }
  return out;
}

it('every published cause but a reported cramp is declared by exactly one detector, each with its own priority', () => {
  for (const cause of ALERT_CAUSES.filter((c) => c !== 'cramp_reported')) {
    expect(DETECTORS.filter((d) => d.causes.some((c) => c.cause === cause)).map((d) => d.id), cause).toHaveLength(1);
  }
  expect(CAUSES.map((c) => c.cause).sort()).toEqual([...ALERT_CAUSES].sort());
  expect(new Set(CAUSES.map((c) => c.priority)).size).toBe(CAUSES.length);
  // What the runner hears first when several fire at once: cramp care, then breathing, then slowing, then drinks.
  const rank = (kind: string) => CAUSES.findIndex((c) => c.kind === kind);
  expect([rank('cramp_care'), rank('breathe'), rank('slow_down'), rank('hydrate'), rank('electrolytes')]).toEqual([0, 2, 4, 9, 10]);
});

it('a cause left undeclared, declared twice or sharing a priority fails at load, not at its first prompt', () => {
  const [first, second, ...rest] = CAUSES;
  expect(() => orderCauses([second!, ...rest])).toThrow(`cause ${first!.cause} is declared by no detector`);
  expect(() => orderCauses([first!, first!, second!, ...rest])).toThrow('declared twice');
  expect(() => orderCauses([first!, { ...second!, priority: first!.priority }, ...rest])).toThrow('share priority');
  expect(orderCauses([...CAUSES].reverse())).toEqual(CAUSES);
});

describe.each(DETECTORS.map((d, i) => [d.id, i] as const))('detector %s', (_id, i) => {
  const d = DETECTORS[i]!;

  it('declares causes the policy orders, channels that exist, and a header-documented config section', async () => {
    for (const ch of [...d.needs, ...(d.needsOneOf ?? [])]) expect(CHANNELS).toContain(ch);
    // Its file: the header comment (method, reference, messy-data rule, limits), then a config interface whose
    // every field says its default, and that default is the one the engine uses.
    const file = detectorFile(d.id);
    const source = readFileSync(file, 'utf8');
    const header = /^\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
    for (const part of ['Method', 'Reference', 'Messy data', 'Limits']) expect(header, `${file}: header`).toMatch(new RegExp(`^ \\* ${part}`, 'm'));
    const documented = documentedDefaults(source);
    expect(Object.keys(documented).length, `${file}: config fields with @default`).toBeGreaterThan(0);
    const defaultsName = /export const (\w+_DEFAULTS)\b/.exec(source)?.[1];
    expect(defaultsName, `${file}: a *_DEFAULTS constant`).toBeDefined();
    const defaults = ((await import(pathToFileURL(file).href)) as Record<string, Record<string, unknown>>)[defaultsName!]!;
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(documented).sort());
    for (const [key, value] of Object.entries(defaults)) expect(value, `${file}: ${key}`).toBe(documented[key]);
  });

  it('all-missing input never throws and never prompts', () => {
    const ctx = makeCtx();
    const s = d.init(ctx);
    for (let k = 0; k < 2000; k++) {
      ctx.shared.movingS += 5;
      d.step(s, blankTick(k), ctx);
      for (const { cause } of d.causes) if (cause !== 'overload') expect(ctx.signals[cause].active).toBe(false);
    }
    for (const f of RISK_FACTORS) expect(Number.isNaN(ctx.factors[F[f]]!)).toBe(false);
  });

  it('the same ticks give the same state; state survives the snapshot encoding and continues identically', () => {
    const a = run(i, 1500, 1);
    const b = run(i, 1500, 1);
    expect(encodeState(a.s)).toEqual(encodeState(b.s));
    // Cut at 700 ticks, encode → JSON → decode, continue; compare with an uncut run.
    const ctx = makeCtx();
    const first = run(i, 700, 2, ctx);
    const restored = decodeState(JSON.parse(JSON.stringify(encodeState(first.s))));
    const rand = prng(99);
    const uncut = structuredClone(first.s);
    const ctx2 = structuredClone(ctx);
    const tick = blankTick(0);
    for (let k = 700; k < 1500; k++) {
      ctx.shared.movingS += 5;
      ctx2.shared.movingS += 5;
      const tk = tickAt(k, rand, tick);
      d.step(restored, tk, ctx);
      d.step(uncut, tk, ctx2);
    }
    expect(encodeState(restored)).toEqual(encodeState(uncut));
    expect(encodeState(ctx.signals)).toEqual(encodeState(ctx2.signals));
  });

  it('allocates its rings once', () => {
    const ctx = makeCtx();
    const s = d.init(ctx) as Record<string, unknown>;
    const buffers = Object.values(s).filter((v) => typeof v === 'object' && v !== null && 'buf' in v).map((v) => (v as { buf: Float64Array }).buf);
    run(i, 3000, 3, ctx, s);
    const after = Object.values(s).filter((v) => typeof v === 'object' && v !== null && 'buf' in v).map((v) => (v as { buf: Float64Array }).buf);
    expect(after).toHaveLength(buffers.length);
    after.forEach((b, j) => expect(b).toBe(buffers[j]));
  });
});
