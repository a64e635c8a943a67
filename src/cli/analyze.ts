/**
 * `crampguard analyze FILE.fit… [--json] [--profile PROFILE.json] [--temp C] [--humidity PCT] [--session KIND]`
 * Runs each file through the same engine as a live run (alerts/engine.ts `analyzeRun`) and prints a readable
 * report, or one JSON object per file per line with --json. A file that fails prints
 * `{"file","ok":false,"error":{"code","message"}}` and makes the exit status 1; bad usage exits 2 with one line.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { analyzeRun } from '../../alerts/engine.js';
import { formatDuration } from '../../alerts/journal.js';
import type { EngineOptions, Profile, Report, SessionKind } from '../../alerts/types.js';
import { decodeFitFile, errorJson } from '../../ingest/fit-file.js';
import { ProfileSchema } from '../wire/schemas.js';

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

const USAGE =
  'usage: crampguard analyze FILE.fit… [--json] [--profile PROFILE.json] [--temp C] [--humidity PCT] [--session easy|long|race|intervals]';

function parseNumber(flag: string, raw: string | undefined, lo: number, hi: number): number {
  const x = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(x) || x < lo || x > hi) {
    throw new UsageError('BAD_OPTION', `${flag} needs a number from ${lo} to ${hi}, got ${raw === undefined ? 'nothing' : `'${raw}'`}`);
  }
  return x;
}

export function parseArgs(argv: string[]): Args {
  const a: Args = { files: [], json: false, profilePath: null, tempC: undefined, humidity: undefined, session: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--json':
        a.json = true;
        break;
      case '--profile': {
        const v = value();
        if (!v) throw new UsageError('BAD_OPTION', '--profile needs a path to a JSON file');
        a.profilePath = v;
        break;
      }
      case '--temp':
        a.tempC = parseNumber('--temp', value(), -40, 55);
        break;
      case '--humidity':
        a.humidity = parseNumber('--humidity', value(), 0, 100);
        break;
      case '--session': {
        const v = value();
        if (v !== 'easy' && v !== 'long' && v !== 'race' && v !== 'intervals') {
          throw new UsageError('BAD_OPTION', `--session must be easy, long, race or intervals, got '${v ?? ''}'`);
        }
        a.session = v;
        break;
      }
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError('UNKNOWN_OPTION', `unknown option '${arg}'`);
        a.files.push(arg);
    }
  }
  if (a.files.length === 0) throw new UsageError('NO_FILES', 'no FIT file given');
  return a;
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

function progress(done: number, total: number, file: string): void {
  const width = 24;
  const filled = Math.round((width * done) / total);
  const name = file.length > 40 ? `…${file.slice(-39)}` : file;
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name.padEnd(40)}`);
  if (done === total) process.stderr.write('\n');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let args: Args;
  let profile: Profile | undefined;
  try {
    args = parseArgs(argv);
    profile = args.profilePath === null ? undefined : await loadProfile(args.profilePath);
  } catch (err) {
    const e = err instanceof UsageError ? err : new UsageError('USAGE', String(err));
    process.stderr.write(`crampguard analyze: ${e.code}: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const options: EngineOptions = {};
  if (profile) options.profile = profile;
  if (args.tempC !== undefined || args.humidity !== undefined) {
    options.conditions = {};
    if (args.tempC !== undefined) options.conditions.tempC = args.tempC;
    if (args.humidity !== undefined) options.conditions.humidity = args.humidity;
  }
  if (args.session) options.sessionKind = args.session;
  const showProgress = process.stderr.isTTY === true && args.files.length > 1;
  let status = 0;
  for (let i = 0; i < args.files.length; i++) {
    const file = args.files[i]!;
    if (showProgress) progress(i, args.files.length, file);
    try {
      const report = analyzeRun(await decodeFitFile(file), options);
      process.stdout.write(args.json ? `${reportJson(file, report)}\n` : `${renderText(file, report)}\n`);
    } catch (err) {
      status = 1;
      const { error } = errorJson(err);
      if (args.json) process.stdout.write(`${JSON.stringify({ file, ok: false, error })}\n`);
      else process.stdout.write(`${file}\n  error ${error.code}: ${error.message}\n\n`);
    }
  }
  if (showProgress) progress(args.files.length, args.files.length, '');
  return status;
}
