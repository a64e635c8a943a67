/**
 * `crampguard analyze` through the built CLI (npm test builds first): the JSON contract, decouplingPct against
 * an independent straightforward computation over the decoded samples, and coded one-line errors for bad usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, decodeFile, PROJECT_SCENARIOS, ROOT } from './helpers.js';

function analyze(...args: string[]) {
  const r = spawnSync('node', [CLI, 'analyze', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trim().split('\n').filter(Boolean) };
}

/** The definition in the issue, written out plainly: valid HR and speed > 0.5 m/s, split at the middle record. */
/**
 * Decoupling as the report defines it, computed independently: steady running only (speed ≥ 1.8 m/s with HR,
 * without the first 10 and the last 5 minutes), halves by record count, EF = mean speed ÷ mean HR.
 */
function plainDecoupling(t: Float64Array, speed: Float64Array, hr: Float64Array): number | null {
  const v: number[] = [];
  const h: number[] = [];
  const first = t[0]!;
  const last = t[t.length - 1]!;
  for (let i = 0; i < speed.length; i++) {
    if (t[i]! < first + 600 || t[i]! > last - 300) continue;
    if (Number.isFinite(hr[i]) && hr[i]! > 0 && speed[i]! >= 1.8) {
      v.push(speed[i]!);
      h.push(hr[i]!);
    }
  }
  if (v.length < 4) return null;
  const half = Math.floor(v.length / 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ef1 = mean(v.slice(0, half)) / mean(h.slice(0, half));
  const ef2 = mean(v.slice(half)) / mean(h.slice(half));
  return (100 * (ef1 - ef2)) / ef1;
}

const realRuns = [
  'fixtures/fit/dtcooper__python-fitparse/developer-types-sample.fit',
  'fixtures/fit/dtcooper__python-fitparse/garmin-fenix-5-run.fit',
  'fixtures/fit/roznet__FitFileParser/running.fit',
].map((p) => join(ROOT, p));
const scenarioRuns = ['hot-long-drift.fit', 'long-cadence-fade.fit', 'intervals-6x3.fit'].map((f) => join(PROJECT_SCENARIOS, f));

describe('crampguard analyze --json', () => {
  it('prints one object per file with the documented fields, and decouplingPct within 0.5 of the definition', () => {
    const files = [...realRuns, ...scenarioRuns];
    const r = analyze(...files, '--json');
    expect(r.status).toBe(0);
    expect(r.lines).toHaveLength(files.length);
    for (const [i, line] of r.lines.entries()) {
      const rep = JSON.parse(line);
      expect(rep.file).toBe(files[i]);
      expect(rep.ok).toBe(true);
      for (const k of ['sport', 'startTime', 'durationS', 'movingTimeS', 'distanceM', 'channels', 'warnings', 'metrics', 'alerts', 'risk']) expect(rep).toHaveProperty(k);
      for (const k of ['decouplingPct', 'efFirstHalf', 'efSecondHalf', 'hrDriftBpmPerHour', 'cadenceChangePct', 'trimp', 'estSweatLossMl', 'estSodiumLossMg']) expect(rep.metrics).toHaveProperty(k);
      for (const a of rep.alerts) {
        expect(Object.keys(a)).toEqual(expect.arrayContaining(['t', 'kind', 'cause', 'message', 'why', 'severity']));
        expect(['slow_down', 'breathe', 'hydrate', 'electrolytes', 'cramp_care']).toContain(a.kind);
      }
      for (const p of rep.risk) expect(p.score).toBeGreaterThanOrEqual(0);
      const run = decodeFile(files[i]!);
      // Null (with the reason in notes) where the run is not a steady effort; else the definition above.
      const expected = plainDecoupling(run.samples.t, run.samples.speed, run.samples.hr);
      if (expected === null || rep.metrics.decouplingPct === null) {
        expect(rep.metrics.decouplingPct).toBeNull();
        if (expected !== null) expect(rep.notes.join(' ')).toMatch(/decoupling not given/);
      } else expect(Math.abs(rep.metrics.decouplingPct - expected)).toBeLessThanOrEqual(0.5);
    }
  });

  it('a file that cannot be read gives a coded error line and exit status 1, the others still analysed', () => {
    const r = analyze(join(ROOT, 'no-such-run.fit'), scenarioRuns[0]!, '--json');
    expect(r.status).toBe(1);
    const [bad, good] = r.lines.map((l) => JSON.parse(l));
    expect(bad).toEqual({ file: join(ROOT, 'no-such-run.fit'), ok: false, error: { code: 'FILE_UNREADABLE', message: expect.any(String) } });
    expect(good.ok).toBe(true);
    const notFit = analyze(join(ROOT, 'package.json'), '--json');
    expect(notFit.status).toBe(1);
    expect(JSON.parse(notFit.lines[0]!).error.code).toMatch(/^FIT_/);
  });

  it('profile and conditions change the analysis (heat and mass raise the sweat estimate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-'));
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ massKg: 90, hrRest: 50, hrMax: 188 }));
    const cool = JSON.parse(analyze(scenarioRuns[1]!, '--json', '--temp', '5', '--humidity', '40').lines[0]!);
    const hot = JSON.parse(analyze(scenarioRuns[1]!, '--json', '--temp', '30', '--humidity', '70', '--profile', join(dir, 'p.json')).lines[0]!);
    expect(hot.metrics.estSweatLossMl).toBeGreaterThan(cool.metrics.estSweatLossMl * 1.5);
    expect(hot.assumptions).not.toContain('body mass assumed 70 kg');
  });
});

describe('crampguard analyze usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-'));
  writeFileSync(join(dir, 'broken.json'), '{ "massKg": ');
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ massKg: 'heavy' }));
  it.each([
    ['no file', [], 'NO_FILES'],
    ['bad --temp', [scenarioRuns[0]!, '--temp', 'warm'], 'BAD_OPTION'],
    ['--humidity out of range', [scenarioRuns[0]!, '--humidity', '140'], 'BAD_OPTION'],
    ['unknown option', [scenarioRuns[0]!, '--fast'], 'UNKNOWN_OPTION'],
    ['unreadable profile', [scenarioRuns[0]!, '--profile', join(dir, 'missing.json')], 'PROFILE_UNREADABLE'],
    ['profile not JSON', [scenarioRuns[0]!, '--profile', join(dir, 'broken.json')], 'PROFILE_INVALID'],
    ['profile with a wrong field', [scenarioRuns[0]!, '--profile', join(dir, 'wrong.json')], 'PROFILE_INVALID'],
  ])('%s → exit 2 and one coded line, no stack', (_name, args, code) => {
    const r = analyze(...args);
    expect(r.status).toBe(2);
    const first = r.stderr.split('\n')[0]!;
    expect(first).toMatch(new RegExp(`^crampguard analyze: ${code}: `));
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('the readable report shows summary, metrics, prompts at h:mm:ss with their why, and warnings', () => {
    writeFileSync(join(dir, 'athlete.json'), JSON.stringify({ massKg: 68, hrRest: 50, hrMax: 188, easyPaceMps: 2.8 }));
    const r = analyze(join(PROJECT_SCENARIOS, 'fast-start-easy.fit'), '--temp', '14', '--profile', join(dir, 'athlete.json'));
    expect(r.status).toBe(0);
    for (const heading of ['summary', 'metrics', 'prompts', 'detectors', 'warnings']) expect(r.stdout).toMatch(new RegExp(`^${heading}`, 'm'));
    expect(r.stdout).toMatch(/^ {2}\d:\d\d:\d\d {2}slow_down +.+\n {13}.+\./m);
  });
});
