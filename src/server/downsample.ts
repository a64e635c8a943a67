/**
 * Column downsampling for charts: bucket means that skip missing values, so a 6-hour run fits a 1,000-point
 * chart while gaps stay gaps (a bucket with no valid value is null).
 * @module
 */
import { SAMPLE_FIELDS, type SampleColumns, type SampleField } from '../../ingest/sample.js';
import { SAMPLES_DEFAULT_POINTS, SAMPLES_MAX_ROWS } from '../wire/schemas.js';

export function parseFields(spec: string | undefined): SampleField[] {
  if (!spec) return [...SAMPLE_FIELDS];
  const wanted = new Set(spec.split(','));
  return SAMPLE_FIELDS.filter((f) => wanted.has(f));
}

/** Columns as JSON arrays (NaN → null), at most `maxPoints` rows (bucket means; `t` is each bucket's first). */
export function columnsForChart(
  cols: SampleColumns,
  fields: readonly SampleField[],
  maxPoints: number | undefined,
): { length: number; downsampled: boolean; columns: Record<string, (number | null)[]> } {
  const n = cols.length;
  const columns: Record<string, (number | null)[]> = {};
  if (maxPoints === undefined || n <= maxPoints) {
    for (const f of fields) columns[f] = Array.from(cols[f].subarray(0, n), (v) => (Number.isNaN(v) ? null : v));
    return { length: n, downsampled: false, columns };
  }
  const buckets = maxPoints;
  for (const f of fields) {
    const src = cols[f];
    const out: (number | null)[] = new Array(buckets);
    for (let b = 0; b < buckets; b++) {
      const from = Math.floor((b * n) / buckets);
      const to = Math.floor(((b + 1) * n) / buckets);
      if (f === 't' || f === 'timestamp') {
        const v = src[from]!;
        out[b] = Number.isNaN(v) ? null : v;
        continue;
      }
      let sum = 0;
      let count = 0;
      for (let i = from; i < to; i++) {
        const v = src[i]!;
        if (!Number.isNaN(v)) {
          sum += v;
          count++;
        }
      }
      out[b] = count ? sum / count : null;
    }
    columns[f] = out;
  }
  return { length: buckets, downsampled: true, columns };
}

/** The first row with t ≥ `t` (t is non-decreasing), or `length`. */
function firstAtOrAfter(tCol: Float64Array, length: number, t: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tCol[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function rows(cols: SampleColumns, from: number, to: number): SampleColumns {
  const out = { ...cols, length: to - from };
  for (const f of SAMPLE_FIELDS) out[f] = cols[f].subarray(from, to);
  return out;
}

export interface SampleWindowQuery {
  maxPoints?: number | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit?: number | undefined;
}

/**
 * What GET /api/runs/:id/samples answers, never more than {@link SAMPLES_MAX_ROWS} rows: the rows with
 * from ≤ t < to; with `limit`, that many raw rows and the `next` page's `from`; else downsampled to `maxPoints`,
 * or, when none is named, every row of a short window and {@link SAMPLES_DEFAULT_POINTS} points of a longer one.
 */
export function sampleWindow(
  cols: SampleColumns,
  fields: readonly SampleField[],
  q: SampleWindowQuery,
): { length: number; downsampled: boolean; columns: Record<string, (number | null)[]>; next?: number | null } {
  const start = q.from === undefined ? 0 : firstAtOrAfter(cols.t, cols.length, q.from);
  const end = q.to === undefined ? cols.length : Math.max(start, firstAtOrAfter(cols.t, cols.length, q.to));
  if (q.limit !== undefined) {
    const stop = Math.min(end, start + q.limit);
    return { ...columnsForChart(rows(cols, start, stop), fields, undefined), next: stop < end ? cols.t[stop]! : null };
  }
  const window = rows(cols, start, end);
  const maxPoints = q.maxPoints ?? (window.length <= SAMPLES_MAX_ROWS ? undefined : SAMPLES_DEFAULT_POINTS);
  return columnsForChart(window, fields, maxPoints);
}
