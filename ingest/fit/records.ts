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
import { allocColumns, CHANNELS, headColumns } from '../sample.js';
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
 * Every array normalising needs, for up to `capacity` records. decodeFit allocates it before
 * fit-file-parser runs (the framing walk counts the records), so that no allocation happens while the
 * parser's ~400 B/record result is alive: an allocation then can start a full GC that has to mark all of it.
 */
export interface RecordWorkspace {
  times: Float64Array;
  rowOf: Int32Array;
  cols: SampleColumns;
}

export function allocRecordWorkspace(capacity: number): RecordWorkspace {
  // Not filled with NaN: recordsToColumns writes every row it returns.
  return { times: new Float64Array(capacity), rowOf: new Int32Array(capacity), cols: allocColumns(capacity, false) };
}

/**
 * Decides which records to keep: each needs a timestamp that does not go back in time, and a forward
 * jump of more than a day is kept only when the records after it continue from there (a real gap),
 * otherwise dropped as a corrupt timestamp.
 */
function selectRecords(times: Float64Array, n: number, rowOf: Int32Array, warnings: WarningLog): void {
  rowOf.fill(-1, 0, n);
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

/** Rolling 12-bit distance of compressed_speed_distance, accumulated over the records as written. */
interface CompressedDistance {
  total: number;
  last12: number;
}

/**
 * Reads one parsed record into row `i` of `cols` (before plausibility limits) and returns its epoch ms.
 */
function readRecordInto(r: FitMessage, i: number, cols: SampleColumns, compressedDistance: CompressedDistance): number {
  const hr = num(r.heart_rate);
  cols.hr[i] = hr === 0 ? NaN : hr; // 0 is a strap's "no reading", not a heart rate

  const fraction = num(r.fractional_cadence);
  cols.cadence[i] = 2 * (num(r.cadence) + (Number.isNaN(fraction) ? 0 : fraction));

  let speed = num(r.enhanced_speed);
  if (Number.isNaN(speed)) speed = num(r.speed);
  let distance = num(r.distance);
  if (r.compressed_speed_distance !== undefined) {
    const compressed = compressedSpeedDistance(r.compressed_speed_distance);
    if (compressed) {
      if (Number.isNaN(speed)) speed = compressed.speed;
      const acc = compressedDistance;
      if (acc.last12 >= 0) acc.total += (compressed.distance12 - acc.last12) & 0xfff;
      acc.last12 = compressed.distance12;
      if (Number.isNaN(distance)) distance = acc.total / 16;
    }
  }
  cols.speed[i] = speed;
  cols.distance[i] = distance;

  const altitude = num(r.enhanced_altitude);
  cols.altitude[i] = Number.isNaN(altitude) ? num(r.altitude) : altitude;

  cols.temperature[i] = num(r.temperature);

  let respiration = num(r.enhanced_respiration_rate);
  if (Number.isNaN(respiration)) respiration = num(r.respiration_rate);
  cols.respiration[i] = respiration === 0 ? NaN : respiration; // 0: no reading yet (Garmin)

  cols.power[i] = num(r.power);
  return timeMs(r.timestamp);
}

/**
 * Moves the kept rows of one channel to the front (rowOf[i] is record i's row, or -1) and turns values outside
 * [min, max] into NaN. One tight loop per column rather than one loop over records and columns.
 */
function compactChannel(
  column: Float64Array,
  rowOf: Int32Array,
  allKept: boolean,
  min: number,
  max: number,
): { dropped: number; seen: boolean } {
  let dropped = 0;
  let seen = false;
  for (let i = 0; i < rowOf.length; i++) {
    const row = allKept ? i : rowOf[i]!;
    if (row < 0) continue;
    let value = column[i]!;
    if (value < min || value > max) {
      dropped++;
      value = NaN;
    } else if (value === value) {
      seen = true;
    }
    column[row] = value;
  }
  return { dropped, seen };
}

/**
 * Builds the columns from all record messages of all segments, in file order. Each parsed record is read
 * once, by literal field name, into row i of the workspace (property loads on the parser's objects are the
 * costly part, so they are not repeated); which records are kept, and the plausibility limits, are then
 * applied to the typed arrays alone, compacting kept rows in place.
 */
export function recordsToColumns(
  records: readonly FitMessage[],
  warnings: WarningLog,
  workspace: RecordWorkspace = allocRecordWorkspace(records.length),
): RecordColumns {
  const n = records.length;
  const space = workspace.times.length >= n ? workspace : allocRecordWorkspace(n);
  const { times, cols } = space;
  const compressed: CompressedDistance = { total: 0, last12: -1 };
  for (let i = 0; i < n; i++) times[i] = readRecordInto(records[i]!, i, cols, compressed);

  selectRecords(times, n, space.rowOf, warnings);
  const rowOf = space.rowOf.subarray(0, n);
  let t0 = NaN;
  let rows = 0;
  // Kept record i goes to row <= i, so compacting forward in place never overwrites an unread row.
  for (let i = 0; i < n; i++) {
    const row = rowOf[i]!;
    if (row < 0) continue;
    rows++;
    const ts = times[i]!;
    if (Number.isNaN(t0)) t0 = ts;
    cols.timestamp[row] = ts;
    cols.t[row] = (ts - t0) / 1000;
  }
  const dropped = new Int32Array(CHANNELS.length);
  const seen = new Uint8Array(CHANNELS.length);
  for (let k = 0; k < CHANNELS.length; k++) {
    const kept = compactChannel(cols[CHANNELS[k]!], rowOf, rows === n, MIN[k]!, MAX[k]!);
    dropped[k] = kept.dropped;
    seen[k] = kept.seen ? 1 : 0;
  }

  CHANNELS.forEach((channel, k) => {
    if (dropped[k]! > 0) {
      warnings.add(IMPLAUSIBLE_CODE[channel], `dropped ${channel} values outside ${MIN[k]}..${MAX[k]}`, dropped[k]);
    }
  });
  return { samples: headColumns(cols, rows), t0, rowOf, channels: CHANNELS.filter((_, k) => seen[k] === 1) };
}
