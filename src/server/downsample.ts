/**
 * Column downsampling for charts: bucket means that skip missing values, so a 6-hour run fits a 1,000-point
 * chart while gaps stay gaps (a bucket with no valid value is null).
 * @module
 */
import { SAMPLE_FIELDS, type SampleColumns, type SampleField } from '../../ingest/sample.js';

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
