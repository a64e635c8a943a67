/**
 * One replay test per labelled scenario: the project's suite (fixtures/scenarios) and the shared examples
 * (../shared/scenarios, when present), each run through `analyzeRun` with its profile and conditions, every
 * label check met. Plus what must hold for any run: watch-sized messages, one-sentence whys, the global
 * one-prompt-a-minute rule and hydrate at least 10 minutes apart.
 */
import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { MAX_MESSAGE_CHARS } from '../../alerts/detector.js';
import { decodeFile, loadScenarios, PROJECT_SCENARIOS, SHARED_SCENARIOS, unmet } from './helpers.js';

const project = loadScenarios(PROJECT_SCENARIOS);
const shared = loadScenarios(SHARED_SCENARIOS);

describe.each([
  ['fixtures/scenarios', project],
  ['../shared/scenarios', shared],
])('scenarios in %s', (dir, scenarios) => {
  // The project's own suite must be here; the shared one may not be (a clone has no ../shared): then its tests
  // are reported as skipped, with the reason, rather than passed.
  if (dir === 'fixtures/scenarios') it('is here, with labelled scenarios', () => expect(scenarios.length).toBeGreaterThan(0));
  else if (scenarios.length === 0) it.skip(`skipped: ${dir} is not present here`, () => {});
  it.each(scenarios.map((s) => [s.name, s] as const))('%s: every label check is met', (_name, s) => {
    const run = decodeFile(s.file);
    const report = analyzeRun(run, { profile: s.spec.profile, conditions: s.spec.conditions });
    expect(unmet(report.alerts, report.durationS, s.spec)).toEqual([]);
    for (const a of report.alerts) {
      expect(a.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect(a.why).toMatch(/\S.*\.$/);
      expect(a.why.replace(/\d\.\d/g, '').split('. ').length).toBe(1);
      expect(a.id).toBe(`${a.cause}-${a.t}`);
    }
    for (let i = 1; i < report.alerts.length; i++) {
      const prev = report.alerts[i - 1]!;
      const cur = report.alerts[i]!;
      expect(cur.t).toBeGreaterThanOrEqual(prev.t);
      if (cur.cause !== 'cramp_reported') expect(cur.t - prev.t).toBeGreaterThanOrEqual(60);
    }
    const hydrates = report.alerts.filter((a) => a.kind === 'hydrate');
    for (let i = 1; i < hydrates.length; i++) expect(hydrates[i]!.t - hydrates[i - 1]!.t).toBeGreaterThanOrEqual(600);
  });
});
