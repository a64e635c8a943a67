// The upload pool's workers run at a lower CPU priority than the event loop (FIT_WORKER_NICE), so on a busy
// machine live prompts get the CPU before a decode. Linux sets nice per thread, readable per task in /proc.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { summarizeRun } from '../../src/athlete/summary.js';
import { createAnalyzer, type Analyzer } from '../../src/server/analyzer.js';
import { fixture } from '../ingest/fit-files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TASKS = '/proc/self/task';
const onLinux = existsSync(TASKS);
if (!onLinux) console.log('[analyzer] worker niceness: skipped: no /proc/self/task (not Linux)');

/** Niceness of each thread of this process (field 19 of /proc/self/task/TID/stat). */
function threadNiceness(): number[] {
  const values: number[] = [];
  for (const tid of readdirSync(TASKS)) {
    try {
      const stat = readFileSync(`${TASKS}/${tid}/stat`, 'utf8');
      // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      values.push(Number(fields[19 - 3]));
    } catch {
      // the thread ended while we listed them
    }
  }
  return values;
}

describe.skipIf(!onLinux)('upload worker priority', () => {
  let analyzer: Analyzer | undefined;
  afterEach(async () => {
    await analyzer?.close();
    analyzer = undefined;
  });

  // Relative to the test process's own niceness, in case the suite itself runs under `nice`.
  const base = getPriority();

  it('a worker started with nice 10 runs 10 lower than the event loop', async () => {
    const own = threadNiceness();
    expect(own.every((n) => n === base)).toBe(true);
    analyzer = createAnalyzer(1, { nice: 10 });
    const { run } = await analyzer.analyze(fixture('roznet__FitFileParser/running.fit'), {});
    expect(run.samples.length).toBeGreaterThan(0);
    const after = threadNiceness();
    expect(after.filter((n) => n === Math.min(19, base + 10)).length).toBeGreaterThanOrEqual(1);
    expect(after.filter((n) => n === base).length).toBeGreaterThanOrEqual(own.length);
  });

  it('nice 0 leaves every thread at the server priority', async () => {
    analyzer = createAnalyzer(1, { nice: 0 });
    await analyzer.analyze(fixture('roznet__FitFileParser/running.fit'), {});
    expect(threadNiceness().every((n) => n === base)).toBe(true);
  });
});

describe('upload worker', () => {
  it('starts and decodes under the per-process Node flags an operator may give the server (the build under dist/)', () => {
    const script = `import { createAnalyzer } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/server/analyzer.js')).href)};
      import { readFileSync } from 'node:fs';
      const analyzer = createAnalyzer(1, {});
      const { run } = await analyzer.analyze(readFileSync(${JSON.stringify(join(ROOT, 'fixtures/fit/roznet__FitFileParser/running.fit'))}), {});
      await analyzer.close();
      console.log('samples', run.samples.length);`;
    const out = execFileSync(process.execPath, ['--max-old-space-size=512', '--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toMatch(/^samples [1-9]\d*$/m);
  });

  it("summarises an upload for the athlete model off the event loop, as summarizeRun does on the run it hands back", async () => {
    const analyzer = createAnalyzer(1, {});
    try {
      const { run, summary } = await analyzer.analyze(fixture('roznet__FitFileParser/running.fit'), {});
      expect(summary.durationS).toBeGreaterThan(0);
      expect(summary).toEqual(summarizeRun(run));
    } finally {
      await analyzer.close();
    }
  });
});
