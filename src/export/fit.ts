/**
 * Writes a run as a FIT activity file with fit-file-parser's FitEncoder, in the layout watches use so that any
 * FIT reader sees an activity: file_id, device_info, sport, a timer-start event, the records (timer stop/start
 * events around pauses, a lap message at each lap's end), then the closing timer event, last lap, session and
 * activity. The simulator (src/sim/write-fit.ts) and the run export (`GET /api/runs/:id/export?format=fit`,
 * `crampguard export`) both write through here.
 *
 * Records carry heart_rate, cadence + fractional_cadence (FIT counts strides per minute of one leg, so steps/min
 * are halved, with the fraction in 1/128), distance, enhanced_speed, enhanced_altitude, temperature,
 * enhanced_respiration_rate, power and position_lat/position_long (semicircles), each with the profile's scale and
 * offset. A missing value (NaN) is written as the base type's invalid value, which readers drop; a channel the
 * run lacks throughout is left out of the record definition.
 * @module
 */
import { FitBaseType, FitEncoder, type FitEncoderField } from 'fit-file-parser/encoder';
import type { Lap, SampleColumns } from '../../ingest/sample.js';

// Global message numbers and enum values from the FIT profile (fit-file-parser's profile.js).
const MSG = { fileId: 0, sport: 12, session: 18, lap: 19, record: 20, event: 21, deviceInfo: 23, activity: 34 } as const;
const EVENT = { timer: 0, lap: 9, activity: 26 } as const;
const EVENT_TYPE = { start: 0, stop: 1, stopAll: 4 } as const;
const FILE_ACTIVITY = 4;
/** FIT `manufacturer` 255: development. */
export const MANUFACTURER_DEVELOPMENT = 255;

/** FIT `sport` values for the sport names the decoder gives. */
const SPORTS: Record<string, number> = {
  generic: 0,
  running: 1,
  cycling: 2,
  transition: 3,
  fitness_equipment: 4,
  swimming: 5,
  walking: 11,
  hiking: 17,
  multisport: 18,
  training: 10,
};
/** FIT `sub_sport` values for the running sub-sports. */
const SUB_SPORTS: Record<string, number> = { generic: 0, treadmill: 1, street: 2, trail: 3, track: 4 };
/** FIT `manufacturer` values of the usual running-watch makers (anything else is written as development). */
const MANUFACTURERS: Record<string, number> = { garmin: 1, suunto: 23, wahoo_fitness: 32, polar: 123, coros: 294, development: 255 };

export const fitSport = (name: string | null): number => (name ? (SPORTS[name] ?? 0) : 1);
export const fitSubSport = (name: string | null): number => (name ? (SUB_SPORTS[name] ?? 0) : 0);
export const fitManufacturer = (name: string | null): number => (name ? (MANUFACTURERS[name] ?? MANUFACTURER_DEVELOPMENT) : MANUFACTURER_DEVELOPMENT);

/** The record columns a FIT file can carry; a run writes those it has. */
export type FitChannel = 'hr' | 'cadence' | 'speed' | 'distance' | 'altitude' | 'temperature' | 'respiration' | 'power' | 'position';

/** What the writer needs: a run with its columns (t in s since the first record), laps and pauses. */
export interface FitActivity {
  /** Unix ms the activity started (file_id and session start_time). */
  startMs: number;
  /** Unix ms of `t = 0`, when the first record came after the start (a file's own records). @default startMs */
  recordBaseMs?: number;
  /** FIT sport and sub_sport values (see {@link fitSport}). */
  sport: number;
  subSport: number;
  /** Written in the sport message (at most 15 characters). */
  sportName: string;
  manufacturer: number;
  product: number;
  samples: SampleColumns & { lat?: Float64Array; lon?: Float64Array };
  /** Which columns to write. */
  channels: readonly FitChannel[];
  laps: readonly Lap[];
  pauses: readonly { startT: number; endT: number }[];
  /** Wall time from start to the end of the last record, s. */
  elapsedS: number;
  /** Elapsed minus pauses, s. */
  timerS: number;
}

// One local message number per message type, so definitions are written once.
const LOCAL = { fileId: 0, deviceInfo: 1, sport: 2, event: 3, record: 4, lap: 5, session: 6, activity: 7 } as const;

const INVALID = { uint8: 0xff, sint8: 0x7f, uint16: 0xffff, uint32: 0xffffffff, sint32: 0x7fffffff } as const;
const SEMICIRCLES_PER_DEGREE = 2 ** 31 / 180;

function scaled(value: number, scale: number, offset: number, max: number, invalid: number): number {
  if (!Number.isFinite(value)) return invalid;
  return Math.min(max, Math.max(0, Math.round((value + offset) * scale)));
}

const u8 = (number: number, value: number): FitEncoderField => ({
  number,
  size: 1,
  baseType: FitBaseType.Uint8,
  value: scaled(value, 1, 0, INVALID.uint8 - 1, INVALID.uint8),
});
const en = (number: number, value: number): FitEncoderField => ({ number, size: 1, baseType: FitBaseType.Enum, value });
const u16 = (number: number, value: number, scale = 1): FitEncoderField => ({
  number,
  size: 2,
  baseType: FitBaseType.Uint16,
  value: scaled(value, scale, 0, INVALID.uint16 - 1, INVALID.uint16),
});
const u32 = (number: number, value: number, scale = 1, offset = 0): FitEncoderField => ({
  number,
  size: 4,
  baseType: FitBaseType.Uint32,
  value: scaled(value, scale, offset, INVALID.uint32 - 1, INVALID.uint32),
});
const s8 = (number: number, value: number): FitEncoderField => ({
  number,
  size: 1,
  baseType: FitBaseType.Sint8,
  value: Number.isFinite(value) ? Math.min(126, Math.max(-127, Math.round(value))) : INVALID.sint8,
});
/** Degrees as FIT semicircles (sint32). */
const semicircles = (number: number, degrees: number): FitEncoderField => ({
  number,
  size: 4,
  baseType: FitBaseType.Sint32,
  value: Number.isFinite(degrees) ? Math.max(-(2 ** 31) + 1, Math.min(2 ** 31 - 2, Math.round(degrees * SEMICIRCLES_PER_DEGREE))) : INVALID.sint32,
});
const time = (number: number, fitSeconds: number): FitEncoderField => ({ number, size: 4, baseType: FitBaseType.Uint32, value: fitSeconds });

/** FIT cadence for steps/min: whole strides/min of one leg plus the fraction in 1/128. */
export function fitCadence(stepsPerMin: number): { cadence: number; fractional: number } {
  if (!Number.isFinite(stepsPerMin)) return { cadence: NaN, fractional: NaN };
  const ticks = Math.round((stepsPerMin / 2) * 128);
  return { cadence: Math.floor(ticks / 128), fractional: ticks % 128 };
}

interface Summary {
  avgHr: number;
  maxHr: number;
  distanceM: number;
  maxSpeed: number;
  ascentM: number;
}

/** Summary of the records with startT <= t < endT. Missing values are skipped; all missing gives NaN. */
function summarise(run: FitActivity, startT: number, endT: number, distanceM: number | null): Summary {
  const s = run.samples;
  let hrSum = 0;
  let hrN = 0;
  let maxHr = NaN;
  let maxSpeed = NaN;
  let ascent = 0;
  let climbBase = NaN;
  for (let i = 0; i < s.length; i++) {
    const t = s.t[i]!;
    if (t < startT || t >= endT) continue;
    const hr = s.hr[i]!;
    if (Number.isFinite(hr)) {
      hrSum += hr;
      hrN++;
      if (!(hr <= maxHr)) maxHr = hr;
    }
    const v = s.speed[i]!;
    if (Number.isFinite(v) && !(v <= maxSpeed)) maxSpeed = v;
    // Ascent with 2 m hysteresis: barometer noise (σ 0.2 m) swings ~1.2 m over a run and must not add up.
    const alt = s.altitude[i]!;
    if (Number.isFinite(alt)) {
      if (Number.isNaN(climbBase) || alt < climbBase) climbBase = alt;
      else if (alt - climbBase >= 2) {
        ascent += alt - climbBase;
        climbBase = alt;
      }
    }
  }
  return {
    avgHr: hrN > 0 ? hrSum / hrN : NaN,
    maxHr,
    distanceM: distanceM ?? NaN,
    maxSpeed,
    ascentM: run.channels.includes('altitude') ? ascent : NaN,
  };
}

function pausedWithin(run: FitActivity, startT: number, endT: number): number {
  let paused = 0;
  for (const p of run.pauses) paused += Math.max(0, Math.min(endT, p.endT) - Math.max(startT, p.startT));
  return paused;
}

/** Records encoded between two yields of {@link fitActivitySteps} (~30 ms of fit-file-parser's encoder). */
export const RECORDS_PER_STEP = 2000;

/** Encodes a run as FIT bytes. Deterministic: the same run gives the same bytes. */
export function encodeFitActivity(run: FitActivity): Uint8Array {
  const steps = fitActivitySteps(run);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * The same, in steps of {@link RECORDS_PER_STEP} records: the server awaits the event loop between steps, so
 * exporting a 24-hour run (~1.4 s of encoding) never holds live prompts for more than one step.
 */
export function* fitActivitySteps(run: FitActivity): Generator<void, Uint8Array, void> {
  const enc = new FitEncoder();
  const sessionStart = FitEncoder.toFitTimestamp(new Date(run.startMs));
  // FIT times are whole seconds: t = 0 is written in the second it falls in.
  const baseMs = run.recordBaseMs ?? run.startMs;
  const fitAt = (ms: number) => FitEncoder.toFitTimestamp(new Date(Math.floor(ms / 1000) * 1000));
  const start = fitAt(baseMs);
  const has = (c: FitChannel) => run.channels.includes(c);
  const hasDistance = has('distance');
  const laps = run.laps.length > 0 ? run.laps : [{ startT: 0, endT: run.elapsedS, distanceM: null }];

  enc.writeMessage(
    MSG.fileId,
    [
      en(0, FILE_ACTIVITY),
      u16(1, run.manufacturer),
      u16(2, run.product),
      { number: 3, size: 4, baseType: FitBaseType.Uint32z, value: 12345 },
      time(4, sessionStart),
    ],
    LOCAL.fileId,
  );
  enc.writeMessage(
    MSG.deviceInfo,
    [time(253, sessionStart), u8(0, 0), u16(2, run.manufacturer), u16(4, run.product), u16(5, 1, 100)],
    LOCAL.deviceInfo,
  );
  const sportName = FitEncoder.string(run.sportName.slice(0, 15));
  enc.writeMessage(
    MSG.sport,
    [en(0, run.sport), en(1, run.subSport), { number: 3, size: sportName.length, baseType: FitBaseType.String, value: sportName }],
    LOCAL.sport,
  );
  const timerEvent = (t: number, type: number) =>
    enc.writeMessage(MSG.event, [time(253, start + Math.round(t)), en(0, EVENT.timer), en(1, type)], LOCAL.event);
  timerEvent(0, EVENT_TYPE.start);

  const writeLap = (index: number) => {
    const lap = laps[index]!;
    const sum = summarise(run, lap.startT, lap.endT, lap.distanceM);
    const timer = lap.endT - lap.startT - pausedWithin(run, lap.startT, lap.endT);
    enc.writeMessage(
      MSG.lap,
      [
        time(253, start + Math.round(lap.endT)),
        time(2, start + Math.round(lap.startT)),
        u32(7, lap.endT - lap.startT, 1000),
        u32(8, timer, 1000),
        u32(9, hasDistance ? sum.distanceM : NaN, 100),
        u8(15, sum.avgHr),
        u8(16, sum.maxHr),
        u16(21, sum.ascentM),
        u32(110, has('speed') && hasDistance ? sum.distanceM / timer : NaN, 1000),
        u32(111, sum.maxSpeed, 1000),
        en(0, EVENT.lap),
        en(1, EVENT_TYPE.stop),
        en(25, run.sport),
        u16(254, index),
      ],
      LOCAL.lap,
    );
  };

  const s = run.samples;
  const lat = s.lat;
  const lon = s.lon;
  const hasPosition = has('position') && lat !== undefined && lon !== undefined;
  const pauses = [...run.pauses].sort((a, b) => a.startT - b.startT);
  let pauseIndex = 0;
  let lapIndex = 0;
  for (let i = 0; i < s.length; i++) {
    const t = s.t[i]!;
    // A pause ended before this record: the timer stopped at its start and started again at its end.
    while (pauseIndex < pauses.length && pauses[pauseIndex]!.endT <= t) {
      timerEvent(pauses[pauseIndex]!.startT, EVENT_TYPE.stopAll);
      timerEvent(pauses[pauseIndex]!.endT, EVENT_TYPE.start);
      pauseIndex++;
    }
    // A lap closes before the first record of the next one (after any pause between them).
    if (lapIndex < laps.length - 1 && laps[lapIndex]!.endT <= t) writeLap(lapIndex++);
    // FIT times are whole seconds: a sub-second record keeps the second it falls in.
    const fields: FitEncoderField[] = [time(253, fitAt(baseMs + t * 1000))];
    if (hasPosition) fields.push(semicircles(0, lat[i]!), semicircles(1, lon[i]!));
    if (has('hr')) fields.push(u8(3, s.hr[i]!));
    if (has('cadence')) {
      const c = fitCadence(s.cadence[i]!);
      fields.push(u8(4, c.cadence), u8(53, c.fractional));
    }
    if (hasDistance) fields.push(u32(5, s.distance[i]!, 100));
    if (has('power')) fields.push(u16(7, s.power[i]!));
    if (has('speed')) fields.push(u32(73, s.speed[i]!, 1000));
    if (has('altitude')) fields.push(u32(78, s.altitude[i]!, 5, 500));
    if (has('temperature')) fields.push(s8(13, s.temperature[i]!));
    if (has('respiration')) fields.push(u16(108, s.respiration[i]!, 100));
    enc.writeMessage(MSG.record, fields, LOCAL.record);
    if ((i + 1) % RECORDS_PER_STEP === 0) yield;
  }

  timerEvent(run.elapsedS, EVENT_TYPE.stopAll);
  writeLap(lapIndex);
  const total = summarise(run, 0, run.elapsedS, hasDistance ? laps.reduce((d, l) => d + (l.distanceM ?? 0), 0) : null);
  const end = start + Math.round(run.elapsedS);
  enc.writeMessage(
    MSG.session,
    [
      time(253, end),
      time(2, sessionStart),
      u32(7, run.elapsedS, 1000),
      u32(8, run.timerS, 1000),
      u32(9, total.distanceM, 100),
      u8(16, total.avgHr),
      u8(17, total.maxHr),
      u16(22, total.ascentM),
      u32(124, has('speed') && hasDistance ? total.distanceM / run.timerS : NaN, 1000),
      u32(125, total.maxSpeed, 1000),
      u16(25, 0),
      u16(26, laps.length),
      en(0, EVENT.lap),
      en(1, EVENT_TYPE.stop),
      en(5, run.sport),
      en(6, run.subSport),
      u16(254, 0),
    ],
    LOCAL.session,
  );
  enc.writeMessage(
    MSG.activity,
    [time(253, end), u32(0, run.timerS, 1000), u16(1, 1), en(2, 0), en(3, EVENT.activity), en(4, EVENT_TYPE.stop)],
    LOCAL.activity,
  );
  return enc.close();
}
