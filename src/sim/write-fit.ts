/**
 * Writes a simulated run as a FIT activity file: the run export's encoder (src/export/fit.ts) with the
 * simulator's device (manufacturer "development"), a running sport of the scenario's sub-sport, and the
 * channels the simulated device records.
 * @module
 */
import { encodeFitActivity, fitSubSport, MANUFACTURER_DEVELOPMENT } from '../export/fit.js';
import type { SimulatedRun } from './simulate.js';

export { fitCadence } from '../export/fit.js';

const SPORT_RUNNING = 1;

/** Encodes a simulated run as FIT bytes. Deterministic: the same run gives the same bytes. */
export function writeFit(run: SimulatedRun): Uint8Array {
  return encodeFitActivity({
    startMs: run.startMs,
    sport: SPORT_RUNNING,
    subSport: fitSubSport(run.subSport),
    sportName: 'Run',
    manufacturer: MANUFACTURER_DEVELOPMENT,
    product: 1,
    samples: run.samples,
    channels: run.channels,
    laps: run.laps,
    pauses: run.pauses,
    elapsedS: run.elapsedS,
    timerS: run.timerS,
  });
}
