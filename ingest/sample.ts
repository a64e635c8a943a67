/**
 * The one sample shape the whole project uses. Every source (FIT file, live watch batch, replay) is
 * normalised into it, so the risk engine cannot tell the sources apart.
 * @module
 */

/**
 * One normalised sample. A missing value is `NaN`, never 0: one object shape whatever the watch measures,
 * and arithmetic on a missing value stays visibly missing.
 */
export interface Sample {
  /** Seconds since the run's first record. */
  t: number;
  /** Milliseconds since the Unix epoch (NaN when the source has no absolute time). */
  timestamp: number;
  /** Heart rate, beats/min. */
  hr: number;
  /** Running cadence, steps/min (both legs). */
  cadence: number;
  /** Speed, m/s. */
  speed: number;
  /** Cumulative distance, m. */
  distance: number;
  /** Altitude, m. */
  altitude: number;
  /** Temperature the device measured, °C. */
  temperature: number;
  /** Respiration rate, breaths/min. */
  respiration: number;
  /** Power, W. */
  power: number;
  /** Latitude, degrees (WGS 84), NaN without a fix. Not a channel: the engine never reads it. */
  lat: number;
  /** Longitude, degrees (WGS 84), NaN without a fix. */
  lon: number;
}

/** The measured channels of a sample (everything but time). */
export const CHANNELS = [
  'hr',
  'cadence',
  'speed',
  'distance',
  'altitude',
  'temperature',
  'respiration',
  'power',
] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Position columns: kept with the samples (a map, a GPX export) but not channels, so the risk engine, which
 * iterates CHANNELS, never sees them. A run has a position when {@link hasPosition} says so.
 */
export const POSITION_FIELDS = ['lat', 'lon'] as const;
export type PositionField = (typeof POSITION_FIELDS)[number];

/** A fresh sample with every channel missing. */
export function emptySample(): Sample {
  return {
    t: NaN,
    timestamp: NaN,
    hr: NaN,
    cadence: NaN,
    speed: NaN,
    distance: NaN,
    altitude: NaN,
    temperature: NaN,
    respiration: NaN,
    power: NaN,
    lat: NaN,
    lon: NaN,
  };
}

/**
 * A run's samples as columns: one typed array per field, NaN where missing. About 96 bytes a record,
 * so a 24-hour ultra at 1 Hz stays under 9 MB.
 */
export interface SampleColumns {
  length: number;
  t: Float64Array;
  timestamp: Float64Array;
  hr: Float64Array;
  cadence: Float64Array;
  speed: Float64Array;
  distance: Float64Array;
  altitude: Float64Array;
  temperature: Float64Array;
  respiration: Float64Array;
  power: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
}

/** Every column, in a fixed order (the store codec's bit order: new fields are only ever appended). */
export const SAMPLE_FIELDS = ['t', 'timestamp', ...CHANNELS, ...POSITION_FIELDS] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/** Columns of `length` rows, every value missing (NaN); `allMissing: false` leaves them 0 for a caller that writes every row. */
export function allocColumns(length: number, allMissing = true): SampleColumns {
  const column = () => (allMissing ? new Float64Array(length).fill(NaN) : new Float64Array(length));
  return {
    length,
    t: column(),
    timestamp: column(),
    hr: column(),
    cadence: column(),
    speed: column(),
    distance: column(),
    altitude: column(),
    temperature: column(),
    respiration: column(),
    power: column(),
    lat: column(),
    lon: column(),
  };
}

/** The first `length` rows of `cols`, as views on the same buffers (no copy). */
export function headColumns(cols: SampleColumns, length: number): SampleColumns {
  if (length === cols.length) return cols;
  const out = { ...cols, length };
  for (const f of SAMPLE_FIELDS) out[f] = cols[f].subarray(0, length);
  return out;
}

/** Copies row `i` of `cols` into `out` (reused by the caller: no allocation per row). */
export function readRow(cols: SampleColumns, i: number, out: Sample): Sample {
  out.t = cols.t[i]!;
  out.timestamp = cols.timestamp[i]!;
  out.hr = cols.hr[i]!;
  out.cadence = cols.cadence[i]!;
  out.speed = cols.speed[i]!;
  out.distance = cols.distance[i]!;
  out.altitude = cols.altitude[i]!;
  out.temperature = cols.temperature[i]!;
  out.respiration = cols.respiration[i]!;
  out.power = cols.power[i]!;
  out.lat = cols.lat[i]!;
  out.lon = cols.lon[i]!;
  return out;
}

/** True when at least one row has both a latitude and a longitude. */
export function hasPosition(cols: SampleColumns): boolean {
  for (let i = 0; i < cols.length; i++) if (cols.lat[i] === cols.lat[i] && cols.lon[i] === cols.lon[i]) return true;
  return false;
}

/** Valid WGS 84 degrees; (0, 0), what some recorders write without a fix, counts as no position. */
export function isPosition(lat: number, lon: number): boolean {
  return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat !== 0 || lon !== 0);
}

/** RR intervals (beat-to-beat times) from FIT hrv messages or a BLE heart-rate strap. */
export interface RrSeries {
  /** Seconds since the run's first record at which each interval ended (estimated where the source has none). */
  t: Float64Array;
  /** Interval length, ms. */
  ms: Float64Array;
}

/** Things that happen during a run besides samples. `t` is seconds since the first record. */
export type RunEvent =
  | { t: number; type: 'drink'; ml: number }
  | { t: number; type: 'electrolyte'; sodiumMg: number }
  | { t: number; type: 'gel'; sodiumMg?: number; carbsG?: number }
  | { t: number; type: 'cramp'; muscle: string; severity: number }
  | { t: number; type: 'pause' }
  | { t: number; type: 'resume' }
  | { t: number; type: 'lap' };
export type RunEventType = RunEvent['type'];

/** Something odd about the input that did not stop it from being read. */
export interface IngestWarning {
  /** Stable, machine-readable, e.g. `truncated`, `time_jump`, `speed_spike`. */
  code: string;
  /** One line for a person. */
  message: string;
  /** How many samples or messages it concerns, where that is meaningful. */
  count?: number;
}

export interface Lap {
  startT: number;
  endT: number;
  distanceM: number | null;
}

/** One leg of a multi-sport file (a single-sport file has one leg). */
export interface Leg {
  sport: string | null;
  subSport: string | null;
  startT: number;
  endT: number;
  /** True for running legs: those are the ones the engine analyses. */
  running: boolean;
}

export interface RunMeta {
  sport: string | null;
  subSport: string | null;
  manufacturer: string | null;
  product: string | null;
  /** ISO 8601, UTC. */
  startTime: string | null;
  /** Wall time from first to last record, s. */
  elapsedS: number;
  /** Moving (timer) time, s: elapsed minus pauses. */
  timerS: number;
  distanceM: number | null;
  laps: Lap[];
  pauses: { startT: number; endT: number }[];
  legs: Leg[];
}

/** A whole decoded run: what the FIT path produces and what a finished live run is stored as. */
export interface NormalizedRun {
  meta: RunMeta;
  samples: SampleColumns;
  rr: RrSeries | null;
  events: RunEvent[];
  /** Channels with at least one valid value. */
  channels: ReadonlyArray<Channel>;
  warnings: IngestWarning[];
}
