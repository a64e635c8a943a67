/**
 * The context of a cramp logged after the run, against a time in it: the engine is run again over the run's own
 * samples and events up to that time, with the cramp as an event at its end, and the context is the one the
 * engine records for a cramp tapped live (share of usual long run, decoupling, cadence change, fluid and sodium
 * deficit, temperature, intensity). Pure; the caller runs it off the event loop for long runs if it must.
 * @module
 */
import { analyzeRun } from '../../alerts/engine.js';
import type { CrampContext, EngineOptions } from '../../alerts/types.js';
import { headColumns, type NormalizedRun } from '../../ingest/sample.js';

export function crampContextAt(run: NormalizedRun, t: number, cramp: { muscle: string; severity: number }, options: EngineOptions): CrampContext {
  const cols = run.samples;
  let end = 0;
  while (end < cols.length && cols.t[end]! <= t) end++;
  const upTo: NormalizedRun = {
    ...run,
    samples: headColumns(cols, end),
    rr: null,
    events: [...run.events.filter((e) => e.t <= t && e.type !== 'cramp'), { t, type: 'cramp', muscle: cramp.muscle, severity: cramp.severity }],
  };
  const report = analyzeRun(upTo, options);
  const cramps = (report.cramps as CrampContext[] | undefined) ?? [];
  return cramps.at(-1) ?? { t, muscle: cramp.muscle, severity: cramp.severity };
}
