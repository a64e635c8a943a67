/**
 * Plausibility limits shared by the FIT path and the live path, so both flag and drop the same values.
 * A value outside its range is treated as missing (NaN) and counted in a warning.
 * @module
 */
import type { Channel } from './sample.js';

/** Inclusive [min, max] per channel; values outside are dropped as implausible. */
export const PLAUSIBLE: Readonly<Record<Channel, readonly [number, number]>> = {
  hr: [25, 250], // bpm
  cadence: [0, 260], // steps/min
  speed: [0, 12], // m/s: faster than any human sprint
  distance: [0, 1_000_000], // m
  altitude: [-500, 9_000], // m
  temperature: [-60, 70], // °C
  respiration: [3, 90], // breaths/min
  power: [0, 3_000], // W
};

export function isPlausible(channel: Channel, value: number): boolean {
  const range = PLAUSIBLE[channel];
  return value >= range[0] && value <= range[1];
}

/** Warning code per channel for values dropped as implausible: one list, so FIT and live reports read the same. */
export const IMPLAUSIBLE_CODE: Readonly<Record<Channel, string>> = {
  hr: 'implausible_hr',
  cadence: 'implausible_cadence',
  speed: 'speed_spike',
  distance: 'implausible_distance',
  altitude: 'implausible_altitude',
  temperature: 'implausible_temperature',
  respiration: 'implausible_respiration',
  power: 'implausible_power',
};
