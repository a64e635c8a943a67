/** Presentation only: turning numbers the server computed into text a runner reads. No model logic here. */
import type { AlertKind, Severity } from '../../../../alerts/types.js';

const missing = '–';

/** 3725 → "1:02:05", 305 → "5:05". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return missing;
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = s % 60;
  const mm = hours > 0 ? String(minutes).padStart(2, '0') : String(minutes);
  return `${hours > 0 ? `${hours}:` : ''}${mm}:${String(secs).padStart(2, '0')}`;
}

/** Slower than this is walking or standing: pace would only stretch the chart. */
const SLOWEST_PACE_S_PER_KM = 20 * 60;

/** Speed (m/s) → pace (s/km), or null where it is missing or too slow to be running. */
export function paceFromSpeed(speed: number): number | null {
  if (!Number.isFinite(speed) || speed <= 0) return null;
  const pace = 1000 / speed;
  return pace > SLOWEST_PACE_S_PER_KM ? null : pace;
}

/** 305 (s/km) → "5:05 /km". */
export function formatPace(secondsPerKm: number | null | undefined): string {
  if (secondsPerKm === null || secondsPerKm === undefined || !Number.isFinite(secondsPerKm)) return missing;
  return `${formatDuration(secondsPerKm)} /km`;
}

export function formatNumber(value: number | null | undefined, digits = 0, unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return missing;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return missing;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return missing;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const KIND_LABEL: Record<AlertKind, string> = {
  slow_down: 'Slow down',
  breathe: 'Breathe',
  hydrate: 'Hydrate',
  electrolytes: 'Electrolytes',
  cramp_care: 'Cramp care',
};

/** One glyph per kind, so a marker is told apart by shape and letter as well as by colour. */
export const KIND_GLYPH: Record<AlertKind, string> = {
  slow_down: '▼',
  breathe: '≈',
  hydrate: '●',
  electrolytes: '◆',
  cramp_care: '✚',
};

export function kindLabel(kind: string): string {
  return (KIND_LABEL as Record<string, string>)[kind] ?? kind;
}

export function kindGlyph(kind: string): string {
  return (KIND_GLYPH as Record<string, string>)[kind] ?? '•';
}

export const SEVERITY_LABEL: Record<Severity, string> = { info: 'info', warning: 'warning', urgent: 'urgent' };

/** Metric keys of the report → label, unit, digits. The first eight are the headline; unknown keys still show. */
export const METRIC_INFO: Record<string, { label: string; unit: string; digits: number; help: string; headline?: boolean }> = {
  decouplingPct: { label: 'Decoupling', unit: '%', digits: 1, headline: true, help: 'How much heart rate rose against pace from the first half to the second (Pa:HR).' },
  efFirstHalf: { label: 'EF, first half', unit: '', digits: 3, headline: true, help: 'Efficiency factor: speed per heartbeat in the first half.' },
  efSecondHalf: { label: 'EF, second half', unit: '', digits: 3, headline: true, help: 'Efficiency factor in the second half; lower means more drift.' },
  hrDriftBpmPerHour: { label: 'HR drift', unit: 'bpm/h', digits: 1, headline: true, help: 'Heart-rate rise per hour at steady effort.' },
  cadenceChangePct: { label: 'Cadence change', unit: '%', digits: 1, headline: true, help: 'Cadence in the last part against the first: a fade hints at fatigue.' },
  trimp: { label: 'TRIMP', unit: '', digits: 0, headline: true, help: 'Training impulse: duration weighted by heart-rate intensity.' },
  estSweatLossMl: { label: 'Est. sweat loss', unit: 'ml', digits: 0, headline: true, help: 'Estimated sweat lost over the run.' },
  estSodiumLossMg: { label: 'Est. sodium loss', unit: 'mg', digits: 0, headline: true, help: 'Estimated sodium lost in that sweat.' },
  fluidDeficitMl: { label: 'Fluid deficit at the end', unit: 'ml', digits: 0, help: 'Estimated sweat lost minus what you logged drinking.' },
  avgHr: { label: 'Average HR', unit: 'bpm', digits: 0, help: '' },
  maxHr: { label: 'Max HR', unit: 'bpm', digits: 0, help: '' },
  timeAboveThresholdMin: { label: 'Time above threshold HR', unit: 'min', digits: 1, help: '' },
  liveMaxDecouplingPct: { label: 'Peak in-run decoupling', unit: '%', digits: 1, help: 'The highest drift the live engine saw during the run.' },
  liveFinalDecouplingPct: { label: 'In-run decoupling at the end', unit: '%', digits: 1, help: '' },
  liveCadenceChangePct: { label: 'In-run cadence change', unit: '%', digits: 1, help: '' },
  engineMovingTimeS: { label: 'Moving time (engine)', unit: 's', digits: 0, help: 'Time the engine counted as moving.' },
};

/** "timeAboveThresholdMin" → "Time above threshold min": unknown metric keys still read as words. */
export function humanizeKey(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
