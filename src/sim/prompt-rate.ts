/**
 * Prompts per hour on real runs: the nagging check that labelled scenarios cannot give. Runs
 * `crampguard analyze FILE --json` (the same path the scenario scorer uses) on every .fit file under the
 * given folders, keeps the running activities, and prints each file's prompts by kind and per hour, then
 * the total. An easy run should get few or none.
 *
 * Usage (after `npm run build`): `node dist/src/sim/prompt-rate.js DIR_OR_FILE... [--json]`
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ALERT_KINDS, type AlertKind } from '../../alerts/types.js';

/** bin/crampguard.js of this checkout: found upwards, since this module runs both from src/ and dist/src/. */
function findBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'bin', 'crampguard.js');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('prompt-rate: bin/crampguard.js not found above this module');
    dir = parent;
  }
}
const BIN = findBin();
/** Shorter runs are listed but left out of the rates: one prompt in 3 min would read as 20/h. */
const MIN_MINUTES = 10;

export interface FileRate {
  file: string;
  sport: string | null;
  hours: number;
  byKind: Record<AlertKind, number>;
  perHour: number;
  error?: string;
}

function fitFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.toLowerCase().endsWith('.fit') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => fitFiles(join(path, name)));
}

function emptyCounts(): Record<AlertKind, number> {
  return Object.fromEntries(ALERT_KINDS.map((k) => [k, 0])) as Record<AlertKind, number>;
}

export function promptRate(file: string): FileRate {
  const byKind = emptyCounts();
  try {
    const out = execFileSync('node', [BIN, 'analyze', file, '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      sport?: string | null;
      durationS?: number;
      alerts?: { kind: AlertKind }[];
    };
    for (const a of report.alerts ?? []) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    const hours = (report.durationS ?? 0) / 3600;
    const total = Object.values(byKind).reduce((s, n) => s + n, 0);
    return { file, sport: report.sport ?? null, hours, byKind, perHour: hours > 0 ? total / hours : 0 };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message?: string };
    const line = String(err.stdout || err.stderr || err.message).trim().split('\n').at(-1) ?? 'failed';
    let reason = line;
    try {
      const parsed = JSON.parse(line) as { error?: { code?: string; message?: string } };
      if (parsed.error) reason = `${parsed.error.code ?? 'ERROR'}: ${parsed.error.message ?? ''}`;
    } catch {
      // not JSON: keep the line as it is
    }
    return { file, sport: null, hours: 0, byKind, perHour: 0, error: reason.slice(0, 160) };
  }
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const paths = argv.filter((a) => !a.startsWith('--'));
  if (paths.length === 0) {
    process.stderr.write('usage: prompt-rate DIR_OR_FILE... [--json]\n');
    return 2;
  }
  const rates = paths.flatMap((p) => fitFiles(resolve(p))).map(promptRate);
  const running = rates.filter((r) => !r.error && r.sport === 'running' && r.hours * 60 >= MIN_MINUTES);
  if (json) {
    process.stdout.write(`${JSON.stringify(rates)}\n`);
    return 0;
  }
  const cwd = process.cwd();
  for (const r of rates) {
    const name = relative(cwd, r.file);
    if (r.error) process.stdout.write(`${name}: analyze failed: ${r.error}\n`);
    else if (r.sport !== 'running') process.stdout.write(`${name}: skipped (${r.sport ?? 'unknown sport'})\n`);
    else if (r.hours * 60 < MIN_MINUTES) process.stdout.write(`${name}: skipped (${(r.hours * 60).toFixed(1)} min run)\n`);
    else {
      const kinds = ALERT_KINDS.filter((k) => r.byKind[k] > 0).map((k) => `${k} ${r.byKind[k]}`).join(', ') || 'none';
      process.stdout.write(`${name}: ${(r.hours * 60).toFixed(0)} min, ${r.perHour.toFixed(1)} prompts/h (${kinds})\n`);
    }
  }
  const hours = running.reduce((s, r) => s + r.hours, 0);
  const prompts = running.reduce((s, r) => s + Object.values(r.byKind).reduce((a, b) => a + b, 0), 0);
  const worst = running.reduce((m, r) => Math.max(m, r.perHour), 0);
  process.stdout.write(
    `running files: ${running.length}, ${hours.toFixed(1)} h, ${prompts} prompts, ${hours > 0 ? (prompts / hours).toFixed(2) : '0'} prompts/h overall, worst file ${worst.toFixed(1)}/h\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`prompt-rate: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
