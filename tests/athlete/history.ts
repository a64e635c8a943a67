/**
 * A synthetic athlete history for the athlete-model tests (not a test file): weeks of simulated runs
 * (src/sim/simulate.ts) of one runner whose truth is known: HRmax, the threshold pace and the HR it gives, the
 * easy pace and the usual long run the plan was written with, cadence at 3 m/s.
 */
import { CHANNELS, type NormalizedRun } from '../../ingest/sample.js';
import { DEFAULT_ATHLETE, run, repeat, simulate, type PlanSegment, type SimConfig } from '../../src/sim/simulate.js';

export const ATHLETE = DEFAULT_ATHLETE; // hrRest 50, hrMax 188, VO2max 56, cadence 168 at 3 m/s
/** Speed whose oxygen cost is 88 % of VO2 reserve (ACSM running equation): the plan's threshold pace. */
export const THRESHOLD_SHARE = 0.88;
export const THRESHOLD_MPS = (THRESHOLD_SHARE * (ATHLETE.vo2max - 3.5)) / 0.2 / 60;
/** Steady-state HR at the threshold pace (%VO2R = %HRR, Swain & Leutholtz). */
export const THRESHOLD_HR = ATHLETE.hrRest + THRESHOLD_SHARE * (ATHLETE.hrMax - ATHLETE.hrRest);
export const EASY_MPS = 3.0;
export const LONG_MPS = 2.9;

export interface HistoryRun {
  id: string;
  run: NormalizedRun;
  kind: 'easy' | 'tempo' | 'intervals' | 'long';
}

/** A simulated run as the ingest layer would hand it over. */
export function toNormalized(config: SimConfig): NormalizedRun {
  const sim = simulate(config);
  const n = sim.samples.length;
  let distanceM: number | null = null;
  for (let i = n - 1; i >= 0; i--) {
    if (!Number.isNaN(sim.samples.distance[i]!)) {
      distanceM = sim.samples.distance[i]!;
      break;
    }
  }
  const channels = CHANNELS.filter((c) => {
    const col = sim.samples[c];
    for (let i = 0; i < n; i++) if (!Number.isNaN(col[i]!)) return true;
    return false;
  });
  return {
    meta: {
      sport: 'running',
      subSport: sim.subSport,
      manufacturer: 'development',
      product: null,
      startTime: new Date(sim.startMs).toISOString(),
      elapsedS: sim.elapsedS,
      timerS: sim.timerS,
      distanceM,
      laps: sim.laps,
      pauses: sim.pauses,
      legs: [],
    },
    samples: sim.samples,
    rr: null,
    events: sim.events,
    channels,
    warnings: [],
  };
}

const DAY_MS = 86_400_000;

/**
 * `weeks` weeks of four runs each, from `start` (a Monday): Tuesday easy 45 min, Thursday tempo (10 min warm-up,
 * 25 min at threshold pace, 10 min cool-down), Saturday intervals (6 × 3 min at 5 m/s), Sunday long run at
 * 2.9 m/s of `longMin(week)` minutes (default 95–105 min).
 */
export function history(weeks: number, options: HistoryOptions = {}): HistoryRun[] {
  return historyConfigs(weeks, options).map(({ id, kind, config }) => ({ id, kind, run: toNormalized(config) }));
}

export interface HistoryOptions {
  start?: string;
  longMin?: (week: number) => number;
  tempC?: number;
  seed?: number;
}

/** The simulator configurations of {@link history} (for tests that upload them as FIT files). */
export function historyConfigs(weeks: number, options: HistoryOptions = {}): Array<{ id: string; kind: HistoryRun['kind']; config: SimConfig }> {
  const start = Date.parse(options.start ?? '2026-08-03T00:00:00Z');
  const longMin = options.longMin ?? ((w: number) => [100, 95, 105, 100, 98, 102, 100, 96, 104, 100][w % 10]!);
  const tempC = options.tempC ?? 12;
  const seed = options.seed ?? 1000;
  const out: Array<{ id: string; kind: HistoryRun['kind']; config: SimConfig }> = [];
  const plans: Array<[number, HistoryRun['kind'], (w: number) => PlanSegment[]]> = [
    [1, 'easy', () => [run(45, EASY_MPS)]],
    [3, 'tempo', () => [run(10, 2.8), run(25, THRESHOLD_MPS), run(10, 2.8)]],
    [5, 'intervals', () => [run(12, 2.8), ...repeat(6, [run(3, 5.0), run(2, 2.6)]), run(8, 2.8)]],
    [6, 'long', (w) => [run(longMin(w), LONG_MPS)]],
  ];
  for (let w = 0; w < weeks; w++) {
    for (const [day, kind, plan] of plans) {
      const at = start + (w * 7 + day) * DAY_MS + 7 * 3600_000;
      const config: SimConfig = { seed: seed + out.length, startTime: new Date(at).toISOString(), tempC, humidity: 60, plan: plan(w) };
      out.push({ id: `run-${String(out.length).padStart(3, '0')}`, kind, config });
    }
  }
  return out;
}
