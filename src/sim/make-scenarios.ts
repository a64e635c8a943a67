/**
 * Generates the labelled scenario suite: one FIT file per scenario in scenarios.ts and expectations.json
 * (the label format of ../shared/scenarios/README.md, plus each scenario's `summary` and `why`, which the
 * scorer ignores).
 *
 * Usage (after `npm run build`): `node dist/src/sim/make-scenarios.js [DIR]` writes to DIR (default
 * fixtures/scenarios under the working directory); `--markdown` prints the scenario table for
 * fixtures/README.md instead; `--reseed=N` adds N to every seed (a held-out copy with other noise: write it
 * outside fixtures/). `npm run scenarios` does both build and generation.
 * @module
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { simulate } from './simulate.js';
import { writeFit } from './write-fit.js';

export interface Suite {
  /** File name (`<name>.fit`) → bytes. */
  files: Map<string, Uint8Array>;
  /** The text of expectations.json. */
  expectationsJson: string;
}

/**
 * Builds the suite. `seedOffset` shifts every seed: the same runs with other noise, a held-out copy to
 * check that an engine meets the labels for the physiology and not for one noise realisation.
 */
export function buildSuite(scenarios: readonly Scenario[] = SCENARIOS, seedOffset = 0): Suite {
  const files = new Map<string, Uint8Array>();
  const labels: Record<string, unknown> = {};
  for (const s of scenarios) {
    if (files.has(`${s.name}.fit`)) throw new Error(`make-scenarios: duplicate scenario name '${s.name}'`);
    files.set(`${s.name}.fit`, writeFit(simulate({ ...s.sim, seed: s.sim.seed + seedOffset })));
    labels[s.name] = { summary: s.summary, why: s.why, profile: s.profile, conditions: s.conditions, expect: s.expect };
  }
  return { files, expectationsJson: `${JSON.stringify(labels, null, 2)}\n` };
}

export function writeSuite(dir: string, suite: Suite = buildSuite()): void {
  mkdirSync(dir, { recursive: true });
  // A scenario removed from the source must not linger as a file.
  for (const name of readdirSync(dir)) if (name.endsWith('.fit') && !suite.files.has(name)) rmSync(join(dir, name));
  for (const [name, bytes] of suite.files) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'expectations.json'), suite.expectationsJson);
}

function fmtWindow(from: number | undefined, to: number | undefined): string {
  if (from === undefined && to === undefined) return '';
  const m = (s: number) => (s % 60 === 0 ? `${s / 60}′` : `${Math.floor(s / 60)}′${String(s % 60).padStart(2, '0')}″`);
  return ` ${m(from ?? 0)}–${to === undefined ? 'end' : m(to)}`;
}

/** The scenario table for fixtures/README.md. */
export function scenarioTable(scenarios: readonly Scenario[] = SCENARIOS): string {
  const rows = scenarios.map((s) => {
    const checks = s.expect
      .map((x) => {
        const parts = [
          x.min !== undefined ? `≥${x.min}` : '',
          x.max !== undefined ? `≤${x.max}` : '',
          x.minGapS !== undefined ? `gap ≥${x.minGapS} s` : '',
          x.maxPerHour !== undefined ? `≤${x.maxPerHour}/h` : '',
        ].filter(Boolean);
        return `${x.kind} ${parts.join(' ')}${fmtWindow(x.from, x.to)}`;
      })
      .join('; ');
    return `| \`${s.name}\` | ${s.sim.seed} | ${s.summary} | ${checks} |`;
  });
  return ['| scenario | seed | run | labels |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--markdown')) {
    process.stdout.write(`${scenarioTable()}\n`);
    return 0;
  }
  const dir = resolve(argv.find((a) => !a.startsWith('--')) ?? join('fixtures', 'scenarios'));
  const reseed = argv.find((a) => a.startsWith('--reseed='));
  const seedOffset = reseed ? Number(reseed.slice('--reseed='.length)) : 0;
  if (!Number.isInteger(seedOffset)) {
    process.stderr.write(`make-scenarios: --reseed needs a whole number, got '${reseed}'\n`);
    return 2;
  }
  const suite = buildSuite(SCENARIOS, seedOffset);
  writeSuite(dir, suite);
  let bytes = 0;
  for (const b of suite.files.values()) bytes += b.length;
  process.stdout.write(`wrote ${suite.files.size} scenarios (${(bytes / 1e6).toFixed(2)} MB) and expectations.json to ${dir}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`make-scenarios: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
