/**
 * The context of a cramp logged after the run, against a time in it: the engine is run again over the run's own
 * samples and events up to that time, with the cramp as an event at its end, and the context is the one the
 * engine records for a cramp tapped live (share of usual long run, decoupling, cadence change, fluid and sodium
 * deficit, temperature, intensity). Pure; the server runs the analysis in its worker pool.
 * @module
 */
import { analyzeRun } from '../../alerts/engine.js';
import type { CrampContext, EngineOptions, Report } from '../../alerts/types.js';
import { headColumns, type NormalizedRun } from '../../ingest/sample.js';

export interface LoggedCramp {
  muscle: string;
  severity: number;
}

/** The run cut at `t` (samples with `t' <= t`, events up to `t`), with the cramp as its last event. */
export function runUpToCramp(run: NormalizedRun, t: number, cramp: LoggedCramp): NormalizedRun {
  const cols = run.samples;
  let end = 0;
  while (end < cols.length && cols.t[end]! <= t) end++;
  return {
    ...run,
    samples: headColumns(cols, end),
    rr: null,
    events: [...run.events.filter((e) => e.t <= t && e.type !== 'cramp'), { t, type: 'cramp', muscle: cramp.muscle, severity: cramp.severity }],
  };
}

/** The cramp's context from the analysis of {@link runUpToCramp}'s run (the bare cramp if the engine gave none). */
export function contextFromReport(report: Report, t: number, cramp: LoggedCramp): CrampContext {
  const cramps = (report.cramps as CrampContext[] | undefined) ?? [];
  return cramps.at(-1) ?? { t, muscle: cramp.muscle, severity: cramp.severity };
}

export function crampContextAt(run: NormalizedRun, t: number, cramp: LoggedCramp, options: EngineOptions): CrampContext {
  return contextFromReport(analyzeRun(runUpToCramp(run, t, cramp), options), t, cramp);
}
