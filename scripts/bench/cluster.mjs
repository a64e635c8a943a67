// The 1/2/3-process benchmark (npm run bench:cluster; build first): for each process count P, P `crampguard
// serve` processes on 127.0.0.1 sharing one PostgreSQL schema and one Redis prefix (fresh per P), and a load
// generator in its own process driving watches round-robin over their ports (no load balancer). Per P:
//   rate levels: N watches at 1 Hz (a batch of 5 samples every 5 s) → runs held, samples/s, prompt p99,
//                memory per live run (RSS growth of the P processes ÷ N);
//   saturation:  200 watches sending the next batch as soon as the last is acked → samples/s.
// Bounded in count (≤ 6,000 watches) and time (every child has a hard deadline). Prints one table and a
// BENCH_RESULT JSON line. Needs PostgreSQL and Redis: BENCH_DATABASE_URL / BENCH_REDIS_URL, else TEST_* ones,
// else postgres://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createClient } from 'redis';
import { ROOT, arg, emit, fmt, machine, row } from './lib.mjs';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROCESSES = arg('processes', '1,2,3').split(',').map(Number);
const LEVELS = arg('watches', '1000,3000').split(',').map(Number);
const SATURATION_WATCHES = Number(arg('saturation', '200'));
const MEASURE_S = Number(arg('measure-s', '15'));
const BATCH = 5;
if (PROCESSES.some((p) => !(p >= 1 && p <= 4)) || LEVELS.some((n) => !(n >= 1 && n <= 6000))) {
  throw new Error('--processes: 1..4 each; --watches: 1..6000 each');
}

function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks (100/s)
  } catch {
    return NaN;
  }
}

function serve(env) {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'crampguard.js'), 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ADDRESS_PER_MIN: '0', RATE_LIMIT_TOKEN_PER_MIN: '0',
      // Thousands of watches share 40 athletes here: no per-athlete run cap or budgets.
      LIVE_RUNS_PER_ATHLETE: '0', SOCKET_ATHLETE_SAMPLES_PER_S: '0', SOCKET_ATHLETE_MESSAGES_PER_S: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const deadline = setTimeout(() => proc.kill('SIGKILL'), 20 * 60_000);
  deadline.unref();
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (!line.includes('"listening"')) return;
      const { port } = JSON.parse(line);
      resolve({ proc, url: `http://127.0.0.1:${port}` });
    });
    proc.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
  });
}

async function stop(p) {
  if (p.proc.exitCode !== null) return;
  const force = setTimeout(() => p.proc.kill('SIGKILL'), 15_000);
  p.proc.kill('SIGTERM');
  await once(p.proc, 'exit');
  clearTimeout(force);
}

async function load(urls, tokens, watches, mode, tag) {
  const child = fork(join(ROOT, 'scripts/bench/cluster-load.mjs'), [
    JSON.stringify({ urls, tokens, watches, mode, batch: mode === 'closed' ? 30 : BATCH, warmupS: 6, measureS: MEASURE_S, tag }),
  ]);
  const events = {};
  const result = new Promise((resolve, reject) => {
    child.on('message', (msg) => {
      events[msg.type]?.();
      if (msg.type === 'result') resolve(msg);
    });
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) before its result`)));
  });
  return { child, result, on: (type, fn) => (events[type] = fn) };
}

async function runCluster(P) {
  const unique = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const names = { schema: `bench_cluster_${unique}`, prefix: `cg-bench-${unique}` };
  const env = { DATABASE_URL, DATABASE_SCHEMA: names.schema, REDIS_URL, REDIS_PREFIX: names.prefix };
  const procs = [await serve(env)];
  if (P > 1) procs.push(...(await Promise.all(Array.from({ length: P - 1 }, () => serve(env)))));
  const urls = procs.map((p) => p.url);
  const tokens = [];
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${urls[i % P]}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `bench ${i}` }) });
    tokens.push((await r.json()).token);
  }
  const out = [];
  try {
    for (const [mode, watches] of [...LEVELS.map((n) => ['rate', n]), ['closed', SATURATION_WATCHES]]) {
      const rss0 = procs.reduce((s, p) => s + rssKb(p.proc.pid), 0);
      const gen = await load(urls, tokens, watches, mode, `${mode}${watches}`);
      let rss1 = NaN;
      let cpu0 = 0;
      gen.on('measuring', () => (cpu0 = procs.reduce((s, p) => s + cpuTicks(p.proc.pid), 0)));
      const r = await gen.result;
      rss1 = procs.reduce((s, p) => s + rssKb(p.proc.pid), 0);
      const cpu = (procs.reduce((s, p) => s + cpuTicks(p.proc.pid), 0) - cpu0) / MEASURE_S; // % of one core
      await once(gen.child, 'exit');
      out.push({ P, mode, watches, ...r, serverCpuPct: Math.round(cpu), kbPerRun: mode === 'rate' ? +((rss1 - rss0) / watches).toFixed(1) : null, rssMB: Math.round(rss1 / 1024) });
      console.error(`cluster bench: ${JSON.stringify(out.at(-1))}`);
    }
  } finally {
    await Promise.all(procs.map(stop));
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${names.schema}" CASCADE`);
    await db.end();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${names.prefix}:*`, COUNT: 500 })) {
      const batch = [].concat(keys);
      if (batch.length) await redis.del(batch);
    }
    await redis.quit();
  }
  return out;
}

const m0 = machine();
const all = [];
for (const P of PROCESSES) all.push(...(await runCluster(P)));

console.log(`\n1/2/3-process benchmark — ${m0.cpu}, Node ${m0.node}, load average at start ${m0.load.join(' ')}`);
console.log('| processes | load | runs held | samples/s acked | ack p99 ms | prompt p50 ms | prompt p99 ms | server CPU % of a core | KB per live run | errors |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of all) {
  const load = r.mode === 'rate' ? `${fmt(r.watches)} watches × 1 Hz` : `saturation, ${r.watches} watches`;
  const errors = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || '–';
  console.log(
    `| ${r.P} | ${load} | ${fmt(r.started)}${r.refused ? ` (${r.refused} refused)` : ''} | ${fmt(r.samplesPerS)} | ${fmt(r.ackP99, 1)} | ${fmt(r.promptP50, 1)} | ${fmt(r.promptP99, 1)} | ${fmt(r.serverCpuPct)} | ${fmt(r.kbPerRun, 1)} | ${errors} |`,
  );
}
emit(
  'cluster',
  all.map((r) => row(`${r.P} process(es), ${r.mode} ${r.watches}: samples/s`, { product: r.samplesPerS, unit: 'samples/s' })),
  [`load average at end ${machine().load.join(' ')}`],
);
