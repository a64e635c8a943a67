/**
 * `crampguard export FILE --format fit|gpx|csv|json [--out PATH]`: converts a local activity file (FIT, GPX or TCX,
 * gzipped or not) with the same
 * writers as the API's `GET /api/runs/:id/export` (src/export/run.ts): the run as FIT, GPX or CSV, or its report
 * as JSON (the engine's defaults, as `analyze` without a profile). Writes to stdout, or to `--out`. Bad input prints
 * `{"error":{"code","message"}}` on stderr and exits 1; bad usage exits 2.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeActivityFile, errorJson } from '../../ingest/activity-file.js';
import { EXPORT_FORMATS, exportProblem, exportRun, isExportFormat } from '../export/run.js';
import { parseCommand, usageError } from './args.js';

const USAGE = `usage: crampguard export FILE --format ${EXPORT_FORMATS.join('|')} [--out PATH]
  converts an activity file: the run as FIT, GPX or CSV, or its report (default profile) as JSON
  --format, -f   output format (required)
  --out, -o      write here instead of stdout
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('export', USAGE, argv, { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' } });
  if (typeof args === 'number') return args;
  const [file, ...extra] = args.positionals;
  const format = args.values.format;
  if (file === undefined) return usageError('export', 'NO_FILES', 'no file given', USAGE);
  if (extra.length > 0) return usageError('export', 'TOO_MANY_FILES', 'one file at a time', USAGE);
  if (!isExportFormat(format)) return usageError('export', 'BAD_OPTION', `--format must be one of ${EXPORT_FORMATS.join(', ')}`, USAGE);
  try {
    const decoded = await decodeActivityFile(file);
    const run = {
      name: basename(file),
      startTime: decoded.meta.startTime,
      meta: decoded.meta,
      samples: decoded.samples,
      report: format === 'json' ? analyzeRun(decoded, {}) : null,
    };
    const problem = exportProblem(run, format);
    if (problem) {
      process.stderr.write(`${JSON.stringify({ error: problem })}\n`);
      return 1;
    }
    const { body } = exportRun(run, format);
    if (args.values.out) await writeFile(args.values.out, body);
    else process.stdout.write(body);
    return 0;
  } catch (err) {
    process.stderr.write(`${JSON.stringify(errorJson(err))}\n`);
    return 1;
  }
}
