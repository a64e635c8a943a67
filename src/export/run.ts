/**
 * A stored or decoded run in the export formats: FIT (src/export/fit.ts), GPX (gpx.ts), CSV (csv.ts) and the
 * report as JSON. One entry point for the API (`GET /api/runs/:id/export?format=`) and the CLI
 * (`crampguard export FILE --format`), so both write the same bytes for the same run.
 * @module
 */
import type { Report } from '../../alerts/types.js';
import type { RunMeta, SampleColumns } from '../../ingest/sample.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { csvSteps } from './csv.js';
import { fitActivitySteps, fitManufacturer, fitSport, fitSubSport, type FitChannel } from './fit.js';
import { gpxSteps, hasTrack } from './gpx.js';

export const EXPORT_FORMATS = ['fit', 'gpx', 'csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const isExportFormat = (v: unknown): v is ExportFormat => typeof v === 'string' && (EXPORT_FORMATS as readonly string[]).includes(v);

export interface ExportableRun {
  name: string | null;
  startTime: string | null;
  meta: RunMeta | null;
  samples: SampleColumns & { lat?: Float64Array; lon?: Float64Array };
  report: Report | null;
}

export interface ExportedFile {
  body: Uint8Array | string;
  contentType: string;
  extension: ExportFormat;
}

/** Why a run cannot be written in a format (a stable code and one line), or null when it can. */
export function exportProblem(run: ExportableRun, format: ExportFormat): { code: string; message: string } | null {
  if (format === 'gpx' && !hasTrack(run.samples)) {
    return { code: 'EXPORT_NO_POSITIONS', message: 'this run has no positions (no GPS track): GPX needs them; try fit or csv' };
  }
  if (format === 'json' && !run.report) return { code: 'EXPORT_NO_REPORT', message: 'this run has no report yet (still live)' };
  return null;
}

/** FIT's epoch (1989-12-31): the start written for a run that knows none. */
const FIT_EPOCH_MS = Date.UTC(1989, 11, 31);

/** Unix ms of the run's `t = 0`: its stored start, else its first sample's timestamp. */
export function startMsOf(run: ExportableRun): number {
  const stored = Date.parse(run.meta?.startTime ?? run.startTime ?? run.report?.startTime ?? '');
  if (Number.isFinite(stored)) return stored;
  const s = run.samples;
  for (let i = 0; i < s.length; i++) if (Number.isFinite(s.timestamp[i])) return s.timestamp[i]! - s.t[i]! * 1000;
  return FIT_EPOCH_MS;
}

/** Unix ms of `t = 0` from the samples' own timestamps (a file's first record may come after its start). */
function recordBaseMs(run: ExportableRun): number | undefined {
  const s = run.samples;
  for (let i = 0; i < s.length; i++) if (Number.isFinite(s.timestamp[i])) return s.timestamp[i]! - s.t[i]! * 1000;
  return undefined;
}

const CHANNEL_COLUMNS = ['hr', 'cadence', 'speed', 'distance', 'altitude', 'temperature', 'respiration', 'power'] as const;

function channelsOf(samples: ExportableRun['samples']): FitChannel[] {
  const has = (col: Float64Array | undefined) => {
    if (!col) return false;
    for (let i = 0; i < samples.length; i++) if (!Number.isNaN(col[i])) return true;
    return false;
  };
  const out: FitChannel[] = CHANNEL_COLUMNS.filter((c) => has(samples[c]));
  if (hasTrack(samples)) out.push('position');
  return out;
}

/** Writes the file at once (the CLI, tests). */
export function exportRun(run: ExportableRun, format: ExportFormat): ExportedFile {
  const steps = exportSteps(run, format);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * Writes the file in steps, giving the event loop a turn between them (the server: a 24-hour run's FIT takes
 * ~1.4 s to encode, which must not hold live prompts); the same bytes as {@link exportRun}.
 */
export async function exportRunAsync(run: ExportableRun, format: ExportFormat): Promise<ExportedFile> {
  const steps = exportSteps(run, format);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    await nextTurn();
  }
}

function* exportSteps(run: ExportableRun, format: ExportFormat): Generator<void, ExportedFile, void> {
  const problem = exportProblem(run, format);
  if (problem) throw Object.assign(new Error(problem.message), { code: problem.code });
  const startMs = startMsOf(run);
  const s = run.samples;
  switch (format) {
    case 'json':
      return { body: `${JSON.stringify(run.report)}\n`, contentType: 'application/json', extension: 'json' };
    case 'csv':
      return { body: yield* csvSteps(s, startMs), contentType: 'text/csv; charset=utf-8', extension: 'csv' };
    case 'gpx':
      return {
        body: yield* gpxSteps({ name: run.name, sport: run.meta?.sport ?? run.report?.sport ?? null, startMs, samples: s }),
        contentType: 'application/gpx+xml',
        extension: 'gpx',
      };
    case 'fit': {
      const lastT = s.length > 0 ? s.t[s.length - 1]! : 0;
      const elapsedS = Math.max(run.meta?.elapsedS ?? 0, Math.ceil(lastT) + 1);
      const paused = (run.meta?.pauses ?? []).reduce((sum, p) => sum + Math.max(0, p.endT - p.startT), 0);
      const timerS = run.meta && run.meta.timerS > 0 ? run.meta.timerS : Math.max(0, elapsedS - paused);
      const sport = run.meta?.sport ?? run.report?.sport ?? null;
      return {
        body: yield* fitActivitySteps({
          startMs,
          ...(recordBaseMs(run) !== undefined ? { recordBaseMs: Math.max(startMs, recordBaseMs(run)!) } : {}),
          sport: fitSport(sport),
          subSport: fitSubSport(run.meta?.subSport ?? null),
          sportName: (sport ?? 'Run').replace(/_/g, ' '),
          manufacturer: fitManufacturer(run.meta?.manufacturer ?? null),
          product: NaN,
          samples: s,
          channels: channelsOf(s),
          laps: run.meta?.laps ?? [],
          pauses: run.meta?.pauses ?? [],
          elapsedS,
          timerS,
        }),
        contentType: 'application/vnd.ant.fit',
        extension: 'fit',
      };
    }
  }
}

/** A file name for the download: the run's name or start date, with the format's extension. */
export function exportFileName(run: ExportableRun, format: ExportFormat): string {
  const base = (run.name ?? '').replace(/\.(fit|gpx|tcx|csv|json)(\.gz)?$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  const date = new Date(startMsOf(run)).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return `${base || `run-${date}`}${format === 'json' ? '.report' : ''}.${format}`;
}
