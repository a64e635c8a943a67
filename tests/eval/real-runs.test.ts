// The fast subset of the real-run evaluation (scripts/eval/real.mjs, docs/evaluation.md): the labelled real files
// marked "fast" in fixtures/real-labels.json are analysed by the built CLI (npm test builds first) and must meet
// the real-run rules and every coach label. The files live in ../shared; without it the suite is skipped.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = `${root}scripts/eval/real.mjs`;
const shared = fileURLToPath(new URL('../../../shared/', import.meta.url));
const haveShared = existsSync(`${shared}fit`) || existsSync(`${shared}realruns`);
if (!haveShared) console.log(`real-run evaluation skipped: ${shared} is not present (the real files live there)`);

interface Check { kind: string; min?: number; max?: number; from?: number; to?: number; minGapS?: number; maxPerHour?: number; reason?: string }
interface Label { session: string; fast?: boolean; expect: Check[] }
interface Row {
  key: string;
  status: string;
  rules: { rule: string; ok: boolean; detail: string }[];
  labels: { check: string; reason: string; ok: boolean | null; problems: string[]; seen: string[] }[];
}

const labels = JSON.parse(readFileSync(`${root}fixtures/real-labels.json`, 'utf8')) as Record<string, Label | string>;
const fast = Object.entries(labels).filter((e): e is [string, Label] => typeof e[1] === 'object' && e[1].fast === true);

describe('the evaluation itself', () => {
  // Built from reports whose answer is known, so a broken scorer fails here whatever the engine does.
  let mod: {
    ruleChecks: (r: object, o: { running: boolean; session: string | null }) => { rule: string; ok: boolean }[];
    scoreCheck: (r: object, x: Check) => { ok: boolean; problems: string[] };
    amountOf: (a: object, unit: 'ml' | 'mg') => number;
    easyFatigueCheck: (rows: { running: boolean; session: string | null; hours: number; fatigue: number }[]) => { rule: string; ok: boolean; detail: string };
  };
  beforeAll(async () => {
    mod = await import(pathToFileURL(script).href);
  });
  const hydrate = (t: number, amountMl?: number) => ({ t, kind: 'hydrate', message: 'Drink ~250 ml', ...(amountMl === undefined ? {} : { amountMl }) });
  const report = (alerts: object[], fluid = [{ t: 0, deficitMl: 0 }, { t: 3600, deficitMl: 900 }, { t: 7200, deficitMl: 1800 }]) => ({
    durationS: 7200, movingTimeS: 7200, metrics: { estSweatLossMl: 1800, estSodiumLossMg: 1000 }, alerts, fluid,
  });
  const failed = (checks: { rule: string; ok: boolean }[]) => checks.filter((c) => !c.ok).map((c) => c.rule);

  it('reads the amount from amountMl before the text', () => {
    expect(mod.amountOf(hydrate(0, 150), 'ml')).toBe(150);
    expect(mod.amountOf(hydrate(0), 'ml')).toBe(250);
    expect(mod.amountOf({ kind: 'electrolytes', message: 'Electrolytes: ~300 mg sodium', sodiumMg: 200 }, 'mg')).toBe(200);
  });

  it('flags drink advice past the engine\'s own loss estimate, and not advice within it', () => {
    expect(failed(mod.ruleChecks(report([hydrate(3600, 400), hydrate(5400, 400)]), { running: true, session: 'long' }))).toEqual([]);
    // 750 ml advised by 0:30 against ~0 ml estimated so far.
    expect(failed(mod.ruleChecks(report([hydrate(1200), hydrate(1500), hydrate(1800)]), { running: true, session: 'long' })))
      .toContain('drinks within own loss estimate');
  });

  it('flags any prompt on a non-running file and fatigue prompts on an easy run', () => {
    expect(failed(mod.ruleChecks(report([hydrate(3600, 100)]), { running: false, session: null }))).toContain('no prompt on a non-running file');
    // Fatigue prompts on easy and steady runs: 0.2/h over the set of them.
    const easy = (fatigue: number, hours = 1) => ({ running: true, session: 'easy', hours, fatigue });
    expect(mod.easyFatigueCheck([easy(1), easy(0), easy(0), easy(0), easy(0)]).ok).toBe(true);
    expect(mod.easyFatigueCheck([easy(1), easy(0)]).ok).toBe(false);
    expect(mod.easyFatigueCheck([{ ...easy(3), session: 'intervals' }, easy(0)]).ok).toBe(true);
  });

  it('scores a label like the scenario scorer: count in [from, to), min, max, gap', () => {
    const r = report([hydrate(2000), hydrate(2600), { t: 4000, kind: 'slow_down' }]);
    expect(mod.scoreCheck(r, { kind: 'hydrate', min: 2, from: 1800, to: 3600 }).ok).toBe(true);
    expect(mod.scoreCheck(r, { kind: 'hydrate', max: 0, from: 0, to: 2000 }).ok).toBe(true);
    expect(mod.scoreCheck(r, { kind: 'hydrate', max: 0, from: 0, to: 2001 }).problems).toEqual(['1 > max 0']);
    expect(mod.scoreCheck(r, { kind: 'hydrate', minGapS: 900 }).problems).toEqual(['gap 600 s < 900 s']);
    expect(mod.scoreCheck(r, { kind: '*', max: 2 }).ok).toBe(false);
  });
});

describe.skipIf(!haveShared)('real runs, fast subset (coach labels and rules)', () => {
  let rows = new Map<string, Row>();
  let setFails: string[] = [];
  beforeAll(() => {
    const out = execFileSync('node', [script, '--fast', '--json', '--report-only'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { files: Row[]; ruleFails: { key: string; rule: string; detail: string }[] };
    rows = new Map(result.files.map((r) => [r.key, r]));
    setFails = result.ruleFails.filter((f) => f.key.startsWith('(')).map((f) => `${f.rule}: ${f.detail}`);
  }, 300_000);

  // The set-wide rule (fatigue prompts on easy and steady runs ≤ 0.2/h) is judged by `npm run eval:real` over every
  // real run: the fast subset has too few easy hours for a rate (one justified drift prompt is 0.28/h here).
  it('reports the set-wide rate of fatigue prompts on easy and steady runs', () => {
    expect(setFails.every((f) => f.startsWith('fatigue prompts on easy and steady runs'))).toBe(true);
  });

  it('has a labelled subset of at least 10 files, running and not', () => {
    expect(fast.length).toBeGreaterThanOrEqual(10);
    expect(fast.some(([, l]) => l.session === 'other')).toBe(true);
  });

  for (const [key] of fast) {
    it(`${key}: analysed without a crash and within the rules`, () => {
      const row = rows.get(key);
      expect(row, `${key} was not found under ../shared`).toBeDefined();
      expect(row!.status).toBe('analysed');
      expect(row!.rules.filter((c) => !c.ok).map((c) => `${c.rule}: ${c.detail}`)).toEqual([]);
    });
    it(`${key}: meets the coach's labels`, () => {
      const row = rows.get(key);
      expect(row).toBeDefined();
      const missed = row!.labels.filter((c) => c.ok !== true).map((c) => `${c.check}: ${c.problems.join('; ')} [${c.seen.join(', ')}] — ${c.reason}`);
      expect(missed).toEqual([]);
    });
  }
});
