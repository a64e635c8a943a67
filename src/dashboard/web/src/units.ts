/**
 * The reader's units: kilometres or miles, °C or °F. Kept in this browser (localStorage), chosen on the profile
 * page; every distance, pace and temperature the pages show goes through here. The server always speaks metres,
 * seconds per km and °C.
 */
import { formatDuration } from './format.js';

export interface Units {
  distance: 'km' | 'mi';
  temperature: 'C' | 'F';
}

const KEY = 'crampguard.units';
/** The browser's storage, typed here so the module also loads (and is tested) in Node, which has none. */
const storage = () => (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
export const METRES_PER_MILE = 1609.344;
const missing = '–';

export function getUnits(): Units {
  try {
    const raw = JSON.parse(storage()?.getItem(KEY) ?? '{}') as Partial<Units>;
    return { distance: raw.distance === 'mi' ? 'mi' : 'km', temperature: raw.temperature === 'F' ? 'F' : 'C' };
  } catch {
    return { distance: 'km', temperature: 'C' };
  }
}

export function setUnits(units: Units): void {
  storage()?.setItem(KEY, JSON.stringify(units));
}

/** Metres in one unit of distance. */
export const unitMetres = (u: Units = getUnits()) => (u.distance === 'mi' ? METRES_PER_MILE : 1000);

export function formatDistanceIn(metres: number | null | undefined, u: Units = getUnits()): string {
  if (metres === null || metres === undefined || !Number.isFinite(metres)) return missing;
  if (u.distance === 'km' && metres < 1000) return `${Math.round(metres)} m`;
  return `${(metres / unitMetres(u)).toFixed(2)} ${u.distance}`;
}

/** Seconds per km → "5:05 /km" or "8:11 /mi". */
export function formatPaceIn(secondsPerKm: number | null | undefined, u: Units = getUnits(), withUnit = true): string {
  if (secondsPerKm === null || secondsPerKm === undefined || !Number.isFinite(secondsPerKm)) return missing;
  const perUnit = secondsPerKm * (unitMetres(u) / 1000);
  return `${formatDuration(perUnit)}${withUnit ? ` /${u.distance}` : ''}`;
}

export function formatTempIn(celsius: number | null | undefined, u: Units = getUnits()): string {
  if (celsius === null || celsius === undefined || !Number.isFinite(celsius)) return missing;
  return u.temperature === 'F' ? `${Math.round((celsius * 9) / 5 + 32)} °F` : `${Math.round(celsius)} °C`;
}

export function formatElevationIn(metres: number | null | undefined, u: Units = getUnits()): string {
  if (metres === null || metres === undefined || !Number.isFinite(metres)) return missing;
  return u.distance === 'mi' ? `${Math.round(metres / 0.3048)} ft` : `${Math.round(metres)} m`;
}
