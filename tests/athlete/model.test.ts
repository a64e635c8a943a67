/**
 * The athlete model against a synthetic history with known truth (tests/athlete/history.ts), the fold against a
 * full recompute, and the loop from the model and the cramp journal into the engine's next report.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import type { CrampContext } from '../../alerts/types.js';
import { crampContextAt } from '../../src/athlete/cramp-context.js';
import { criticalSpeed, foldModel, MODEL_VERSION, type SummaryRow } from '../../src/athlete/model.js';
import { learnedNote, mergeProfile } from '../../src/athlete/profile-merge.js';
import { summarizeRun } from '../../src/athlete/summary.js';
import { run } from '../../src/sim/simulate.js';
import { ATHLETE, EASY_MPS, history, LONG_MPS, THRESHOLD_HR, THRESHOLD_MPS, toNormalized, type HistoryRun } from './history.js';

const runs = history(8);
const rows: SummaryRow[] = runs.map((r) => ({ runId: r.id, summary: summarizeRun(r.run) }));
const model = foldModel(rows);

/** Tolerances stated in docs/athlete-model.md. */
const TOL = { hrMaxBpm: 3, lthrBpm: 4, thresholdPacePct: 3, easyPacePct: 3, longRunPct: 5, cadenceSpm: 2 };

describe('learned values vs the truth of the simulated runner', () => {
  test('HRmax, threshold HR and pace, easy pace, usual long run, cadence at 3 m/s', () => {
    const longRuns = runs.filter((r) => r.kind === 'long').map((r) => r.run.meta.timerS / 60).sort((a, b) => a - b);
    const truthLong = (longRuns[3]! + longRuns[4]!) / 2;
    // Easy running in the history: the easy runs and the long runs, time-weighted.
    const truthEasy = (45 * EASY_MPS + truthLong * LONG_MPS) / (45 + truthLong);
    const got = {
      hrMax: model.hrMax!.value,
      lthr: model.lthr!.value,
      thresholdPace: model.thresholdPaceMps!.value,
      easyPace: model.easyPaceMps!.value,
      longRun: model.usualLongRunMin!.value,
      cadence: model.cadence!.value,
    };
    console.log('learned', got, 'truth', { hrMax: ATHLETE.hrMax, lthr: THRESHOLD_HR, thresholdPace: THRESHOLD_MPS, easyPace: truthEasy, longRun: truthLong, cadence: ATHLETE.cadenceAt3Mps });
    expect(Math.abs(got.hrMax - ATHLETE.hrMax)).toBeLessThanOrEqual(TOL.hrMaxBpm);
    expect(Math.abs(got.lthr - THRESHOLD_HR)).toBeLessThanOrEqual(TOL.lthrBpm);
    expect(Math.abs(got.thresholdPace / THRESHOLD_MPS - 1) * 100).toBeLessThanOrEqual(TOL.thresholdPacePct);
    expect(Math.abs(got.easyPace / truthEasy - 1) * 100).toBeLessThanOrEqual(TOL.easyPacePct);
    expect(Math.abs(got.longRun / truthLong - 1) * 100).toBeLessThanOrEqual(TOL.longRunPct);
    expect(model.cadence!.atSpeedMps).toBe(3);
    expect(Math.abs(got.cadence - ATHLETE.cadenceAt3Mps)).toBeLessThanOrEqual(TOL.cadenceSpm);
    // Critical speed sits between threshold pace and the 3-min best, as it does in runners.
    expect(model.criticalSpeedMps!.value).toBeGreaterThan(THRESHOLD_MPS * 0.97);
    expect(model.criticalSpeedMps!.value).toBeLessThan(model.mmp['180']!);
  });

  test('each value says what it rests on', () => {
    expect(model.version).toBe(MODEL_VERSION);
    expect(model.runs).toBe(32);
    expect(model.usualLongRunMin!.runs).toBe(4);
    // From the tempo runs (a noisy one may miss the steadiness rule), never from easy, long or interval runs.
    expect(model.lthr!.runs).toBeGreaterThanOrEqual(6);
    expect(model.lthr!.runs).toBeLessThanOrEqual(8);
    expect(model.usualLongRunMin!.from <= model.usualLongRunMin!.to).toBe(true);
    expect(learnedNote({ value: 1, runs: 14, from: '2026-10-12', to: '2026-11-30' })).toBe('learned from 14 runs since 12 Oct');
    expect(learnedNote({ value: 1, runs: 1, from: '2025-12-30', to: '2026-01-02' })).toBe('learned from 1 run since 30 Dec 2025');
    expect(model.weeks).toHaveLength(8);
    expect(model.weeks.every((w) => w.runs === 4 && w.load > 0)).toBe(true);
    // Steady training: acute and chronic load about equal.
    expect(model.loadRatio!.ratio).toBeGreaterThan(0.85);
    expect(model.loadRatio!.ratio).toBeLessThan(1.15);
  });

  test('HRmax is robust to an optical artefact and a spike; no HRmax from too few runs', () => {
    const bad = toNormalized({ seed: 77, startTime: '2026-09-28T07:00:00Z', tempC: 12, humidity: 60, plan: [run(40, EASY_MPS)], defects: { cadenceLock: [[600, 900]] } });
    // A strap glitch: 20 s of 230 bpm.
    for (let i = 1200; i < 1220; i++) bad.samples.hr[i] = 230;
    const withBad = foldModel([...rows, { runId: 'bad', summary: summarizeRun(bad) }]);
    expect(Math.abs(withBad.hrMax!.value - model.hrMax!.value)).toBeLessThanOrEqual(1);
    expect(foldModel(rows.slice(0, 2)).hrMax).toBeNull();
  });

  test('a week of much more running raises the load ratio', () => {
    const big = history(1, { start: '2026-09-28T00:00:00Z', longMin: () => 180, seed: 5000 }).map((r) => ({ runId: `x-${r.id}`, summary: summarizeRun(r.run) }));
    const extra = history(1, { start: '2026-09-28T00:00:00Z', seed: 6000 }).map((r) => ({ runId: `y-${r.id}`, summary: summarizeRun(r.run) }));
    const ratio = foldModel([...rows, ...big, ...extra]).loadRatio!.ratio;
    expect(ratio).toBeGreaterThan(1.3);
  });

  test('critical speed from a known distance–time line', () => {
    const cs = 4.1;
    const dPrime = 180;
    const mmp: Record<string, number> = {};
    for (const d of [180, 360, 720, 1200]) mmp[String(d)] = cs + dPrime / d;
    const fit = criticalSpeed(mmp)!;
    expect(fit.cs).toBeCloseTo(cs, 6);
    expect(fit.dPrime).toBeCloseTo(dPrime, 4);
    // A flat curve (easy runs only) is no all-out curve: no critical speed.
    expect(criticalSpeed({ '180': 3.05, '360': 3.04, '720': 3.02, '1200': 3.01 })).toBeNull();
  });
});

describe('the fold', () => {
  test('equals a full recompute after any sequence of adds and deletes, in any order', () => {
    const pool: HistoryRun[] = runs.slice(0, 16);
    const byId = new Map(rows.map((r) => [r.runId, r.summary]));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: pool.length - 1 })), { minLength: 1, maxLength: 40 }),
        fc.integer(),
        (ops, salt) => {
          // Incremental: a summary row is added when a run is stored and removed when it is deleted.
          const stored = new Map<string, SummaryRow>();
          for (const [add, i] of ops) {
            const r = pool[i]!;
            if (add) stored.set(r.id, { runId: r.id, summary: byId.get(r.id)! });
            else stored.delete(r.id);
          }
          const folded = [...stored.values()];
          // Shuffle: the store's row order must not matter.
          const shuffled = folded.map((r, k) => ({ r, k: Math.imul(k + 1, salt | 1) >>> 0 })).sort((a, b) => a.k - b.k).map((x) => x.r);
          // Full recompute: every remaining run summarised again from its samples.
          const full = pool.filter((r) => stored.has(r.id)).map((r) => ({ runId: r.id, summary: summarizeRun(r.run) }));
          const a = foldModel(shuffled);
          expect(a).toEqual(foldModel(full));
          expect(JSON.parse(JSON.stringify(a))).toEqual(foldModel(JSON.parse(JSON.stringify(full)) as SummaryRow[]));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('without the training series the fold gives the same model otherwise', () => {
    // A run from over a year before: outside every window, it only shows in the series.
    const old = { runId: 'old', summary: { ...rows[0]!.summary, startMs: rows[0]!.summary.startMs! - 400 * 86_400_000 } };
    for (const input of [rows, [old, ...rows]]) {
      const full = foldModel(input);
      const lean = foldModel(input, { training: false });
      expect(lean.weeks).toEqual([]);
      expect(lean.history).toEqual([]);
      expect({ ...lean, weeks: full.weeks, history: full.history }).toEqual(full);
    }
  });

  test('the key changes when a run is added or deleted, and only then', () => {
    const k = foldModel(rows).key;
    expect(foldModel([...rows].reverse()).key).toBe(k);
    expect(foldModel(rows.slice(1)).key).not.toBe(k);
  });
});

describe('into the engine', () => {
  const typed = { massKg: 68, hrMax: 190 };
  const merged = mergeProfile(typed, model);

  test('typed wins, learned next with its note, nothing else invented', () => {
    expect(merged.hrMax).toBe(190);
    expect(merged.learned?.hrMax).toBeUndefined();
    expect(merged.usualLongRunMin).toBe(model.usualLongRunMin!.value);
    expect(merged.learned?.usualLongRunMin).toMatch(/^learned from 4 runs since \d+ \w{3}$/);
    expect(merged.lthr).toBe(model.lthr!.value);
    expect(merged.easyPaceMps).toBe(model.easyPaceMps!.value);
    expect(merged.thresholdPaceMps).toBe(model.thresholdPaceMps!.value);
    expect(merged.sweatRateMlPerH).toBeUndefined();
    expect(mergeProfile(typed, foldModel([]))).toEqual(typed);
  });

  test('a run beyond the usual long run prompts only when the history says it is beyond', () => {
    const longer = toNormalized({ seed: 4242, startTime: '2026-10-04T07:00:00Z', tempC: 12, humidity: 60, plan: [run(130, LONG_MPS)] });
    const overload = (usual: number | undefined) => {
      const m = usual === undefined ? null : foldModel(history(8, { longMin: () => usual, seed: 9000 }).map((r) => ({ runId: r.id, summary: summarizeRun(r.run) })));
      const report = analyzeRun(longer, { profile: mergeProfile({ massKg: 68 }, m), conditions: { tempC: 12, humidity: 60 } });
      return report.alerts.filter((a) => a.cause === 'overload');
    };
    expect(overload(100).length).toBeGreaterThan(0); // 130 min is 1.3 × the usual 100
    expect(overload(125)).toHaveLength(0); // 130 min is about the usual
  });

  test('two journaled cramps move the thresholds, visibly in the next report', () => {
    const longs = runs.filter((r) => r.kind === 'long').slice(-2);
    const contexts: CrampContext[] = longs.map((r) => crampContextAt(r.run, 90 * 60, { muscle: 'calf', severity: 3 }, { profile: merged, conditions: { tempC: 12, humidity: 60 } }));
    for (const c of contexts) {
      expect(c.t).toBe(5400);
      expect(c.shareOfUsualLongRun).toBeCloseTo(90 / merged.usualLongRunMin!, 2);
      expect(Number.isFinite(c.decouplingPct)).toBe(true);
      expect(c.fluidDeficitMl).toBeGreaterThan(0);
      expect(c.intensity).toBeGreaterThan(0.5);
    }
    const next = toNormalized({ seed: 31337, startTime: '2026-10-04T07:00:00Z', tempC: 12, humidity: 60, plan: [run(100, LONG_MPS)] });
    const before = analyzeRun(next, { profile: mergeProfile(typed, model, contexts.slice(0, 1)), conditions: { tempC: 12, humidity: 60 } });
    const after = analyzeRun(next, { profile: mergeProfile(typed, model, contexts), conditions: { tempC: 12, humidity: 60 } });
    expect(before.personal).toBeNull();
    expect(after.personal).toMatch(/^your last 2 cramps came after 1 h 30/);
  });
});
