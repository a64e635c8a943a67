/**
 * FIT record messages → SampleColumns. Units and precedence follow the FIT profile:
 * - cadence: FIT stores running cadence as strides/min of one leg, so steps/min = 2 × (cadence +
 *   fractional_cadence). Non-foot sports get the same doubling (their crank rpm × 2); only running legs
 *   are analysed, and one rule keeps the column meaning one thing.
 * - speed: enhanced_speed first, then speed, then the old 3-byte compressed_speed_distance (FR70 era).
 * - altitude: enhanced_altitude first. respiration: enhanced_respiration_rate first.
 * A missing value stays NaN; values outside ingest/plausible.ts ranges are dropped with a warning.
 * @module
 */
import { IMPLAUSIBLE_CODE, PLAUSIBLE } from '../plausible.js';
import { allocColumns, CHANNELS } from '../sample.js';
import type { Channel, SampleColumns } from '../sample.js';
import { num, timeMs } from './values.js';
import type { FitMessage, WarningLog } from './values.js';

/** A jump forward larger than this between consecutive records is checked as a possible bad timestamp. */
export const MAX_TIME_JUMP_MS = 24 * 3600 * 1000;

export interface RecordColumns {
  samples: SampleColumns;
  /** Epoch ms of the first kept record (t = 0). */
  t0: number;
  /** For each input record, its row in `samples`, or -1 when the record was dropped. */
  rowOf: Int32Array;
  channels: Channel[];
}

/**
 * Decides which records to keep: each needs a timestamp that does not go back in time, and a forward
 * jump of more than a day is kept only when the records after it continue from there (a real gap),
 * otherwise dropped as a corrupt timestamp.
 */
function selectRecords(times: Float64Array, warnings: WarningLog): Int32Array {
  const n = times.length;
  const rowOf = new Int32Array(n).fill(-1);
  let last = NaN;
  let rows = 0;
  let missing = 0;
  let backwards = 0;
  for (let i = 0; i < n; i++) {
    const ts = times[i]!;
    if (Number.isNaN(ts)) {
      missing++;
      continue;
    }
    if (!Number.isNaN(last)) {
      if (ts < last) {
        backwards++;
        continue;
      }
      if (ts - last > MAX_TIME_JUMP_MS) {
        let next = NaN;
        for (let j = i + 1; j < n && Number.isNaN(next); j++) next = times[j]!;
        const hours = ((ts - last) / 3_600_000).toFixed(1);
        if (Number.isNaN(next) || next < ts) {
          // Nothing after it continues from the new time: a corrupt timestamp, not a gap.
          warnings.add('time_jump', `dropped a record whose timestamp jumped ${hours} h ahead`);
          continue;
        }
        warnings.add('time_jump', `kept a ${hours} h gap between records`);
      }
    }
    rowOf[i] = rows++;
    last = ts;
  }
  if (missing > 0) warnings.add('no_timestamp', 'dropped records without a timestamp', missing);
  if (backwards > 0) warnings.add('time_backwards', 'dropped records whose timestamp went back in time', backwards);
  return rowOf;
}

/** Decodes FIT's compressed_speed_distance (byte[3]): 12-bit speed (1/100 m/s), 12-bit rolling distance (1/16 m). */
function compressedSpeedDistance(v: unknown): { speed: number; distance12: number } | null {
  if (!Array.isArray(v) || v.length !== 3) return null;
  const [b0, b1, b2] = v as unknown[];
  if (typeof b0 !== 'number' || typeof b1 !== 'number' || typeof b2 !== 'number') return null;
  return { speed: (b0 | ((b1 & 0x0f) << 8)) / 100, distance12: (b1 >>> 4) | (b2 << 4) };
}

/** Plausible range per channel, indexed like CHANNELS, read without allocating in the record loop. */
const MIN = Float64Array.from(CHANNELS, (c) => PLAUSIBLE[c][0]);
const MAX = Float64Array.from(CHANNELS, (c) => PLAUSIBLE[c][1]);
const HR = 0, CADENCE = 1, SPEED = 2, DISTANCE = 3, ALTITUDE = 4, TEMPERATURE = 5, RESPIRATION = 6, POWER = 7;

/**
 * Builds the columns from all record messages of all segments, in file order. Fields are read by
 * literal name (fast, monomorphic property loads): this loop is most of the cost added to parsing.
 */
export function recordsToColumns(records: readonly FitMessage[], warnings: WarningLog): RecordColumns {
  const n = records.length;
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = timeMs(records[i]!.timestamp);
  const rowOf = selectRecords(times, warnings);
  let rows = 0;
  for (let i = 0; i < n; i++) if (rowOf[i]! >= 0) rows++;
  const cols = allocColumns(rows);
  const out = CHANNELS.map((c) => cols[c]);
  const dropped = new Int32Array(CHANNELS.length);
  const seen = new Uint8Array(CHANNELS.length);
  let t0 = NaN;
  // Rolling 12-bit distance of compressed_speed_distance, accumulated across records.
  let compressedDistance = 0;
  let lastDistance12 = -1;

  const put = (k: number, row: number, value: number): void => {
    if (Number.isNaN(value)) return;
    if (value < MIN[k]! || value > MAX[k]!) {
      dropped[k]!++;
      return;
    }
    out[k]![row] = value;
    seen[k] = 1;
  };

  for (let i = 0; i < n; i++) {
    const row = rowOf[i]!;
    if (row < 0) continue;
    const r = records[i]!;
    const ts = times[i]!;
    if (Number.isNaN(t0)) t0 = ts;
    cols.timestamp[row] = ts;
    cols.t[row] = (ts - t0) / 1000;

    const hr = num(r.heart_rate);
    if (hr !== 0) put(HR, row, hr); // 0 is a strap's "no reading", not a heart rate

    const fraction = num(r.fractional_cadence);
    put(CADENCE, row, 2 * (num(r.cadence) + (Number.isNaN(fraction) ? 0 : fraction)));

    let speed = num(r.enhanced_speed);
    if (Number.isNaN(speed)) speed = num(r.speed);
    let distance = num(r.distance);
    if (r.compressed_speed_distance !== undefined) {
      const compressed = compressedSpeedDistance(r.compressed_speed_distance);
      if (compressed) {
        if (Number.isNaN(speed)) speed = compressed.speed;
        if (lastDistance12 >= 0) compressedDistance += (compressed.distance12 - lastDistance12) & 0xfff;
        lastDistance12 = compressed.distance12;
        if (Number.isNaN(distance)) distance = compressedDistance / 16;
      }
    }
    put(SPEED, row, speed);
    put(DISTANCE, row, distance);

    let altitude = num(r.enhanced_altitude);
    if (Number.isNaN(altitude)) altitude = num(r.altitude);
    put(ALTITUDE, row, altitude);

    put(TEMPERATURE, row, num(r.temperature));

    let respiration = num(r.enhanced_respiration_rate);
    if (Number.isNaN(respiration)) respiration = num(r.respiration_rate);
    if (respiration !== 0) put(RESPIRATION, row, respiration); // 0: no reading yet (Garmin)

    put(POWER, row, num(r.power));
  }

  CHANNELS.forEach((channel, k) => {
    if (dropped[k]! > 0) {
      warnings.add(IMPLAUSIBLE_CODE[channel], `dropped ${channel} values outside ${MIN[k]}..${MAX[k]}`, dropped[k]);
    }
  });
  return { samples: cols, t0, rowOf, channels: CHANNELS.filter((_, k) => seen[k] === 1) };
}
