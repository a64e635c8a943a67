/**
 * The `samples` and `inspect` commands as a user runs them (the built CLI; `npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFit } from '../../ingest/fit.js';
import { CLI, FIXTURES_FIT, fixture } from './fit-files.js';

function cli(args: string[], pipeToHead = false): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      stdout += c;
      if (pipeToHead && stdout.includes('\n')) child.stdout.destroy(); // the reader goes away, like `| head -1`
    });
    child.stderr.on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const RUN = 'dtcooper__python-fitparse/garmin-fenix-5-run.fit';

describe('crampguard samples', () => {
  it('prints one object per record with the documented keys, null where missing', async () => {
    const { code, stdout, stderr } = await cli(['samples', join(FIXTURES_FIT, RUN)]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const run = await decodeFit(fixture(RUN));
    expect(lines).toHaveLength(run.samples.length);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['t', 'timestamp', 'hr', 'cadence', 'speed', 'distance', 'altitude', 'temperature', 'respiration', 'lat', 'lon']);
    }
    expect(lines[0]).toMatchObject({ t: 0, timestamp: '2017-06-11T14:34:09.000Z', hr: 61, altitude: 2.2, respiration: null });
    // Positions: the FIT semicircles as degrees, to 1e-7.
    const i = run.samples.lat.findIndex((v) => !Number.isNaN(v));
    expect(lines[i]!.lat).toBeCloseTo(run.samples.lat[i]!, 7);
    expect(lines[i]!.lon).toBeCloseTo(run.samples.lon[i]!, 7);
    const last = lines.at(-1)!;
    expect(last.cadence).toBe(176);
    expect(last.t).toBe(run.meta.elapsedS);
  });

  it('bad input: one JSON error line on stderr, nothing on stdout, exit 1, no stack trace', async () => {
    for (const [args, code] of [
      [['samples', join(FIXTURES_FIT, 'dtcooper__python-fitparse/activity-filecrc.fit')], 'FIT_CRC_MISMATCH'],
      [['samples', join(FIXTURES_FIT, '../README.md')], 'FIT_NOT_FIT'],
      [['samples', join(FIXTURES_FIT, 'no-such-file.fit')], 'FILE_UNREADABLE'],
      [['samples', FIXTURES_FIT], 'FILE_UNREADABLE'],
      [['inspect', join(FIXTURES_FIT, 'roznet__FitFileParser/2023-01-13_heartratef.fit')], 'FIT_NO_RECORDS'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(JSON.parse(r.stderr)).toMatchObject({ error: { code } });
    }
  });

  it('a reader that goes away (| head -1) ends it quietly', async () => {
    const r = await cli(['samples', join(FIXTURES_FIT, 'roznet__FitFileParser/running.fit')], true);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('no file: usage on stderr, exit 2', async () => {
    const r = await cli(['samples']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: crampguard samples/);
  });
});

describe('crampguard inspect', () => {
  it('summarises device, sport, start, duration, distance, channels, pauses and warnings', async () => {
    const r = await cli(['inspect', join(FIXTURES_FIT, 'roznet__FitFileParser/running.fit')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^device: +garmin fenix5x_plus$/m);
    expect(r.stdout).toMatch(/^sport: +running$/m);
    expect(r.stdout).toMatch(/^start: +20\d\d-\d\d-\d\dT/m);
    // Records 14:46:25 → 16:40:06 = 1:53:41; its 8 stop_all → start gaps sum to 223 s → 1:49:58 moving.
    expect(r.stdout).toMatch(/^duration: +1:53:41 elapsed, 1:49:58 moving$/m);
    expect(r.stdout).toMatch(/^distance: +18\.66 km$/m);
    expect(r.stdout).toMatch(/^channels: +hr, cadence, speed, distance, altitude, temperature; positions$/m);
    expect(r.stdout).toMatch(/pauses: 8/);
  });

  it('lists the warnings of a damaged file', async () => {
    const r = await cli(['inspect', join(FIXTURES_FIT, 'dtcooper__python-fitparse/activity-unexpected-eof.fit')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}truncated: file cut short/m);
  });
});
