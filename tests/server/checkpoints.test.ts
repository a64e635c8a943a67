// Live runs that start together must not all save their engine checkpoint on the same batch: with thousands of
// watches that held the event loop for hundreds of ms at once. The first checkpoint comes after 1 to
// CHECKPOINT_EVERY_BATCHES batches, fixed per run id, so a fleet's checkpoints spread over the whole cycle.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_EVERY_BATCHES, firstCheckpointAfter } from '../../src/live/rebuild.js';

describe('checkpoint phase per run', () => {
  it('is the same for a run id every time (a rebuilt session keeps its phase)', () => {
    const id = randomUUID();
    expect(firstCheckpointAfter(id)).toBe(firstCheckpointAfter(id));
  });

  it('spreads 20,000 runs over every batch of the cycle, none with more than 1.5× its share', () => {
    const n = CHECKPOINT_EVERY_BATCHES;
    const runs = 200 * n;
    const perPhase = new Array<number>(n + 1).fill(0);
    for (let i = 0; i < runs; i++) {
      const phase = firstCheckpointAfter(randomUUID());
      expect(phase).toBeGreaterThanOrEqual(1);
      expect(phase).toBeLessThanOrEqual(n);
      perPhase[phase]!++;
    }
    const counts = perPhase.slice(1);
    expect(Math.max(...counts)).toBeLessThan(1.5 * (runs / n));
    expect(Math.min(...counts)).toBeGreaterThan(0.5 * (runs / n));
  });
});
