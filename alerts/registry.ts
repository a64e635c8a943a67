/**
 * The detectors, in the order they step on each tick. Order matters where one reads what another wrote:
 * workout structure comes first (the fatigue detectors hold back in structured sessions);
 * overload sets the sensitivity the fatigue detectors use; hydration writes the sweat total sodium reads;
 * cramp-suspect reads the previous tick's risk. Adding a detector = one file + one line here.
 * @module
 */
import type { Detector } from './detector.js';
import { cadence } from './detectors/cadence.js';
import { crampSuspect } from './detectors/cramp-suspect.js';
import { drift } from './detectors/drift.js';
import { effortSpike } from './detectors/effort-spike.js';
import { fading } from './detectors/fading.js';
import { fastStart } from './detectors/fast-start.js';
import { hydration } from './detectors/hydration.js';
import { overload } from './detectors/overload.js';
import { respiration } from './detectors/respiration.js';
import { sodium } from './detectors/sodium.js';
import { workout } from './detectors/workout.js';

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
