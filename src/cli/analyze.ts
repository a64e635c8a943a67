/**
 * `crampguard analyze FILE… [--json] [--profile PROFILE.json] [--temp C] [--humidity PCT] [--session KIND]`
 * Runs each activity file (FIT, GPX, TCX, gzipped or not; `-` reads stdin) through the same engine as a live run
 * (alerts/engine.ts `analyzeRun`) and prints a readable report, or one JSON object per file per line with --json.
 * A file that fails makes the exit status 1: with --json its line is `{"file","ok":false,"error":{"code","message"}}`
 * on stdout (the results are data), and without, `FILE: error CODE: message` on stderr. Bad usage exits 2 with one
 * line and the usage on stderr. With several files and a terminal on stderr, a progress line is drawn there and
 * cleared before each result is written, so the two never share a line.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { analyzeRun } from '../../alerts/engine.js';
import { formatDuration } from '../../alerts/journal.js';
import type { EngineOptions, Profile, Report, SessionKind } from '../../alerts/types.js';
import { decodeActivityFile, errorJson } from '../../ingest/activity-file.js';
import { numberOption, parseCommand, usageError } from './args.js';

class UsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Args {
  files: string[];
  json: boolean;
  profilePath: string | null;
  tempC: number | undefined;
  humidity: number | undefined;
  session: SessionKind | undefined;
}

const USAGE = `usage: crampguard analyze FILE… [--json] [--profile PROFILE.json] [--temp C] [--humidity PCT] [--session KIND]
  FILE             FIT, GPX or TCX, gzipped or not; - reads stdin
  --json           one JSON object per file per line (the Report, docs/cli.md)
  --profile P      the athlete's profile as a JSON file (format: docs/cli.md)
  --temp C         air temperature, °C (-40 to 55; a negative value as --temp=-5)
  --humidity PCT   relative humidity, % (0 to 100)
  --session KIND   easy | long | race | intervals
`;

const OPTIONS = {
  json: { type: 'boolean' },
  profile: { type: 'string' },
  temp: { type: 'string' },
  humidity: { type: 'string' },
  session: { type: 'string' },
} as const;

/** The arguments, or an exit status (0 after --help, 2 after a usage error: message and usage on stderr). */
function readArgs(argv: string[]): Args | number {
  const parsed = parseCommand('analyze', USAGE, argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  const tempC = numberOption('--temp', v.temp, -40, 55);
  if (typeof tempC === 'object') return usageError('analyze', 'BAD_OPTION', tempC.error, USAGE);
  const humidity = numberOption('--humidity', v.humidity, 0, 100);
  if (typeof humidity === 'object') return usageError('analyze', 'BAD_OPTION', humidity.error, USAGE);
  const session = v.session;
  if (session !== undefined && session !== 'easy' && session !== 'long' && session !== 'race' && session !== 'intervals') {
    return usageError('analyze', 'BAD_OPTION', `--session must be easy, long, race or intervals, got '${session}'`, USAGE);
  }
  if (parsed.positionals.length === 0) return usageError('analyze', 'NO_FILES', 'no file given', USAGE);
  if (v.profile === '') return usageError('analyze', 'BAD_OPTION', '--profile needs a path to a JSON file', USAGE);
  return { files: parsed.positionals, json: v.json ?? false, profilePath: v.profile ?? null, tempC, humidity, session };
}

export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError('PROFILE_UNREADABLE', `cannot read profile ${path}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError('PROFILE_INVALID', `profile ${path} is not valid JSON`);
  }
  // Loaded only with --profile: zod and the wire schemas are ~50 ms of a fresh process's start.
  const { ProfileSchema } = await import('../wire/schemas.js');
  const parsed = ProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError('PROFILE_INVALID', `profile ${path}: ${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data as Profile;
}

function hms(s: number): string {
  const t = Math.max(0, Math.round(s));
  return `${Math.floor(t / 3600)}:${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

function num(x: number | null | undefined, digits = 1, unit = ''): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(digits)}${unit}`;
}

export function renderText(file: string, r: Report): string {
  const m = r.metrics;
  const out: string[] = [];
  const dist = r.distanceM === null ? '' : `, ${(r.distanceM / 1000).toFixed(2)} km`;
  out.push(`${file}`);
  out.push(`  ${r.sport ?? 'unknown sport'}${r.startTime ? `, started ${r.startTime}` : ''}, ${hms(r.durationS)} (moving ${hms(r.movingTimeS)})${dist}`);
  out.push(`  channels: ${r.channels.join(', ') || 'none'}`);
  out.push('summary');
  const peak = r.risk.reduce<{ t: number; score: number; factors: string[] } | null>((best, p) => (best === null || p.score > best.score ? p : best), null);
  out.push(
    `  ${r.alerts.length} prompt(s); ${peak ? `risk peaked at ${peak.score}/100 at ${hms(peak.t)}${peak.factors.length ? ` (${peak.factors.join(', ')})` : ''}` : 'no risk points'}`,
  );
  if (typeof r.personal === 'string') out.push(`  ${r.personal}`);
  out.push('metrics');
  out.push(`  aerobic decoupling ${num(m.decouplingPct, 1, ' %')} (EF ${num(m.efFirstHalf, 4)} → ${num(m.efSecondHalf, 4)} m/s per bpm); live max ${num(m.liveMaxDecouplingPct, 1, ' %')}`);
  out.push(`  HR drift ${num(m.hrDriftBpmPerHour, 1, ' bpm/h')}; cadence change ${num(m.cadenceChangePct, 1, ' %')}; TRIMP ${num(m.trimp, 0)}; time above threshold ${num(m.timeAboveThresholdMin, 0, ' min')}`);
  out.push(`  est. sweat loss ${num(m.estSweatLossMl, 0, ' ml')}; est. sodium loss ${num(m.estSodiumLossMg, 0, ' mg')}`);
  out.push(r.alerts.length ? 'prompts' : 'prompts: none');
  for (const a of r.alerts) out.push(`  ${hms(a.t)}  ${a.kind.padEnd(12)} ${a.message}\n             ${a.why}`);
  const detectors = (r.detectors as { id: string; on: boolean; note: string }[] | undefined) ?? [];
  out.push('detectors');
  for (const d of detectors) out.push(`  ${d.on ? 'on ' : 'off'} ${d.id}: ${d.note}`);
  const assumptions = (r.assumptions as string[] | undefined) ?? [];
  if (assumptions.length) out.push(`assumptions: ${assumptions.join('; ')}`);
  out.push(r.warnings.length ? 'warnings' : 'warnings: none');
  for (const w of r.warnings) out.push(`  ${w.code}${w.count !== undefined && w.count > 1 ? ` ×${w.count}` : ''}: ${w.message}`);
  return `${out.join('\n')}\n`;
}

/** The JSON line of one file: the documented fields first, then the extras. */
export function reportJson(file: string, r: Report): string {
  const { ok, sport, startTime, durationS, movingTimeS, distanceM, channels, warnings, metrics, alerts, risk, ...rest } = r;
  return JSON.stringify({
    file,
    ok,
    sport,
    startTime,
    durationS,
    movingTimeS,
    distanceM,
    channels,
    warnings,
    metrics,
    alerts: alerts.map(({ id, t, kind, cause, message, why, severity }) => ({ t, kind, cause, message, why, severity, id })),
    risk: risk.map((p) => ({ t: p.t, score: p.score, factors: p.factors })),
    ...rest,
  });
}

/** The progress line on stderr: drawn with \r, erased (\r, erase line) before anything else is written. */
function drawProgress(done: number, total: number, file: string): void {
  const width = 24;
  const filled = Math.round((width * done) / total);
  const name = file.length > 40 ? `…${file.slice(-39)}` : file;
  process.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name}`);
}

function clearProgress(): void {
  process.stderr.write('\r\x1b[2K');
}

export async function run(argv: string[]): Promise<number> {
  const args = readArgs(argv);
  if (typeof args === 'number') return args;
  let profile: Profile | undefined;
  try {
    profile = args.profilePath === null ? undefined : await loadProfile(args.profilePath);
  } catch (err) {
    const e = err instanceof UsageError ? err : new UsageError('USAGE', String(err));
    return usageError('analyze', e.code, e.message, USAGE);
  }
  const options: EngineOptions = {};
  if (profile) options.profile = profile;
  if (args.tempC !== undefined || args.humidity !== undefined) {
    options.conditions = {};
    if (args.tempC !== undefined) options.conditions.tempC = args.tempC;
    if (args.humidity !== undefined) options.conditions.humidity = args.humidity;
  }
  if (args.session) options.sessionKind = args.session;
  // CRAMPGUARD_PROGRESS=1 draws it without a terminal too (tests; a log that keeps \r).
  const showProgress = (process.stderr.isTTY === true || process.env.CRAMPGUARD_PROGRESS === '1') && args.files.length > 1;
  let status = 0;
  for (let i = 0; i < args.files.length; i++) {
    const file = args.files[i]!;
    if (showProgress) drawProgress(i, args.files.length, file);
    let line: string;
    let failure: string | null = null;
    try {
      const report = analyzeRun(await decodeActivityFile(file), options);
      line = args.json ? `${reportJson(file, report)}\n` : `${renderText(file, report)}\n`;
    } catch (err) {
      status = 1;
      const { error } = errorJson(err);
      line = args.json ? `${JSON.stringify({ file, ok: false, error })}\n` : '';
      failure = `${file}: error ${error.code}: ${error.message}\n`;
    }
    if (showProgress) clearProgress();
    if (failure !== null) process.stderr.write(failure);
    if (line !== '') process.stdout.write(line);
    if (status !== 0) process.exitCode = status; // what a closed pipe (`| head`) ends the process with
  }
  if (showProgress) clearProgress();
  return status;
}
