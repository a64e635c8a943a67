/**
 * Writes a run's samples as CSV (RFC 4180, header row): `t` (s since the first record), `time` (ISO 8601 UTC),
 * then every column the run has at least one value in, in the sample order of ingest/sample.ts (positions last as
 * `lat`, `lon`). A missing value is an empty cell; numbers are written in JavaScript's shortest exact form, so
 * reading the file back gives the stored values bit for bit.
 * @module
 */
import { SAMPLE_FIELDS, type SampleColumns } from '../../ingest/sample.js';

type Columns = SampleColumns & { lat?: Float64Array; lon?: Float64Array };

/** The value columns written after `t` and `time`: those with a value somewhere. */
export function csvFields(samples: Columns): string[] {
  const fields = [...SAMPLE_FIELDS.filter((f) => f !== 't' && f !== 'timestamp' && f !== ('lat' as string) && f !== ('lon' as string)), 'lat', 'lon'];
  return fields.filter((f) => {
    const col = (samples as unknown as Record<string, Float64Array | undefined>)[f];
    if (!col) return false;
    for (let i = 0; i < samples.length; i++) if (!Number.isNaN(col[i])) return true;
    return false;
  });
}

/** Rows written between two yields of {@link csvSteps}. */
const ROWS_PER_STEP = 5000;

export function writeCsv(samples: Columns, startMs: number): string {
  const steps = csvSteps(samples, startMs);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** The same in steps of {@link ROWS_PER_STEP} rows (the server yields to the event loop between them). */
export function* csvSteps(samples: Columns, startMs: number): Generator<void, string, void> {
  const fields = csvFields(samples);
  const cols = fields.map((f) => (samples as unknown as Record<string, Float64Array>)[f]!);
  const lines = [['t', 'time', ...fields].join(',')];
  for (let i = 0; i < samples.length; i++) {
    const ts = samples.timestamp[i]!;
    const ms = Number.isFinite(ts) ? ts : startMs + samples.t[i]! * 1000;
    const row = [String(samples.t[i]), Number.isFinite(ms) ? new Date(ms).toISOString() : ''];
    for (const col of cols) {
      const v = col[i]!;
      row.push(Number.isNaN(v) ? '' : String(v));
    }
    lines.push(row.join(','));
    if ((i + 1) % ROWS_PER_STEP === 0) yield;
  }
  lines.push('');
  return lines.join('\r\n');
}
