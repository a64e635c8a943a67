// Live runs that start together must not all save their engine checkpoint on the same batch: with thousands of
// watches that held the event loop for hundreds of ms every 20 batches. The first checkpoint comes after 1–20
// batches, fixed per run id, so a fleet's checkpoints spread over the whole cycle.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { firstCheckpointAfter } from '../../src/live/rebuild.js';

describe('checkpoint phase per run', () => {
  it('is the same for a run id every time (a rebuilt session keeps its phase)', () => {
    const id = randomUUID();
    expect(firstCheckpointAfter(id)).toBe(firstCheckpointAfter(id));
  });

  it('spreads 5,000 runs over all 20 batches of the cycle, none with more than 1.5× its share', () => {
    const perPhase = new Array<number>(21).fill(0);
    for (let i = 0; i < 5000; i++) {
      const phase = firstCheckpointAfter(randomUUID());
      expect(phase).toBeGreaterThanOrEqual(1);
      expect(phase).toBeLessThanOrEqual(20);
      perPhase[phase]!++;
    }
    const counts = perPhase.slice(1);
    expect(Math.max(...counts)).toBeLessThan(1.5 * (5000 / 20));
    expect(Math.min(...counts)).toBeGreaterThan(0.5 * (5000 / 20));
  });
});
