// The packed risk trail a live session keeps for followers gives back exactly the points the engine emitted, and
// thins as a plain array thinned to every other point would.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RISK_FACTORS } from '../../alerts/detector.js';
import type { RiskPoint } from '../../alerts/types.js';
import { RiskTrail } from '../../src/live/risk-trail.js';

const point = fc.record(
  {
    t: fc.double({ min: 0, max: 1e6, noNaN: true }),
    score: fc.integer({ min: 0, max: 100 }),
    factors: fc.uniqueArray(fc.constantFrom(...RISK_FACTORS), { maxLength: 3 }),
    fluidDeficitMl: fc.integer({ min: -2000, max: 5000 }),
  },
  { requiredKeys: ['t', 'score', 'factors'] },
);

/** What the session kept before the trail: an array, thinned to every other point past `max`. */
function reference(points: RiskPoint[], max: number): RiskPoint[] {
  const kept: RiskPoint[] = [];
  for (const p of points) {
    kept.push(p);
    if (kept.length > max) {
      let w = 0;
      for (let r = 0; r < kept.length; r += 2) kept[w++] = kept[r]!;
      kept.length = w;
    }
  }
  return kept;
}

describe('risk trail', () => {
  it('gives back the points pushed, thinned as the array was', () => {
    fc.assert(
      fc.property(fc.array(point, { maxLength: 200 }), fc.integer({ min: 1, max: 40 }), (points, max) => {
        const trail = new RiskTrail(max);
        for (const p of points) trail.push(p);
        expect(trail.points()).toEqual(reference(points, max));
        expect(trail.length).toBeLessThanOrEqual(max);
      }),
    );
  });

  it('copies what it keeps: the engine may reuse its point object', () => {
    const trail = new RiskTrail();
    const p: RiskPoint = { t: 10, score: 40, factors: ['duration'], fluidDeficitMl: 300 };
    trail.push(p);
    p.t = 20;
    p.factors[0] = 'fast_start';
    trail.push(p);
    expect(trail.points()).toEqual([
      { t: 10, score: 40, factors: ['duration'], fluidDeficitMl: 300 },
      { t: 20, score: 40, factors: ['fast_start'], fluidDeficitMl: 300 },
    ]);
  });
});
