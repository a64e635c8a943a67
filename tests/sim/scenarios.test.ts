import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import FitParser from 'fit-file-parser';
import { describe, expect, it } from 'vitest';
import { ALERT_KINDS } from '../../alerts/types.js';
import { buildSuite } from '../../src/sim/make-scenarios.js';
import { SCENARIOS } from '../../src/sim/scenarios.js';

const dir = new URL('../../fixtures/scenarios/', import.meta.url).pathname;
const suite = buildSuite();

describe('scenario suite', () => {
  it('has at least 16 distinct scenarios', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(16);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });

  it('matches what the generator produces now (run `npm run scenarios` after changing src/sim)', () => {
    const committed = readdirSync(dir).filter((f) => f.endsWith('.fit')).sort();
    expect(committed).toEqual([...suite.files.keys()].sort());
    for (const [name, bytes] of suite.files) {
      const onDisk = readFileSync(join(dir, name));
      expect(onDisk.equals(Buffer.from(bytes)), `${name} differs from its generator`).toBe(true);
    }
    expect(readFileSync(join(dir, 'expectations.json'), 'utf8')).toBe(suite.expectationsJson);
  });

  it('gives overload-long and long-within-habit the same run, so only the profile differs', () => {
    const a = suite.files.get('overload-long.fit')!;
    const b = suite.files.get('long-within-habit.fit')!;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('reseeds into a held-out copy: other noise, same labels', () => {
    const heldOut = buildSuite(SCENARIOS, 1);
    expect(heldOut.expectationsJson).toBe(suite.expectationsJson);
    for (const [name, bytes] of heldOut.files) {
      expect(Buffer.from(bytes).equals(Buffer.from(suite.files.get(name)!)), name).toBe(false);
    }
  });

  it('stays under 3 MB', () => {
    const total = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(total).toBeLessThan(3_000_000);
  });

  it('has labels the scorer can check, inside each run', () => {
    const labels = JSON.parse(suite.expectationsJson) as Record<string, { profile: object; conditions: object; expect: unknown[] }>;
    for (const s of SCENARIOS) {
      const label = labels[s.name]!;
      expect(label.profile).toMatchObject({ massKg: expect.any(Number), hrRest: expect.any(Number), hrMax: expect.any(Number) });
      expect(label.conditions).toEqual({ tempC: s.sim.tempC, humidity: s.sim.humidity });
      const duration = s.sim.plan.reduce((sum, seg) => sum + seg.durationS, 0);
      expect(s.expect.length).toBeGreaterThan(0);
      for (const x of s.expect) {
        expect([...ALERT_KINDS, '*']).toContain(x.kind);
        const checks = [x.min, x.max, x.minGapS, x.maxPerHour].filter((v) => v !== undefined);
        expect(checks.length, `${s.name}: a check needs min, max, minGapS or maxPerHour`).toBeGreaterThan(0);
        const from = x.from ?? 0;
        const to = x.to ?? duration;
        expect(from, `${s.name}: window starts inside the run`).toBeLessThan(duration);
        expect(to).toBeGreaterThan(from);
        expect(to).toBeLessThanOrEqual(duration);
        if (x.min !== undefined && x.max !== undefined) expect(x.min).toBeLessThanOrEqual(x.max);
      }
    }
  });

  it('decodes every file as a running activity with one record per timer second', async () => {
    for (const s of SCENARIOS) {
      const bytes = suite.files.get(`${s.name}.fit`)!;
      const fit = (await new FitParser({ mode: 'list', force: false }).parseAsync(Buffer.from(bytes))) as unknown as {
        file_ids: { type: string }[];
        sessions: { sport: string; total_timer_time: number }[];
        records: { timestamp: Date }[];
      };
      expect(fit.file_ids[0]!.type, s.name).toBe('activity');
      expect(fit.sessions).toHaveLength(1);
      expect(fit.sessions[0]!.sport, s.name).toBe('running');
      const timerS = s.sim.plan.filter((seg) => seg.kind === 'run').reduce((sum, seg) => sum + seg.durationS, 0);
      expect(fit.sessions[0]!.total_timer_time).toBe(timerS);
      expect(fit.records).toHaveLength(timerS);
      expect(fit.records[0]!.timestamp.toISOString()).toBe(new Date(s.sim.startTime).toISOString());
    }
  });
});
