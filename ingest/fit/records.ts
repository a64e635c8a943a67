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
import { allocRecordWorkspace, finishColumns } from '../columns.js';
import type { RecordColumns, RecordWorkspace } from '../columns.js';
import { isPosition } from '../sample.js';
import type { SampleColumns } from '../sample.js';
import { num, timeMs } from './values.js';
import type { FitMessage, WarningLog } from './values.js';

export { allocRecordWorkspace, MAX_TIME_JUMP_MS } from '../columns.js';
export type { RecordColumns, RecordWorkspace } from '../columns.js';

/** Decodes FIT's compressed_speed_distance (byte[3]): 12-bit speed (1/100 m/s), 12-bit rolling distance (1/16 m). */
function compressedSpeedDistance(v: unknown): { speed: number; distance12: number } | null {
  if (!Array.isArray(v) || v.length !== 3) return null;
  const [b0, b1, b2] = v as unknown[];
  if (typeof b0 !== 'number' || typeof b1 !== 'number' || typeof b2 !== 'number') return null;
  return { speed: (b0 | ((b1 & 0x0f) << 8)) / 100, distance12: (b1 >>> 4) | (b2 << 4) };
}

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

  const lat = num(r.position_lat); // fit-file-parser gives degrees (from semicircles)
  const lon = num(r.position_long);
  const fix = isPosition(lat, lon);
  cols.lat[i] = fix ? lat : NaN;
  cols.lon[i] = fix ? lon : NaN;
  return timeMs(r.timestamp);
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

  return finishColumns(space, n, warnings);
}
