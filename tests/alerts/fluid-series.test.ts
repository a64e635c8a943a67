/**
 * The report's fluid-deficit series (`report.fluid`) and the risk points' `fluidDeficitMl`: the same engine
 * running sums that drive the hydrate prompts, sampled at the risk cadence.
 */
import { describe, expect, it } from 'vitest';
import { analyzeRun, createEngine } from '../../alerts/engine.js';
import type { RiskPoint } from '../../alerts/types.js';
import { emptySample, readRow } from '../../ingest/sample.js';
import { prng, steadyPoint, synthRun } from './helpers.js';

const athlete = { massKg: 68, hrRest: 50, hrMax: 188 };
const warm = { profile: athlete, conditions: { tempC: 26, humidity: 60 } };

describe('fluid-deficit series', () => {
  const rand = prng(41);
  const dry = synthRun(3600, (t) => steadyPoint(rand, t));

  it('one point per risk point, non-decreasing without drinks, ending near metrics.fluidDeficitMl', () => {
    const r = analyzeRun(dry, warm);
    const fluid = r.fluid!;
    expect(fluid.length).toBe(r.risk.length);
    expect(fluid.length).toBeGreaterThan(300);
    expect(fluid.map((p) => p.t)).toEqual(r.risk.map((p) => p.t));
    for (let i = 1; i < fluid.length; i++) expect(fluid[i]!.deficitMl).toBeGreaterThanOrEqual(fluid[i - 1]!.deficitMl);
    const last = fluid.at(-1)!;
    const final = r.metrics.fluidDeficitMl!;
    expect(last.deficitMl).toBeGreaterThan(300);
    expect(last.deficitMl).toBeLessThanOrEqual(final);
    // The rest is the sweat of the last few seconds after the last point (at most ~2 L/h).
    expect(final - last.deficitMl).toBeLessThanOrEqual(Math.ceil((2000 * (r.durationS - last.t + 10)) / 3600));
    // The risk array keeps its documented shape (t, score, factors) in the report.
    expect(Object.keys(r.risk[0]!).sort()).toEqual(['factors', 'score', 't']);
  });

  it('drops by the drink right after a logged drink, and the final total agrees', () => {
    const before = analyzeRun(dry, warm);
    const wet = analyzeRun({ ...dry, events: [{ t: 1805, type: 'drink', ml: 300 }] }, warm);
    const at = (r: typeof wet, t: number) => r.fluid!.find((p) => p.t === t)!.deficitMl;
    expect(at(wet, 1800)).toBe(at(before, 1800));
    expect(at(wet, 1810)).toBeLessThan(at(wet, 1800));
    expect(at(before, 1810) - at(wet, 1810)).toBeGreaterThanOrEqual(299);
    expect(at(before, 1810) - at(wet, 1810)).toBeLessThanOrEqual(301);
    expect(before.metrics.fluidDeficitMl! - wet.metrics.fluidDeficitMl!).toBeCloseTo(300, -1);
  });

  it('live risk points carry the same deficit the report series has', () => {
    const live: RiskPoint[] = [];
    const engine = createEngine({ ...warm, channels: dry.channels }, { alert: () => {}, risk: (p) => void live.push(p) });
    const row = emptySample();
    for (let i = 0; i < dry.samples.length; i++) engine.push(readRow(dry.samples, i, row));
    const report = analyzeRun(dry, warm);
    expect(live.length).toBeGreaterThan(300);
    for (let i = 0; i < live.length; i++) expect(live[i]!.fluidDeficitMl).toBe(report.fluid![i]!.deficitMl);
  });
});
