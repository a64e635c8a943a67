/**
 * A run page's headline numbers, laps and splits: the one place the server works out what a report lacks, from
 * the stored samples. The report's own fields win where it has them (distance, time, moving time, the engine's
 * `metrics.avgPaceSPerKm`, `avgHr`, `maxHr`); the rest (elevation gain, average cadence, per-lap and per-km or
 * per-mile splits) is computed here in one pass per split. Returned with the run (`GET /api/runs/:id`, `summary`).
 * @module
 */
import { CORE_DEFAULTS } from '../../alerts/config.js';
import type { EngineOptions, Report } from '../../alerts/types.js';
import type { RunMeta, SampleColumns } from '../../ingest/sample.js';
import { reportPaceSPerKm } from '../store/highlights.js';

/** Climb counted only past this rise from the last low (m): barometer noise must not add up to metres of gain. */
export const CLIMB_HYSTERESIS_M = 2;
export const METRES_PER_MILE = 1609.344;

export interface Split {
  /** 1-based. */
  index: number;
  startT: number;
  endT: number;
  /** Distance covered in the split, m (a last, partial split is shorter). */
  distanceM: number | null;
  /** Moving time in the split, s (pauses left out). */
  movingTimeS: number;
  paceSPerKm: number | null;
  avgHr: number | null;
  maxHr: number | null;
  avgCadence: number | null;
  elevationGainM: number | null;
}

export interface Weather {
  tempC: number | null;
  /** `given`: the upload's or the watch's conditions; `watch`: the watch's own sensor (reads warm when worn); `assumed`: the engine's default. */
  tempSource: 'given' | 'watch' | 'assumed';
  humidity: number | null;
  humiditySource: 'given' | 'assumed';
}

export interface RunSummaryView {
  sport: string | null;
  subSport: string | null;
  /** "garmin fenix7", or null when the file does not say. */
  device: string | null;
  startTime: string | null;
  distanceM: number | null;
  /** Elapsed time, first to last record, s. */
  durationS: number | null;
  movingTimeS: number | null;
  avgPaceSPerKm: number | null;
  avgHr: number | null;
  maxHr: number | null;
  elevationGainM: number | null;
  avgCadence: number | null;
  weather: Weather;
  laps: Split[];
  splits: { km: Split[]; mi: Split[] };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

function inPause(t: number, pauses: readonly { startT: number; endT: number }[]): boolean {
  for (const p of pauses) if (t >= p.startT && t < p.endT) return true;
  return false;
}

/** Statistics of rows [from, to). */
function stats(cols: SampleColumns, from: number, to: number, pauses: RunMeta['pauses']): Omit<Split, 'index' | 'startT' | 'endT'> {
  let hrSum = 0;
  let hrN = 0;
  let hrMax = -Infinity;
  let cadSum = 0;
  let cadN = 0;
  let gain = 0;
  let altSeen = false;
  let low = NaN;
  let moving = 0;
  let d0 = NaN;
  let d1 = NaN;
  for (let i = from; i < to; i++) {
    const hr = cols.hr[i]!;
    if (hr === hr) {
      hrSum += hr;
      hrN++;
      if (hr > hrMax) hrMax = hr;
    }
    const cad = cols.cadence[i]!;
    if (cad === cad && cad > 0) {
      cadSum += cad;
      cadN++;
    }
    const alt = cols.altitude[i]!;
    if (alt === alt) {
      altSeen = true;
      if (!(low === low) || alt < low) low = alt;
      else if (alt - low >= CLIMB_HYSTERESIS_M) {
        gain += alt - low;
        low = alt;
      }
    }
    const d = cols.distance[i]!;
    if (d === d) {
      if (!(d0 === d0)) d0 = d;
      d1 = d;
    }
    if (i + 1 < cols.length) {
      const dt = cols.t[i + 1]! - cols.t[i]!;
      if (dt > 0 && dt < 30 && !inPause(cols.t[i]!, pauses)) moving += dt;
    }
  }
  const distanceM = d0 === d0 && d1 === d1 ? d1 - d0 : null;
  return {
    distanceM: distanceM === null ? null : round(distanceM, 1),
    movingTimeS: round(moving, 1),
    paceSPerKm: distanceM !== null && distanceM > 5 && moving > 0 ? round(moving / (distanceM / 1000), 1) : null,
    avgHr: hrN > 0 ? round(hrSum / hrN) : null,
    maxHr: hrN > 0 ? hrMax : null,
    avgCadence: cadN > 0 ? round(cadSum / cadN) : null,
    elevationGainM: altSeen ? round(gain) : null,
  };
}

/** Row index of the first sample with t >= `t` (binary search on the increasing `t` column). */
function rowAt(cols: SampleColumns, t: number): number {
  let lo = 0;
  let hi = cols.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cols.t[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Splits of `every` metres along the distance column; the last one is what is left (if over 1 % of a split). */
function distanceSplits(cols: SampleColumns, every: number, pauses: RunMeta['pauses']): Split[] {
  const out: Split[] = [];
  let start = 0;
  let base = NaN;
  let next = NaN;
  for (let i = 0; i < cols.length; i++) {
    const d = cols.distance[i]!;
    if (!(d === d)) continue;
    if (!(base === base)) {
      base = d;
      next = d + every;
      start = i;
      continue;
    }
    if (d >= next) {
      out.push({ index: out.length + 1, startT: cols.t[start]!, endT: cols.t[i]!, ...stats(cols, start, i + 1, pauses) });
      start = i;
      next += every;
    }
  }
  const last = cols.length - 1;
  if (base === base && start < last) {
    const rest = stats(cols, start, cols.length, pauses);
    if ((rest.distanceM ?? 0) > every * 0.01) out.push({ index: out.length + 1, startT: cols.t[start]!, endT: cols.t[last]!, ...rest });
  }
  return out;
}

function deviceName(meta: RunMeta | null): string | null {
  if (!meta) return null;
  const parts = [meta.manufacturer, meta.product].filter((p): p is string => typeof p === 'string' && p.length > 0 && p !== 'unknown');
  return parts.length ? parts.join(' ') : null;
}

function weatherOf(options: EngineOptions | null, cols: SampleColumns): Weather {
  const given = options?.conditions;
  let tempC: number | null = finite(given?.tempC) ? given!.tempC! : null;
  let tempSource: Weather['tempSource'] = 'given';
  if (tempC === null) {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < cols.length; i++) {
      const v = cols.temperature[i]!;
      if (v === v) {
        sum += v;
        n++;
      }
    }
    if (n > 0) {
      tempC = round(sum / n);
      tempSource = 'watch';
    } else {
      tempC = CORE_DEFAULTS.defaultTempC;
      tempSource = 'assumed';
    }
  }
  const humidity = finite(given?.humidity) ? given!.humidity! : CORE_DEFAULTS.defaultHumidityPct;
  return { tempC, tempSource, humidity, humiditySource: finite(given?.humidity) ? 'given' : 'assumed' };
}

/**
 * The summary of a stored run. `report` is null while a live run is going (the numbers then come from the
 * samples alone).
 */
export function summariseRun(input: {
  report: Report | null;
  meta: RunMeta | null;
  options: EngineOptions | null;
  startTime: string | null;
  samples: SampleColumns;
}): RunSummaryView {
  const { report, meta, samples: cols } = input;
  const pauses = meta?.pauses ?? [];
  const whole = stats(cols, 0, cols.length, pauses);
  const metric = (name: string): number | null => {
    const v = (report?.metrics as Record<string, unknown> | undefined)?.[name];
    return finite(v) ? v : null;
  };
  const laps = (meta?.laps ?? []).length > 1
    ? meta!.laps.map((lap, i) => {
        const from = rowAt(cols, lap.startT);
        const to = rowAt(cols, lap.endT);
        const s = stats(cols, from, Math.max(from, to), pauses);
        return { index: i + 1, startT: lap.startT, endT: lap.endT, ...s, distanceM: lap.distanceM ?? s.distanceM };
      })
    : [];
  const distanceM = report?.distanceM ?? meta?.distanceM ?? whole.distanceM;
  const durationS = report?.durationS ?? meta?.elapsedS ?? (cols.length > 0 ? cols.t[cols.length - 1]! - cols.t[0]! : null);
  const movingTimeS = report?.movingTimeS ?? (meta && meta.timerS > 0 ? meta.timerS : whole.movingTimeS);
  const pace =
    reportPaceSPerKm(report) ??
    (finite(distanceM) && distanceM > 50 && finite(movingTimeS) && movingTimeS > 0 ? round(movingTimeS / (distanceM / 1000), 1) : null);
  return {
    sport: report?.sport ?? meta?.sport ?? null,
    subSport: meta?.subSport ?? null,
    device: deviceName(meta),
    startTime: report?.startTime ?? meta?.startTime ?? input.startTime,
    distanceM: finite(distanceM) ? distanceM : null,
    durationS: finite(durationS) ? durationS : null,
    movingTimeS: finite(movingTimeS) ? movingTimeS : null,
    avgPaceSPerKm: pace,
    avgHr: metric('avgHr') ?? whole.avgHr,
    maxHr: metric('maxHr') ?? whole.maxHr,
    elevationGainM: whole.elevationGainM,
    avgCadence: whole.avgCadence,
    weather: weatherOf(input.options, cols),
    laps,
    splits: { km: distanceSplits(cols, 1000, pauses), mi: distanceSplits(cols, METRES_PER_MILE, pauses) },
  };
}
