/**
 * From per-record reads to SampleColumns: which records are kept (the time rules) and the plausibility limits,
 * one place for every file format. A reader (FIT: ingest/fit/records.ts, GPX, TCX) writes record i's epoch ms
 * into `times[i]` and its values, before any limit, into row i of `cols`; `finishColumns` then drops records,
 * compacts the kept rows in place and turns values outside ingest/plausible.ts ranges into NaN with a warning.
 * @module
 */
import { IMPLAUSIBLE_CODE, PLAUSIBLE } from './plausible.js';
import { allocColumns, CHANNELS, headColumns, POSITION_FIELDS } from './sample.js';
import type { Channel, SampleColumns } from './sample.js';
import type { WarningLog } from './fit/values.js';

/** A jump forward larger than this between consecutive records is checked as a possible bad timestamp. */
export const MAX_TIME_JUMP_MS = 24 * 3600 * 1000;

/**
 * How many records after a jump are searched for the clock coming back. A glitch (a record or a few stamped
 * years ahead) is followed at once by records that continue from before it; a real gap is never undone.
 */
const JUMP_LOOKAHEAD = 600;

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
  // Not filled with NaN: a reader writes every field of every row it reads.
  return { times: new Float64Array(capacity), rowOf: new Int32Array(capacity), cols: allocColumns(capacity, false) };
}

/** The first record after `from` whose time is within a day after `last` (the clock came back), or -1. */
function clockComesBack(times: Float64Array, from: number, n: number, last: number): number {
  const end = Math.min(n, from + 1 + JUMP_LOOKAHEAD);
  for (let j = from + 1; j < end; j++) {
    const ts = times[j]!;
    if (ts >= last && ts - last <= MAX_TIME_JUMP_MS) return j;
  }
  return -1;
}

/**
 * Decides which records to keep: each needs a timestamp that does not go back in time. A forward jump of more
 * than a day is a corrupt timestamp when the clock comes back within the next records (dropped, with every
 * record stamped in the jumped-to time before it does), otherwise a real gap (kept).
 */
function selectRecords(times: Float64Array, n: number, rowOf: Int32Array, warnings: WarningLog): void {
  rowOf.fill(-1, 0, n);
  let last = NaN;
  let rows = 0;
  let missing = 0;
  let backwards = 0;
  let glitched = 0;
  let glitchHours = '';
  /** Where the clock came back after the glitch being dropped (-1: none known for the current `last`). */
  let comesBackAt = -1;
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
        if (comesBackAt <= i) comesBackAt = clockComesBack(times, i, n, last);
        if (comesBackAt > i) {
          if (glitched === 0) glitchHours = ((ts - last) / 3_600_000).toFixed(1);
          glitched++;
          continue;
        }
        warnings.add('time_jump', `kept a ${((ts - last) / 3_600_000).toFixed(1)} h gap between records`);
      }
    }
    rowOf[i] = rows++;
    last = ts;
    comesBackAt = -1;
  }
  if (glitched > 0) {
    warnings.add('time_jump', `dropped records whose timestamp jumped ${glitchHours} h ahead and came back`, glitched);
  }
  if (missing > 0) warnings.add('no_timestamp', 'dropped records without a timestamp', missing);
  if (backwards > 0) warnings.add('time_backwards', 'dropped records whose timestamp went back in time', backwards);
}

/** Plausible range per channel, indexed like CHANNELS, read without allocating in the record loop. */
const MIN = Float64Array.from(CHANNELS, (c) => PLAUSIBLE[c][0]);
const MAX = Float64Array.from(CHANNELS, (c) => PLAUSIBLE[c][1]);

/**
 * Moves the kept rows of one column to the front (rowOf[i] is record i's row, or -1) and turns values outside
 * [min, max] into NaN. One tight loop per column rather than one loop over records and columns.
 */
function compactColumn(
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
 * Applies the time rules and limits to the first `n` records of `space` (see the module comment). Positions
 * are moved with their rows; their validity is the reader's to check (ingest/sample.ts `isPosition`).
 */
export function finishColumns(space: RecordWorkspace, n: number, warnings: WarningLog): RecordColumns {
  const { times, cols } = space;
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
    const kept = compactColumn(cols[CHANNELS[k]!], rowOf, rows === n, MIN[k]!, MAX[k]!);
    dropped[k] = kept.dropped;
    seen[k] = kept.seen ? 1 : 0;
  }
  for (const f of POSITION_FIELDS) compactColumn(cols[f], rowOf, rows === n, -Infinity, Infinity);

  CHANNELS.forEach((channel, k) => {
    if (dropped[k]! > 0) {
      warnings.add(IMPLAUSIBLE_CODE[channel], `dropped ${channel} values outside ${MIN[k]}..${MAX[k]}`, dropped[k]);
    }
  });
  return { samples: headColumns(cols, rows), t0, rowOf, channels: CHANNELS.filter((_, k) => seen[k] === 1) };
}
