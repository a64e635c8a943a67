/**
 * `crampguard export` (the built CLI, dist/): converts a local file with the API's writers; usage errors exit 2,
 * a run that cannot be written in the format exits 1 with a coded error on stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFitSync } from '../../ingest/fit.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'crampguard.js');
const built = existsSync(join(ROOT, 'dist', 'src', 'cli', 'export.js'));
if (!built) console.warn('[export] dist/ is not built (npx tsc -p tsconfig.build.json): the CLI export tests are skipped');
const FIXTURE = join(ROOT, 'fixtures', 'scenarios', 'pause-mid-run.fit');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'export', ...args], { encoding: 'utf8' });

describe.skipIf(!built)('crampguard export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a FIT file that decodes back to the same samples, and CSV and the report to stdout', () => {
    const out = join(dir, 'copy.fit');
    const r = cli(FIXTURE, '--format', 'fit', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const original = decodeFitSync(new Uint8Array(readFileSync(FIXTURE)));
    const copy = decodeFitSync(new Uint8Array(readFileSync(out)));
    expect(Array.from(copy.samples.hr)).toEqual(Array.from(original.samples.hr));
    expect(copy.meta.pauses).toEqual(original.meta.pauses);

    const csv = cli(FIXTURE, '-f', 'csv');
    expect(csv.status).toBe(0);
    expect(csv.stdout.trim().split('\r\n')).toHaveLength(original.samples.length + 1);
    // Any format the upload takes: a GPX export converted back to FIT keeps the samples.
    const gpxOut = join(dir, 'track.gpx');
    const real = resolve(ROOT, '../shared/realruns/aaron-schroeder__heartandsole/3981100861.fit');
    if (existsSync(real)) {
      expect(cli(real, '--format', 'gpx', '--out', gpxOut).status).toBe(0);
      const fromGpx = cli(gpxOut, '--format', 'fit', '--out', join(dir, 'track.fit'));
      expect(fromGpx.status, fromGpx.stderr).toBe(0);
      const a = decodeFitSync(new Uint8Array(readFileSync(real)));
      const b = decodeFitSync(new Uint8Array(readFileSync(join(dir, 'track.fit'))));
      expect(Array.from(b.samples.hr)).toEqual(Array.from(a.samples.hr));
    }
    const json = cli(FIXTURE, '-f', 'json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, startTime: original.meta.startTime });
  });

  it('refuses bad usage (exit 2) and a run without positions as GPX (exit 1, coded)', () => {
    expect(cli(FIXTURE, '--format', 'kml').status).toBe(2);
    expect(cli(FIXTURE).status).toBe(2);
    expect(cli('--format', 'gpx').status).toBe(2);
    expect(cli(FIXTURE, '--format', 'gpx', '--bogus').status).toBe(2);
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--format');
    const gpx = cli(join(ROOT, 'fixtures', 'scenarios', 'treadmill-no-speed.fit'), '--format', 'gpx');
    expect(gpx.status).toBe(1);
    expect(JSON.parse(gpx.stderr).error.code).toBe('EXPORT_NO_POSITIONS');
    expect(gpx.stdout).toBe('');
    const notFit = cli(join(ROOT, 'package.json'), '--format', 'fit');
    expect(notFit.status).toBe(1);
    expect(JSON.parse(notFit.stderr).error.code).toMatch(/^FIT_/);
  });
});
