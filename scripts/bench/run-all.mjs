// The bench runner: `npm run bench` (all six parts) or `npm run bench:<part>`; after a build (the npm scripts
// build first). Each part runs in its own process and prints one JSON result line; this collects them, prints
// one markdown table (figure, target, product, limit, ratio, met?) with the machine and load, and writes
// everything to test-artifacts/bench/results.json.
//   node scripts/bench/run-all.mjs [ingest engine live uploads storage cli] [--quick]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RESULT_PREFIX, ROOT, fmt, machine } from './lib.mjs';

const PARTS = {
  ingest: { title: '1. Ingest (decode + normalise + analyse vs fit-file-parser alone)', args: ['scripts/bench/ingest.mjs'] },
  engine: { title: '2. Engine (all detectors, one core)', args: ['--expose-gc', 'scripts/bench/engine.mjs'] },
  live: { title: '3. Live end to end (product vs bare socket.io ack server)', args: ['scripts/bench/live.mjs', '--part', 'live'] },
  uploads: { title: '4. Uploads under live load', args: ['scripts/bench/live.mjs', '--part', 'uploads'] },
  storage: { title: '5. Storage (group commit vs plain bulk insert)', args: ['scripts/bench/storage.mjs'] },
  cli: { title: '6. CLI (crampguard analyze --json, fresh process, vs the parser alone, fresh process)', args: ['scripts/bench/cli.mjs'] },
};

const quick = process.argv.includes('--quick');
const asked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const a of asked) if (!PARTS[a]) {
  console.error(`unknown part "${a}": choose from ${Object.keys(PARTS).join(', ')}`);
  process.exit(2);
}
const parts = asked.length ? asked : Object.keys(PARTS);

function runPart(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...PARTS[name].args, ...(quick ? ['--quick'] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let result = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length));
      else process.stderr.write(`  [${name}] ${line}\n`);
    });
    child.on('exit', (code, signal) => resolve(result ?? { part: name, failed: `exit ${code ?? signal}`, rows: [], notes: [] }));
  });
}

function value(v, unit) {
  if (typeof v === 'string') return `${v}${unit ? ` ${unit}` : ''}`;
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const digits = unit === '/s' || (unit === 'B' && Math.abs(v) >= 10) ? 0 : unit === 'MB/s' || unit === 'B' ? 2 : Math.abs(v) >= 100 ? 0 : 1;
  return `${fmt(v, digits)}${unit === '/s' ? '/s' : unit ? ` ${unit}` : ''}`;
}

const startedAt = new Date();
const before = machine();
const results = [];
for (const name of parts) {
  const t0 = performance.now();
  process.stderr.write(`${PARTS[name].title} …\n`);
  const r = await runPart(name);
  r.seconds = (performance.now() - t0) / 1000;
  results.push(r);
  process.stderr.write(`  done in ${r.seconds.toFixed(0)} s${r.failed ? ` — FAILED (${r.failed})` : ''}\n`);
}
const after = machine();
const minutes = (Date.now() - startedAt.getTime()) / 60_000;

const lines = [];
lines.push(`crampguard benchmarks — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes.toFixed(1)} min${quick ? ' (QUICK smoke sizes: figures mean nothing)' : ''}`);
lines.push(`machine: ${before.cpu}, ${before.memGB} GB RAM, Node ${before.node}; load average ${before.load.join(' / ')} at start, ${after.load.join(' / ')} at end`);
lines.push('');
lines.push('| figure | target | product | limit | ratio | met? |');
lines.push('| --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  lines.push(`| **${PARTS[r.part]?.title ?? r.part}**${r.failed ? ` — failed: ${r.failed}` : ''} | | | | | |`);
  for (const x of r.rows) {
    const met = x.met === null ? '' : x.met ? 'yes' : '**no**';
    const ratio = x.ratio === null || Number.isNaN(x.ratio) ? '–' : `${fmt(x.ratio, 2)}`;
    lines.push(`| ${x.figure} | ${x.target} | ${value(x.product, x.unit)} | ${x.limit === null ? '–' : value(x.limit, x.unit)} | ${ratio} | ${met} |`);
  }
}
lines.push('');
for (const r of results) for (const n of r.notes ?? []) lines.push(`- ${r.part}: ${n}`);
console.log(lines.join('\n'));

const dir = join(ROOT, 'test-artifacts/bench');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'results.json'), JSON.stringify({ startedAt, minutes, quick, machine: { before, after }, results }, null, 2));
process.stderr.write(`results: ${join(dir, 'results.json')}\n`);
process.exitCode = results.some((r) => r.failed) ? 1 : 0;
