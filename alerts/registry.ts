/**
 * The detectors, in the order they step on each tick, and the causes they prompt with, in priority order.
 * Step order matters where one reads what another wrote: workout structure comes first (the fatigue detectors
 * hold back in structured sessions); overload sets the sensitivity the fatigue detectors use; hydration writes the
 * sweat total sodium reads; cramp-suspect reads the previous tick's risk. Adding a detector = one file + one line
 * here. Priority is each cause's own (`Cause.priority`), not this order.
 * @module
 */
import type { Cause, Detector } from './detector.js';
import { cadence } from './detectors/cadence.js';
import { crampSuspect } from './detectors/cramp-suspect.js';
import { drift } from './detectors/drift.js';
import { effortSpike } from './detectors/effort-spike.js';
import { fading } from './detectors/fading.js';
import { fastStart } from './detectors/fast-start.js';
import { hydration } from './detectors/hydration.js';
import { overload } from './detectors/overload.js';
import { reportedCramp } from './reported-cramp.js';
import { respiration } from './detectors/respiration.js';
import { sodium } from './detectors/sodium.js';
import { workout } from './detectors/workout.js';
import { ALERT_CAUSES, type AlertCause } from './types.js';

export const DETECTORS: readonly Detector<unknown>[] = [
  workout,
  overload,
  fastStart,
  drift,
  cadence,
  hydration,
  sodium,
  respiration,
  effortSpike,
  fading,
  crampSuspect,
] as unknown as readonly Detector<unknown>[];

/**
 * Every cause, highest priority first: the detectors' and the reported cramp's. Positions in this list index the
 * policy's per-cause state (and so the engine snapshot). Checked once at load: each published cause declared
 * exactly once, priorities unique, so a gap fails every test at import rather than a run at its first prompt.
 */
export const CAUSES: readonly Cause[] = orderCauses([reportedCramp, ...DETECTORS.flatMap((d) => d.causes)]);

/** The causes highest priority first; throws on a cause declared twice or not at all, or a shared priority. */
export function orderCauses(all: readonly Cause[]): readonly Cause[] {
  const byName = new Map<AlertCause, Cause>();
  for (const c of all) {
    if (byName.has(c.cause)) throw new Error(`cause ${c.cause} is declared twice`);
    byName.set(c.cause, c);
  }
  for (const name of ALERT_CAUSES) if (!byName.has(name)) throw new Error(`cause ${name} is declared by no detector`);
  for (const name of byName.keys()) if (!ALERT_CAUSES.includes(name)) throw new Error(`cause ${name} is not in ALERT_CAUSES`);
  const ordered = [...all].sort((a, b) => b.priority - a.priority);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.priority === ordered[i - 1]!.priority) {
      throw new Error(`causes ${ordered[i - 1]!.cause} and ${ordered[i]!.cause} share priority ${ordered[i]!.priority}`);
    }
  }
  return ordered;
}

/** Position of a cause in {@link CAUSES}. */
export function causeIndex(cause: AlertCause): number {
  return CAUSES.findIndex((c) => c.cause === cause);
}
