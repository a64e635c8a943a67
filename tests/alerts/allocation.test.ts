/**
 * No allocation per sample in steady state: 1M pushes of a prepared steady run (t rewritten in place) must not
 * trigger garbage collections. The same loop with one small object per push must trigger them — proof that
 * the measurement can see allocation at all. GCs are counted with a PerformanceObserver('gc') after an explicit
 * gc() so the young generation starts empty.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../alerts/engine.js';
import type { RiskPoint } from '../../alerts/types.js';
import { emptySample, readRow, type Sample } from '../../ingest/sample.js';
import { prng, steadyPoint, synthRun } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function countGcs(work: () => void): Promise<number> {
  gc();
  let count = 0;
  const obs = new PerformanceObserver((list) => {
    count += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  work();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return count;
}

function youngBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_used_size;
  throw new Error('no new_space');
}

describe('allocation', () => {
  // 20 minutes at 1 Hz over rolling hills with a minute's walk every five, and respiration: every detector works and
  // the sweat model takes each of its branches (climbs, descents, walking, heart rate explaining the effort).
  const rand = prng(3);
  const run = synthRun(1200, (t) => {
    const p = steadyPoint(rand, t);
    const walking = t > 600 && t % 300 < 60;
    return { ...p, speed: walking ? 1.4 + rand() * 0.1 : p.speed, altitude: 100 + 15 * Math.sin(t / 90), respiration: 30 + rand() * 2 };
  });
  const samples: Sample[] = [];
  for (let i = 0; i < run.samples.length; i++) samples.push(readRow(run.samples, i, emptySample()));
  const PUSHES = 1_000_000;

  function makeEngine() {
    let last: RiskPoint | null = null;
    let alerts = 0;
    const engine = createEngine(
      {
        profile: { massKg: 68, hrRest: 50, hrMax: 188 },
        conditions: { tempC: 12, humidity: 50 },
        channels: run.channels,
        // A prompt allocates by design (an Alert and its strings); with no drinks logged the hydration and sodium
        // prompts would recur all through 1M s of run time, so the steady state is measured without them.
        config: { hydration: { gapPctMass: 1e6 }, sodium: { thresholdMg: 1e9 } },
      },
      { alert: () => void alerts++, risk: (p) => void (last = p), reuseRiskPoint: true },
    );
    // Steady running: the samples after the first ten minutes over and over, t rewritten in place.
    let t = 0;
    const n = samples.length;
    const push = (count: number) => {
      for (let i = 0; i < count; i++) {
        const s = samples[600 + (i % (n - 600))]!;
        s.t = t++;
        engine.push(s);
      }
    };
    return { engine, push, alerts: () => alerts, last: () => last };
  }

  it('1M steady-state pushes trigger no garbage collection', async () => {
    const { push, alerts } = makeEngine();
    push(200_000); // warm up: past every detector's warm-up and baseline, JIT settled
    const gcs = await countGcs(() => push(PUSHES));
    expect(gcs).toBeLessThanOrEqual(1);
    expect(alerts()).toBe(0);
  });

  // A few boxed doubles a tick stay under one young generation in 1M pushes: count the bytes too. Between two
  // scavenges the young generation only grows, by exactly what was allocated there.
  it('steady-state pushes allocate under 1 byte each (young-generation bytes, no scavenge in between)', async () => {
    const { push, alerts } = makeEngine();
    push(200_000);
    const PUSHED = 100_000;
    let grown = NaN;
    const gcs = await countGcs(() => {
      const before = youngBytes();
      push(PUSHED);
      grown = youngBytes() - before;
    });
    expect(gcs).toBe(0); // the byte count is exact only between two scavenges
    expect(grown / PUSHED).toBeLessThan(1);
    expect(alerts()).toBe(0);
  });

  it('the same measurement does see a push that allocates', async () => {
    const { engine } = makeEngine();
    let t = 0;
    const n = samples.length;
    const gcs = await countGcs(() => {
      for (let i = 0; i < PUSHES; i++) {
        const s = { ...samples[600 + (i % (n - 600))]!, t: t++ };
        engine.push(s);
      }
    });
    expect(gcs).toBeGreaterThan(3);
  });
});
