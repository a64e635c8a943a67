/**
 * Track points (GPX, TCX) → NormalizedRun: what the two XML formats share once their points are in a
 * RecordWorkspace. The time rules and plausibility limits are FIT's (ingest/columns.ts); then what these formats
 * leave out is derived and said so in a warning: distance from positions (haversine) when the file has none,
 * speed from distance when it has none; pauses from gaps in time; laps, legs and device from the file's summary.
 * @module
 */
import { finishColumns } from './columns.js';
import type { RecordWorkspace } from './columns.js';
import { PLAUSIBLE } from './plausible.js';
import { CHANNELS } from './sample.js';
import { isRunningSport } from './sport.js';
import type { Lap, Leg, NormalizedRun, RunEvent } from './sample.js';
import type { WarningLog } from './fit/values.js';

/** A gap between consecutive points longer than this is a pause (the watch stopped, or auto-paused), s. */
export const PAUSE_GAP_S = 30;
/** Speed from distance is taken over this window centred on each point, s (a GPS fix is noisy 1 s to the next). */
export const SPEED_WINDOW_S = 10;
/** Mean Earth radius used for distances between positions, m. */
const EARTH_RADIUS_M = 6_371_008.8;

/** What a format reader knows besides the points, by point index (before any point is dropped). */
export interface TrackSummary {
  /** The file's sport per leg (a GPX track, a TCX activity), by its first point; sport names as FIT's. */
  legs: { sport: string | null; firstPoint: number }[];
  manufacturer: string | null;
  product: string | null;
  /** TCX laps: start (epoch ms), their points [firstPoint, endPoint), the file's distance for the lap. */
  laps: { startMs: number; firstPoint: number; endPoint: number; totalS: number; distanceM: number | null }[];
  /** Points where a new GPX segment or TCX track begins (a gap there of more than a few seconds is a pause). */
  segmentStarts: number[];
  /** The activity's distance the file states (TCX lap totals), or null. */
  distanceM: number | null;
  /** Where the file was cut short (warning text), or null. */
  truncated: string | null;
}

/** Great-circle distance between two positions in degrees, m. */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

function anyValue(column: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (column[i] === column[i]) return true;
  return false;
}

/** The first kept row at or after point `point` (rowOf: point → row or -1), or -1. */
function rowAtOrAfter(rowOf: Int32Array, point: number): number {
  for (let i = Math.max(0, point); i < rowOf.length; i++) if (rowOf[i]! >= 0) return rowOf[i]!;
  return -1;
}

/** The last kept row before point `end`, or -1. */
function rowBefore(rowOf: Int32Array, end: number): number {
  for (let i = Math.min(end, rowOf.length) - 1; i >= 0; i--) if (rowOf[i]! >= 0) return rowOf[i]!;
  return -1;
}

/**
 * Builds the run from the first `n` points of `space` (the reader wrote each point's epoch ms into `times`
 * and its values, NaN where absent, into row i). `format` names the format in messages.
 */
export function finishTrack(space: RecordWorkspace, n: number, summary: TrackSummary, warnings: WarningLog): NormalizedRun {
  if (summary.truncated !== null) warnings.add('truncated', summary.truncated);
  cadenceToSteps(space.cols.cadence, n, warnings);
  const { samples: s, t0, rowOf, channels } = finishColumns(space, n, warnings);
  const rows = s.length;
  const lastT = rows > 0 ? s.t[rows - 1]! : 0;

  // Distance from positions where the file has none (GPX; a TCX written without DistanceMeters). A step faster
  // than any runner (PLAUSIBLE.speed) is a bad fix: not counted, so one glitch cannot add kilometres.
  if (!channels.includes('distance') && anyValue(s.lat, rows)) {
    const maxSpeed = PLAUSIBLE.speed[1];
    const maxDistance = PLAUSIBLE.distance[1];
    let total = 0;
    let prevLat = NaN;
    let prevLon = NaN;
    let prevT = NaN;
    let jumps = 0;
    for (let i = 0; i < rows; i++) {
      const lat = s.lat[i]!;
      const lon = s.lon[i]!;
      if (lat === lat && lon === lon) {
        if (prevLat === prevLat) {
          const step = haversineM(prevLat, prevLon, lat, lon);
          if (step <= maxSpeed * Math.max(1, s.t[i]! - prevT)) total += step;
          else jumps++;
        }
        prevLat = lat;
        prevLon = lon;
        prevT = s.t[i]!;
      }
      s.distance[i] = prevLat === prevLat && total <= maxDistance ? total : NaN;
    }
    channels.push('distance');
    warnings.add('distance_from_positions', 'distance derived from GPS positions (haversine): the file records none');
    if (jumps > 0) warnings.add('position_jump', `left out of the distance: steps between positions faster than ${maxSpeed} m/s`, jumps);
  }

  // Speed from distance over a centred window where the file has none; a window never spans a pause.
  if (!channels.includes('speed') && channels.includes('distance')) {
    const half = SPEED_WINDOW_S / 2;
    const [min, max] = PLAUSIBLE.speed;
    let lo = 0;
    let hi = 0;
    let spikes = 0;
    let seen = false;
    for (let i = 0; i < rows; i++) {
      const t = s.t[i]!;
      if (lo > i) lo = i;
      while (lo < i && (t - s.t[lo]! > half || s.distance[lo] !== s.distance[lo] || pauseBetween(s.t, lo, i))) lo++;
      if (hi < i) hi = i;
      while (hi + 1 < rows && s.t[hi + 1]! - t <= half && s.distance[hi + 1] === s.distance[hi + 1] && !pauseBetween(s.t, i, hi + 1)) hi++;
      const dt = s.t[hi]! - s.t[lo]!;
      let v = dt > 0 ? (s.distance[hi]! - s.distance[lo]!) / dt : NaN;
      if (v < min || v > max) {
        spikes++;
        v = NaN;
      } else if (v === v) seen = true;
      s.speed[i] = v;
    }
    if (seen) {
      channels.push('speed');
      warnings.add('speed_from_distance', `speed derived from distance over ${SPEED_WINDOW_S} s windows: the file records none`);
    }
    if (spikes > 0) warnings.add('speed_spike', `dropped speed values outside ${min}..${max}`, spikes);
  }
  channels.sort((a, b) => CHANNELS.indexOf(a) - CHANNELS.indexOf(b));

  // Pauses: long gaps, and gaps of more than a few seconds where a new segment or track begins.
  const pauses: { startT: number; endT: number }[] = [];
  const boundary = new Set<number>();
  for (const p of summary.segmentStarts) {
    const row = rowAtOrAfter(rowOf, p);
    if (row > 0) boundary.add(row);
  }
  for (let i = 1; i < rows; i++) {
    const gap = s.t[i]! - s.t[i - 1]!;
    if (gap > PAUSE_GAP_S || (gap > 3 && boundary.has(i))) pauses.push({ startT: s.t[i - 1]!, endT: s.t[i]! });
  }
  const paused = pauses.reduce((sum, p) => sum + (p.endT - p.startT), 0);

  const laps: Lap[] = [];
  for (const lap of summary.laps) {
    const first = rowAtOrAfter(rowOf, lap.firstPoint);
    const last = rowBefore(rowOf, lap.endPoint);
    const startT = Number.isFinite(lap.startMs) ? Math.round(lap.startMs - t0) / 1000 : first >= 0 ? s.t[first]! : NaN;
    let endT = last >= 0 && last >= first ? s.t[last]! : startT + (Number.isFinite(lap.totalS) ? lap.totalS : 0);
    if (endT < startT) endT = startT;
    if (Number.isFinite(startT)) laps.push({ startT, endT, distanceM: lap.distanceM });
  }
  // A lap ends where the next begins (the next lap's first point follows this one's last by a second or more).
  laps.sort((a, b) => a.startT - b.startT);
  for (let k = 0; k + 1 < laps.length; k++) laps[k]!.endT = Math.max(laps[k]!.endT, Math.min(laps[k + 1]!.startT, lastT));

  const legs: Leg[] = [];
  const legList = summary.legs.length > 0 ? summary.legs : [{ sport: null, firstPoint: 0 }];
  for (const [k, leg] of legList.entries()) {
    const first = rowAtOrAfter(rowOf, leg.firstPoint);
    if (first < 0) continue;
    const next = legList[k + 1];
    const end = next ? rowBefore(rowOf, next.firstPoint) : rows - 1;
    legs.push({ sport: leg.sport, subSport: null, startT: s.t[first]!, endT: s.t[Math.max(first, end)]!, running: isRunningSport(leg.sport) });
  }
  if (legs.length > 0) legs[0]!.startT = 0;
  const distinct = new Set(legs.map((l) => l.sport));
  const multisport = legs.length > 1 && distinct.size > 1;
  if (legs.every((l) => l.sport === null)) warnings.add('unknown_sport', 'the file does not say its sport; analysed as a run');

  let lastDistance = NaN;
  for (let i = rows - 1; i >= 0 && lastDistance !== lastDistance; i--) lastDistance = s.distance[i]!;

  const events: RunEvent[] = [];
  for (const p of pauses) {
    events.push({ t: p.startT, type: 'pause' });
    events.push({ t: p.endT, type: 'resume' });
  }
  for (const lap of laps) if (lap.endT < lastT) events.push({ t: lap.endT, type: 'lap' });
  events.sort((a, b) => a.t - b.t);

  return {
    meta: {
      sport: multisport ? 'multisport' : (legs[0]?.sport ?? null),
      subSport: null,
      manufacturer: summary.manufacturer,
      product: summary.product,
      startTime: Number.isNaN(t0) ? null : new Date(t0).toISOString(),
      elapsedS: lastT,
      timerS: Math.max(0, lastT - paused),
      distanceM: summary.distanceM !== null && summary.distanceM > 0 ? summary.distanceM : Number.isNaN(lastDistance) ? null : lastDistance,
      laps,
      pauses,
      legs,
    },
    samples: s,
    rr: null,
    events,
    channels,
    warnings: warnings.list(),
  };
}

/** Above this median (of the non-zero values) a file's cadence is steps/min already: no runner strides 120+/min a leg. */
const STRIDES_MAX_MEDIAN = 120;

/**
 * The readers write cadence as the file has it. GPX and TCX extensions carry strides/min of one leg, like FIT, so
 * it is doubled to steps/min; a file whose values are too high for strides (median of the non-zero ones over
 * 120) already counts steps and is kept as it is, with a warning.
 */
function cadenceToSteps(cadence: Float64Array, n: number, warnings: WarningLog): void {
  const moving: number[] = [];
  for (let i = 0; i < n; i++) if (cadence[i]! > 0) moving.push(cadence[i]!);
  if (moving.length === 0) {
    for (let i = 0; i < n; i++) cadence[i] = 2 * cadence[i]!; // 0 stays 0, NaN stays NaN
    return;
  }
  moving.sort((a, b) => a - b);
  if (moving[moving.length >> 1]! > STRIDES_MAX_MEDIAN) {
    warnings.add('cadence_steps', 'cadence read as steps/min: the values are too high for strides/min of one leg');
    return;
  }
  for (let i = 0; i < n; i++) cadence[i] = 2 * cadence[i]!;
}

/** True when the rows a..b (a < b) straddle a gap longer than PAUSE_GAP_S. */
function pauseBetween(t: Float64Array, a: number, b: number): boolean {
  for (let k = a + 1; k <= b; k++) if (t[k]! - t[k - 1]! > PAUSE_GAP_S) return true;
  return false;
}

/**
 * FIT's sport names for the words GPX <type> and TCX Sport use (Strava writes its activity type numbers); any
 * other word as written (lower case), for ingest/sport.ts to judge; null only when the file says nothing.
 */
export function sportName(raw: string | null): string | null {
  if (raw === null) return null;
  const s = raw.trim().toLowerCase().slice(0, 40);
  if (s === '') return null;
  if (s === '9' || /^(trail[ _-]?|street[ _-]?|treadmill[ _-]?|virtual[ _-]?)?run(ning)?$/.test(s)) return 'running';
  if (s === '1' || /^(biking|cycling|ride|bike|road[ _-]?biking|mountain[ _-]?biking|virtual[ _-]?ride)$/.test(s)) return 'cycling';
  if (/^walk(ing)?$/.test(s)) return 'walking';
  if (/^hik(e|ing)$/.test(s)) return 'hiking';
  if (/^swim(ming)?$/.test(s)) return 'swimming';
  return s.replace(/[\s-]+/g, '_');
}
