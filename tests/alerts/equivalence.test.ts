/**
 * One engine, however the samples arrive: the same sample/event sequence gives identical alerts and risk points
 * whether fed in one go (analyzeRun), sample by sample, with duplicates re-sent after a "reconnect", or moved to
 * a fresh engine through snapshot → JSON → restoreEngine at any points (fast-check picks them).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeRun, createEngine, restoreEngine } from '../../alerts/engine.js';
import { decodeState, encodeState } from '../../alerts/snapshot.js';
import type { Alert, Engine, EngineOptions, EngineSink, RiskPoint } from '../../alerts/types.js';
import { emptySample, readRow, type NormalizedRun, type RunEvent, type Sample } from '../../ingest/sample.js';
import { decodeFile, PROJECT_SCENARIOS, prng, steadyPoint, synthRun } from './helpers.js';

type Item = { sample: Sample } | { event: RunEvent };

/** The run as the ordered item sequence every caller must produce (events after samples with t <= event.t). */
function items(run: NormalizedRun): Item[] {
  const out: Item[] = [];
  const events = [...run.events].sort((a, b) => a.t - b.t);
  let e = 0;
  for (let i = 0; i < run.samples.length; i++) {
    const s = readRow(run.samples, i, emptySample());
    while (e < events.length && events[e]!.t < s.t) out.push({ event: events[e++]! });
    out.push({ sample: s });
  }
  while (e < events.length) out.push({ event: events[e++]! });
  return out;
}

interface Collected {
  alerts: Alert[];
  risk: RiskPoint[];
  sink: EngineSink;
}
function collector(): Collected {
  const c: Collected = { alerts: [], risk: [], sink: { alert: () => {}, risk: () => {} } };
  c.sink = { alert: (a) => c.alerts.push(a), risk: (p) => c.risk.push({ t: p.t, score: p.score, factors: [...p.factors] }) };
  return c;
}

function feed(engine: Engine, item: Item): void {
  if ('sample' in item) engine.push(item.sample);
  else engine.event(item.event);
}

const events: RunEvent[] = [
  { t: 1500, type: 'drink', ml: 200 },
  { t: 2400.5, type: 'gel', sodiumMg: 100, carbsG: 25 },
  { t: 3000, type: 'pause' },
  { t: 3001, type: 'resume' },
  { t: 4200, type: 'cramp', muscle: 'calf', severity: 2 },
  { t: 4500, type: 'electrolyte', sodiumMg: 300 },
];

const base = decodeFile(`${PROJECT_SCENARIOS}/hot-long-drift.fit`);
const run: NormalizedRun = { ...base, events };
const options: EngineOptions = {
  profile: { massKg: 68, hrRest: 50, hrMax: 188, usualLongRunMin: 90 },
  conditions: { tempC: 29, humidity: 60 },
  channels: base.channels,
};
const sequence = items(run);

function reference(): Collected {
  const c = collector();
  const engine = createEngine(options, c.sink);
  for (const it of sequence) feed(engine, it);
  return c;
}

describe('engine equivalence', () => {
  const ref = reference();

  it('the reference run is not trivial: it prompts of several kinds and reports the cramp', () => {
    const kinds = new Set(ref.alerts.map((a) => a.kind));
    expect(kinds.has('hydrate') && kinds.has('slow_down') && kinds.has('cramp_care')).toBe(true);
    expect(ref.alerts.find((a) => a.cause === 'cramp_reported')?.t).toBe(4200);
    expect(ref.risk.length).toBeGreaterThan(500);
  });

  it('analyzeRun (the file path) gives exactly what sample-by-sample pushing gives', () => {
    const report = analyzeRun(run, options);
    // analyzeRun also closes the last tick: compare everything up to the last live-closed tick.
    const lastT = ref.risk.at(-1)!.t;
    expect(report.alerts.filter((a) => a.t <= lastT)).toEqual(ref.alerts);
    expect(report.risk.filter((p) => p.t <= lastT)).toEqual(ref.risk);
  });

  it('snapshot/restore at any points, and re-sent duplicates, change nothing', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: sequence.length }), { maxLength: 4 }),
        fc.array(fc.record({ at: fc.integer({ min: 1, max: sequence.length - 1 }), back: fc.integer({ min: 1, max: 12 }) }), { maxLength: 3 }),
        (cutsRaw, resendsRaw) => {
          const cuts = new Set(cutsRaw);
          const resends = new Map(resendsRaw.map((r) => [r.at, r.back]));
          const c = collector();
          let engine = createEngine(options, c.sink);
          for (let i = 0; i < sequence.length; i++) {
            if (cuts.has(i)) engine = restoreEngine(JSON.parse(JSON.stringify(engine.snapshot())), c.sink);
            feed(engine, sequence[i]!);
            const back = resends.get(i);
            // A reconnect re-sends the last few samples: the engine must drop them as already seen.
            if (back !== undefined) for (let j = Math.max(0, i - back); j <= i; j++) if ('sample' in sequence[j]!) feed(engine, sequence[j]!);
          }
          expect(c.alerts).toEqual(ref.alerts);
          expect(c.risk).toEqual(ref.risk);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a snapshot stays far under 64 KB, even after 24 hours', () => {
    const rand = prng(7);
    const day = synthRun(24 * 3600, (t) => steadyPoint(rand, t));
    const engine = createEngine({ channels: day.channels }, { alert: () => {}, risk: () => {} });
    const row = emptySample();
    let largest = 0;
    for (let i = 0; i < day.samples.length; i++) {
      engine.push(readRow(day.samples, i, row));
      if (i % 21_600 === 0) largest = Math.max(largest, JSON.stringify(engine.snapshot()).length);
    }
    largest = Math.max(largest, JSON.stringify(engine.snapshot()).length);
    expect(largest).toBeLessThan(64 * 1024);
  });

  it('goes on from a version-2 snapshot, whose ring slots are float64', () => {
    const c = collector();
    let engine = createEngine(options, c.sink);
    const half = Math.floor(sequence.length / 2);
    for (let i = 0; i < sequence.length; i++) {
      if (i === half) {
        // The checkpoint as a version-2 process wrote it: the same state, each ring slot a float64.
        const json = JSON.stringify({ ...engine.snapshot(), version: 2 }, (_key, value: unknown) => {
          const slots = typeof value === 'object' && value !== null && '$f32b' in value ? decodeState(value) : null;
          return slots instanceof Float32Array ? encodeState(Float64Array.from(slots)) : value;
        });
        expect(json).not.toContain('$f32b');
        engine = restoreEngine(JSON.parse(json), c.sink);
      }
      feed(engine, sequence[i]!);
    }
    expect(c.alerts).toEqual(ref.alerts);
    expect(c.risk).toEqual(ref.risk);
  });

  it('refuses a snapshot it cannot continue from, with a coded error', () => {
    const sink = { alert: () => {}, risk: () => {} };
    expect(() => restoreEngine({ version: 99 }, sink)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }));
    expect(() => restoreEngine({ version: 1, state: { detectors: [] } }, sink)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }));
  });
});
