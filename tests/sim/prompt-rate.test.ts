import { describe, expect, it } from 'vitest';
import { ALERT_KINDS } from '../../alerts/types.js';
import { promptRate } from '../../src/sim/prompt-rate.js';

// Runs the built CLI (`npm test` builds first), as the scenario scorer does.
const fixture = (name: string) => new URL(`../../fixtures/scenarios/${name}`, import.meta.url).pathname;

describe('prompt-rate', () => {
  it('reads a scenario run through `crampguard analyze` as a running activity of the simulated length', () => {
    const r = promptRate(fixture('pause-mid-run.fit'));
    expect(r.error).toBeUndefined();
    expect(r.sport).toBe('running');
    // 25 + 25 min running around a 3 min pause: 53 min from first record to the end.
    expect(r.hours * 60).toBeGreaterThan(52.9);
    expect(r.hours * 60).toBeLessThan(53.1);
    expect(Object.keys(r.byKind).sort()).toEqual([...ALERT_KINDS].sort());
    const total = Object.values(r.byKind).reduce((s, n) => s + n, 0);
    expect(r.perHour).toBeCloseTo(total / r.hours, 9);
  });

  it('reports a file the CLI cannot read with its error code instead of throwing', () => {
    const r = promptRate(new URL('../../package.json', import.meta.url).pathname);
    expect(r.error).toMatch(/^[A-Z_]+: /);
    expect(r.perHour).toBe(0);
  });
});
