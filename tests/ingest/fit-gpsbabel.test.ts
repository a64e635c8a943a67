/**
 * `crampguard samples` against an independent decoder: gpsbabel (C++, Debian) on every real FIT file.
 * On every timestamp both report, HR, cadence (ours ÷ 2: gpsbabel prints FIT's strides/min of one leg)
 * and temperature must agree on at least 99.5 % of them; or the CLI exits 1 with a coded error.
 * gpsbabel only prints records with a GPS position; a file it cannot read is compared on nothing.
 * Runs the built CLI (`npm test` builds first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { CLI, EXPECTED_ERRORS, FIXTURES_FIT, fixtureFiles, SHARED_FIT, sharedFiles, sharedPresent } from './fit-files.js';

const gpsbabel = spawnSync('gpsbabel', ['-V'], { encoding: 'utf8' });
const haveGpsbabel = gpsbabel.status === 0;
if (!haveGpsbabel) console.log('[fit-gpsbabel] gpsbabel is not installed: skipping the independent-decoder comparison');
const built = existsSync(join(CLI, '../../dist/src/cli/main.js'));
const tmp = mkdtempSync(join(tmpdir(), 'fit-gpsbabel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => errors.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(chunks).toString('utf8'), stderr: Buffer.concat(errors).toString('utf8') }),
    );
  });
}

interface Row {
  hr: number | null;
  cadence: number | null;
  temperature: number | null;
}

/** gpsbabel's unicsv rows keyed `ISO#k` (k-th record with that timestamp), null where a cell is empty. */
function gpsbabelRows(csv: string): { rows: Map<string, Row>; columns: Set<string> } {
  const [head, ...lines] = csv.trim().split(/\r?\n/);
  const cols = (head ?? '').split(',');
  const at = (name: string) => cols.indexOf(name);
  const rows = new Map<string, Row>();
  const cell = (cells: string[], name: string): number | null => {
    const v = cells[at(name)];
    return at(name) < 0 || v === undefined || v === '' ? null : Number(v);
  };
  for (const line of lines) {
    const c = line.split(',');
    const iso = new Date(`${c[at('Date')]?.replaceAll('/', '-')}T${c[at('Time')]}Z`);
    if (Number.isNaN(iso.getTime())) continue;
    let k = 0;
    while (rows.has(`${iso.toISOString()}#${k}`)) k++;
    rows.set(`${iso.toISOString()}#${k}`, { hr: cell(c, 'Heartrate'), cadence: cell(c, 'Cadence'), temperature: cell(c, 'Temperature') });
  }
  return { rows, columns: new Set(cols) };
}

async function compare(path: string, name: string, expect: ExpectStatic): Promise<void> {
  const ours = await run(process.execPath, [CLI, 'samples', path]);
  if (ours.code !== 0) {
    expect(ours.code).toBe(1);
    const error = JSON.parse(ours.stderr) as { error: { code: string; message: string } };
    expect(error.error.code).toBe(EXPECTED_ERRORS[name]);
    return;
  }
  expect(EXPECTED_ERRORS[name]).toBeUndefined();
  const out = join(tmp, `${name.replace('/', '_')}.csv`);
  const theirs = await run('gpsbabel', ['-t', '-i', 'garmin_fit', '-f', path, '-o', 'unicsv,utc=0', '-F', out]);
  if (theirs.code !== 0 || !existsSync(out)) return; // gpsbabel refuses it (CRC, truncation): nothing to compare
  const { rows, columns } = gpsbabelRows(readFileSync(out, 'utf8'));
  const seen = new Map<string, number>();
  let both = 0;
  let agree = 0;
  const close = (a: number | null, b: number | null, tol: number) => (a === null && b === null) || (a !== null && b !== null && Math.abs(a - b) < tol);
  for (const line of ours.stdout.split('\n')) {
    if (line === '') continue;
    const s = JSON.parse(line) as { timestamp: string; hr: number | null; cadence: number | null; temperature: number | null };
    const k = seen.get(s.timestamp) ?? 0;
    seen.set(s.timestamp, k + 1);
    const g = rows.get(`${s.timestamp}#${k}`);
    if (!g) continue;
    both++;
    // gpsbabel leaves 0 cadence and 0 HR empty; a column it does not print is not compared.
    const oursCadence = s.cadence === null || s.cadence === 0 ? null : s.cadence / 2;
    const ok =
      (!columns.has('Heartrate') || close(s.hr, g.hr === 0 ? null : g.hr, 1)) &&
      (!columns.has('Cadence') || close(oursCadence, g.cadence === 0 ? null : g.cadence, 1)) &&
      (!columns.has('Temperature') || close(s.temperature, g.temperature, 0.5));
    if (ok) agree++;
  }
  if (both > 0) expect(agree / both, `${name}: ${agree}/${both} timestamps agree`).toBeGreaterThanOrEqual(0.995);
}

describe.runIf(haveGpsbabel)('crampguard samples agrees with gpsbabel', () => {
  it('the CLI is built', () => {
    expect(built, 'run `npx tsc -p tsconfig.build.json` (npm test does)').toBe(true);
  });

  // The fixture copies are byte-identical to their ../shared/fit originals: compared once, from there
  // when present (spawning the CLI per file is the slow part).
  const files = sharedPresent
    ? sharedFiles.map((n) => ({ name: n, path: join(SHARED_FIT, n) }))
    : fixtureFiles.map((n) => ({ name: n, path: join(FIXTURES_FIT, n) }));
  it.concurrent.for(files.map((f) => [f.path.includes('/fixtures/') ? `fixtures/fit/${f.name}` : `../shared/fit/${f.name}`, f] as const))(
    '%s',
    { timeout: 120_000 },
    async ([, f], { expect }) => {
      await compare(f.path, f.name, expect);
    },
  );
});
