#!/usr/bin/env node
// The long reliability suite, run by hand: the CI suites in tests/reliability at a larger scale (more runs,
// several kills, 10,000 fuzzed FIT files, a lock longer than SQLite's busy timeout), then one summary of the
// figures each suite printed. Usage: npm run test:soak [-- vitest args]; any RELIABILITY_* variable already set
// wins over the soak's value.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOAK = {
  RELIABILITY_RUNS: '60', // live runs killed under
  RELIABILITY_KILLS: '3', // SIGKILLs during them
  RELIABILITY_SPEED: '400', // replay speed (slower = more time for the kills to land mid-run)
  RELIABILITY_DROP_RUNS: '24', // runs whose connections drop at random
  RELIABILITY_LOCK_MS: '12000', // SQLite exclusive lock, longer than the 10 s busy timeout
  RELIABILITY_FUZZ_CASES: '10000', // hostile FIT uploads
  RELIABILITY_BAD_HANDSHAKES: '3000', // handshakes with bad tokens
  RELIABILITY_PROBE_BATCHES: '400', // quiet-run batches measured, calm and under attack
  RELIABILITY_ASSERT_TIMING: '1', // latency figures asserted (npm test only prints them)
};
const env = { ...process.env };
for (const [k, v] of Object.entries(SOAK)) env[k] ??= v;

const figures = [];
const started = Date.now();
const child = spawn(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'tests/reliability', '--testTimeout=3600000', '--hookTimeout=120000', ...process.argv.slice(2)],
  { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] },
);
let carry = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const text = carry + String(chunk);
  const lines = text.split('\n');
  carry = lines.pop() ?? '';
  for (const line of lines) {
    // eslint-disable-next-line no-control-regex
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
    const at = plain.indexOf('[reliability]');
    if (at >= 0) figures.push(plain.slice(at));
  }
});
child.on('exit', (code, signal) => {
  console.log(`\n=== soak summary (${((Date.now() - started) / 60000).toFixed(1)} min, scale ${JSON.stringify(SOAK)}) ===`);
  for (const f of figures) console.log(f);
  console.log(code === 0 ? 'soak: all suites passed' : `soak: FAILED (${signal ?? `exit ${code}`})`);
  process.exit(code ?? 1);
});
