/**
 * Helpers for the engine's tests (not a test file): scenario files and their labels, a checker for the label
 * format of ../shared/scenarios/README.md, and a builder of synthetic runs for unit cases.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert, Conditions, Profile } from '../../alerts/types.js';
import { decodeFitSync } from '../../ingest/fit.js';
import { allocColumns, CHANNELS, type Channel, type NormalizedRun, type RunEvent } from '../../ingest/sample.js';
import { createRandom } from '../../src/sim/random.js';
import type { Expectation } from '../../src/sim/scenarios.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'bin/crampguard.js');
export const PROJECT_SCENARIOS = join(ROOT, 'fixtures/scenarios');
export const SHARED_SCENARIOS = resolve(ROOT, '../shared/scenarios');

/** The scenario checks, as the simulator writes them (`src/sim/scenarios.ts`). */
export type { Expectation };
export interface ScenarioSpec {
  profile: Profile;
  conditions: Conditions;
  expect: Expectation[];
}

export function loadScenarios(dir: string): Array<{ name: string; file: string; spec: ScenarioSpec }> {
  const path = join(dir, 'expectations.json');
  if (!existsSync(path)) return [];
  const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, ScenarioSpec>;
  return Object.entries(all).map(([name, spec]) => ({ name, file: join(dir, `${name}.fit`), spec }));
}

const runCache = new Map<string, NormalizedRun>();
export function decodeFile(file: string): NormalizedRun {
  let run = runCache.get(file);
  if (!run) {
    run = decodeFitSync(readFileSync(file));
    runCache.set(file, run);
  }
  return run;
}

/** Every failed check, as readable lines (empty when all are met); same semantics as the shared scorer. */
export function unmet(alerts: Alert[], durationS: number, spec: ScenarioSpec): string[] {
  const hours = Math.max(1 / 60, durationS / 3600);
  const problems: string[] = [];
  for (const x of spec.expect) {
    const from = x.from ?? 0;
    const to = x.to ?? Infinity;
    const mine = alerts.filter((a) => (x.kind === '*' || a.kind === x.kind) && a.t >= from && a.t < to);
    const at = `${x.kind} in [${from}, ${to})`;
    if (x.min !== undefined && mine.length < x.min) problems.push(`${at}: ${mine.length} < min ${x.min}`);
    if (x.max !== undefined && mine.length > x.max) problems.push(`${at}: ${mine.length} > max ${x.max} (${mine.map((a) => `${a.t} ${a.cause}`).join(', ')})`);
    if (x.minGapS !== undefined) {
      for (let i = 1; i < mine.length; i++) {
        if (mine[i]!.t - mine[i - 1]!.t < x.minGapS) problems.push(`${at}: gap ${mine[i]!.t - mine[i - 1]!.t} s < ${x.minGapS} s`);
      }
    }
    if (x.maxPerHour !== undefined && mine.length / hours > x.maxPerHour) problems.push(`${at}: ${(mine.length / hours).toFixed(1)}/h > ${x.maxPerHour}/h`);
  }
  return problems;
}

/** Per-second values of a synthetic run; return NaN for a missing channel. */
export interface SynthPoint {
  hr: number;
  speed: number;
  cadence?: number;
  altitude?: number;
  respiration?: number;
}

/** A NormalizedRun at 1 Hz (or every `stepS`) from a generator of per-second values. */
export function synthRun(durationS: number, gen: (t: number) => SynthPoint, stepS = 1, events: RunEvent[] = []): NormalizedRun {
  const n = Math.floor(durationS / stepS);
  const cols = allocColumns(n);
  let dist = 0;
  for (let i = 0; i < n; i++) {
    const t = i * stepS;
    const p = gen(t);
    cols.t[i] = t;
    cols.timestamp[i] = 1_750_000_000_000 + t * 1000;
    cols.hr[i] = p.hr;
    cols.speed[i] = p.speed;
    if (Number.isFinite(p.speed)) dist += p.speed * stepS;
    cols.distance[i] = Number.isFinite(p.speed) ? dist : NaN;
    cols.cadence[i] = p.cadence ?? NaN;
    cols.altitude[i] = p.altitude ?? NaN;
    cols.respiration[i] = p.respiration ?? NaN;
  }
  const channels = CHANNELS.filter((c: Channel) => {
    const col = cols[c];
    for (let i = 0; i < n; i++) if (Number.isFinite(col[i]!)) return true;
    return false;
  });
  return {
    meta: {
      sport: 'running',
      subSport: null,
      manufacturer: null,
      product: null,
      startTime: '2026-06-01T08:00:00.000Z',
      elapsedS: durationS,
      timerS: durationS,
      distanceM: dist,
      laps: [],
      pauses: [],
      legs: [],
    },
    samples: cols,
    rr: null,
    events,
    channels,
    warnings: [],
  };
}

/** Seeded uniforms (the simulator's generator) so synthetic noise is the same on every run. */
export function prng(seed: number): () => number {
  return createRandom(seed).uniform;
}

/** An easy steady run: HR ~140 at 2.9 m/s, cadence ~166, small noise. */
export function steadyPoint(rand: () => number, t: number): SynthPoint {
  const warm = Math.min(1, t / 180);
  return {
    hr: Math.round(80 + 60 * warm + (rand() - 0.5) * 4),
    speed: 2.9 + (rand() - 0.5) * 0.2,
    cadence: Math.round(166 + (rand() - 0.5) * 4),
    altitude: 100,
  };
}
