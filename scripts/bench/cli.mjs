// Bench 6 — the CLI as users feel it: `crampguard analyze --json FILE` in a fresh process (start-up, module
// loading, decode, analysis, the JSON line written), against fit-file-parser's decode alone of the same file in a
// fresh process (scripts/bench/parser-only.mjs). The two alternate, pair by pair, so both see the same machine
// load; the ratio is the median of the pairs' ratios. Inputs: the 24-hour synthetic ultra and the largest fixture.
// Run alone: npm run bench:cli   (builds first; runs bin/crampguard.js, which reads dist/)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT, emit, median, row, ultraFitBytes } from './lib.mjs';

const TARGET_RATIO = 1.2;
const quick = process.argv.includes('--quick');
const PAIRS = quick ? 2 : 15;

/** Wall time of one fresh process, ms (its output goes nowhere, as to a file). */
function timed(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${String(r.stderr).slice(0, 200)}`);
  return wall;
}

const dir = mkdtempSync(join(tmpdir(), 'cg-bench-cli-'));
const ultraPath = join(dir, 'ultra-24h.fit');
writeFileSync(ultraPath, await ultraFitBytes());
const rows = [];
const notes = [];
try {
  for (const path of [ultraPath, join(ROOT, 'fixtures/fit/muktihari__fit/big_activity.fit')]) {
    const product = ['bin/crampguard.js', 'analyze', '--json', path];
    const limit = ['scripts/bench/parser-only.mjs', path];
    timed(product); // warm the page cache and the compile cache alike
    timed(limit);
    const tp = [];
    const tl = [];
    const ratios = [];
    for (let i = 0; i < PAIRS; i++) {
      // Alternate which goes first, so neither always runs right after the other.
      let p, b;
      if (i % 2 === 0) {
        p = timed(product);
        b = timed(limit);
      } else {
        b = timed(limit);
        p = timed(product);
      }
      tp.push(p);
      tl.push(b);
      ratios.push(p / b);
    }
    const ratio = median(ratios);
    rows.push(row(`analyze --json ${basename(path)}, fresh process: wall time ÷ parser's decode alone, fresh process`, {
      target: `≤ ${TARGET_RATIO}`, product: median(tp), limit: median(tl), ratio, met: ratio <= TARGET_RATIO, unit: 'ms',
    }));
  }
  notes.push(`${PAIRS} alternating pairs per file; the ratio is the median of the pairs' ratios`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
emit('cli', rows, notes);
