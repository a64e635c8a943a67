/** A risk point is pushed when the watch face would change (rounded score, the two factors named) or a minute on. */
import { describe, expect, it } from 'vitest';
import { RISK_PUSH_AT_LEAST_EVERY_S, RiskPushGate } from '../../src/live/risk-push.js';

const point = (t: number, score: number, factors: string[] = ['fast_start', 'fluid_deficit']) => ({ t, score, factors });

describe('risk push gate', () => {
  it('pushes the first point, then only what changes the face, and at least once a minute', () => {
    const gate = new RiskPushGate();
    const pushed = [
      point(10, 41.2), // first
      point(20, 40.6), // shows 41 again
      point(30, 41.49),
      point(40, 41.51), // 42
      point(50, 41.6, ['fluid_deficit', 'fast_start']), // the factors swap places
      point(60, 41.6, ['fluid_deficit', 'fast_start', 'duration']), // a third factor is not on the face
      point(70, 41.6, ['fluid_deficit']),
      point(80, 41.6, ['fluid_deficit']),
      point(70 + RISK_PUSH_AT_LEAST_EVERY_S - 1, 41.6, ['fluid_deficit']),
      point(70 + RISK_PUSH_AT_LEAST_EVERY_S, 41.6, ['fluid_deficit']), // a minute after the last push
    ].filter((p) => gate.due(p)).map((p) => p.t);
    expect(pushed).toEqual([10, 40, 50, 70, 70 + RISK_PUSH_AT_LEAST_EVERY_S]);
  });

  it('pushes when factors appear on the face or leave it', () => {
    const gate = new RiskPushGate();
    expect(gate.due(point(10, 0.2, []))).toBe(true);
    expect(gate.due(point(20, 0.4, []))).toBe(false);
    expect(gate.due(point(30, 0.4, ['fluid_deficit']))).toBe(true);
    expect(gate.due(point(40, 0.4, []))).toBe(true);
  });
});
