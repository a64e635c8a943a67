/**
 * Writes a simulated run as a FIT activity file with fit-file-parser's FitEncoder, in the layout watches
 * use so that any FIT reader sees a running activity: file_id, device_info, sport, a timer-start event,
 * 1 Hz records (timer stop/start events around pauses, a lap message at each lap's end), then the
 * closing timer event, last lap, session and activity.
 *
 * Records carry heart_rate, cadence + fractional_cadence (FIT counts strides per minute of one leg, so
 * steps/min are halved, with the fraction in 1/128), distance, enhanced_speed, enhanced_altitude,
 * temperature and enhanced_respiration_rate, each with the profile's scale and offset. A value the
 * simulator marks missing (NaN) is written as the base type's invalid value, which readers drop; a
 * channel the device lacks for the whole run is left out of the record definition.
 * @module
 */
import { FitBaseType, FitEncoder, type FitEncoderField } from 'fit-file-parser/encoder';
import type { SimChannel, SimulatedRun } from './simulate.js';

// Global message numbers and enum values from the FIT profile (fit-file-parser's profile.js).
const MSG = { fileId: 0, sport: 12, session: 18, lap: 19, record: 20, event: 21, deviceInfo: 23, activity: 34 } as const;
const SPORT_RUNNING = 1;
const SUB_SPORT = { generic: 0, treadmill: 1, street: 2, trail: 3 } as const;
const EVENT = { timer: 0, lap: 9, activity: 26 } as const;
const EVENT_TYPE = { start: 0, stop: 1, stopAll: 4 } as const;
const MANUFACTURER_DEVELOPMENT = 255;
const FILE_ACTIVITY = 4;

// One local message number per message type, so definitions are written once.
const LOCAL = { fileId: 0, deviceInfo: 1, sport: 2, event: 3, record: 4, lap: 5, session: 6, activity: 7 } as const;

const INVALID = { uint8: 0xff, sint8: 0x7f, uint16: 0xffff, uint32: 0xffffffff } as const;

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
function summarise(run: SimulatedRun, startT: number, endT: number, distanceM: number | null): Summary {
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

function pausedWithin(run: SimulatedRun, startT: number, endT: number): number {
  let paused = 0;
  for (const p of run.pauses) paused += Math.max(0, Math.min(endT, p.endT) - Math.max(startT, p.startT));
  return paused;
}

/** Encodes a simulated run as FIT bytes. Deterministic: the same run gives the same bytes. */
export function writeFit(run: SimulatedRun): Uint8Array {
  const enc = new FitEncoder();
  const start = FitEncoder.toFitTimestamp(new Date(run.startMs));
  const has = (c: SimChannel) => run.channels.includes(c);
  const hasDistance = has('distance');
  const subSport = SUB_SPORT[run.subSport];

  enc.writeMessage(
    MSG.fileId,
    [
      en(0, FILE_ACTIVITY),
      u16(1, MANUFACTURER_DEVELOPMENT),
      u16(2, 1),
      { number: 3, size: 4, baseType: FitBaseType.Uint32z, value: 12345 },
      time(4, start),
    ],
    LOCAL.fileId,
  );
  enc.writeMessage(
    MSG.deviceInfo,
    [time(253, start), u8(0, 0), u16(2, MANUFACTURER_DEVELOPMENT), u16(4, 1), u16(5, 1, 100)],
    LOCAL.deviceInfo,
  );
  const sportName = FitEncoder.string('Run');
  enc.writeMessage(
    MSG.sport,
    [en(0, SPORT_RUNNING), en(1, subSport), { number: 3, size: sportName.length, baseType: FitBaseType.String, value: sportName }],
    LOCAL.sport,
  );
  const timerEvent = (t: number, type: number) =>
    enc.writeMessage(MSG.event, [time(253, start + t), en(0, EVENT.timer), en(1, type)], LOCAL.event);
  timerEvent(0, EVENT_TYPE.start);

  const writeLap = (index: number) => {
    const lap = run.laps[index]!;
    const sum = summarise(run, lap.startT, lap.endT, lap.distanceM);
    const timer = lap.endT - lap.startT - pausedWithin(run, lap.startT, lap.endT);
    enc.writeMessage(
      MSG.lap,
      [
        time(253, start + lap.endT),
        time(2, start + lap.startT),
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
        en(25, SPORT_RUNNING),
        u16(254, index),
      ],
      LOCAL.lap,
    );
  };

  const s = run.samples;
  const pauseStarts = new Map(run.pauses.map((p) => [p.startT, p.endT]));
  let lapIndex = 0;
  for (let i = 0; i < s.length; i++) {
    const t = s.t[i]!;
    // A lap closes before the first record of the next one (after any pause between them).
    if (lapIndex < run.laps.length - 1 && run.laps[lapIndex]!.endT <= t) writeLap(lapIndex++);
    const fields: FitEncoderField[] = [time(253, start + t)];
    if (has('hr')) fields.push(u8(3, s.hr[i]!));
    if (has('cadence')) {
      const c = fitCadence(s.cadence[i]!);
      fields.push(u8(4, c.cadence), u8(53, c.fractional));
    }
    if (hasDistance) fields.push(u32(5, s.distance[i]!, 100));
    if (has('speed')) fields.push(u32(73, s.speed[i]!, 1000));
    if (has('altitude')) fields.push(u32(78, s.altitude[i]!, 5, 500));
    if (has('temperature')) fields.push(s8(13, s.temperature[i]!));
    if (has('respiration')) fields.push(u16(108, s.respiration[i]!, 100));
    enc.writeMessage(MSG.record, fields, LOCAL.record);

    const next = t + 1;
    const resumeAt = pauseStarts.get(next);
    if (resumeAt !== undefined) {
      timerEvent(next, EVENT_TYPE.stopAll);
      timerEvent(resumeAt, EVENT_TYPE.start);
    }
  }

  timerEvent(run.elapsedS, EVENT_TYPE.stopAll);
  writeLap(lapIndex);
  const total = summarise(run, 0, run.elapsedS, hasDistance ? run.laps.reduce((d, l) => d + (l.distanceM ?? 0), 0) : null);
  const end = start + run.elapsedS;
  enc.writeMessage(
    MSG.session,
    [
      time(253, end),
      time(2, start),
      u32(7, run.elapsedS, 1000),
      u32(8, run.timerS, 1000),
      u32(9, total.distanceM, 100),
      u8(16, total.avgHr),
      u8(17, total.maxHr),
      u16(22, total.ascentM),
      u32(124, has('speed') && hasDistance ? total.distanceM / run.timerS : NaN, 1000),
      u32(125, total.maxSpeed, 1000),
      u16(25, 0),
      u16(26, run.laps.length),
      en(0, EVENT.lap),
      en(1, EVENT_TYPE.stop),
      en(5, SPORT_RUNNING),
      en(6, subSport),
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
