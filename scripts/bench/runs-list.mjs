// GET /api/runs?limit=50 for an athlete with 50 simulated 24-hour runs, on SQLite. After a build:
//   node scripts/bench/runs-list.mjs [--dist DIR] [--cache DIR] [--rounds N]
// The first call seeds CACHE/seed (50 uploads of simulated 24 h ultras, distinct seeds: a few minutes); every
// call then copies that database to a fresh directory, starts the server from DIST (default ./dist) on it,
// and times the list: the first request (after a schema upgrade this includes any one-time work) and the
// median of the next N. `--dist` lets an older build be timed on the same database.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { arg, median, ROOT } from './lib.mjs';

const dist = resolve(arg('dist', join(ROOT, 'dist')));
const cache = resolve(arg('cache', join(tmpdir(), 'crampguard-runs-list')));
const rounds = Number(arg('rounds', '10'));
const RUNS = 50;

const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { startServer } = await load('src/server/server.js');
const { loadConfig } = await load('src/server/config.js');

async function serve(dataDir) {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', RATE_LIMIT_ADDRESS_PER_MIN: '0', RATE_LIMIT_TOKEN_PER_MIN: '0' });
  return startServer(config, { logDestination: { write: () => true } });
}

async function seed(dir) {
  const { simulate, run, pause, repeat } = await load('src/sim/simulate.js');
  const { writeFit } = await load('src/sim/write-fit.js');
  mkdirSync(dir, { recursive: true });
  const server = await serve(dir);
  try {
    const created = await fetch(`${server.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ultra' }) }).then((r) => r.json());
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      // 24 h: 23 × (55 min + a 5 min stop) and a last 55 min, warm (prompts), a different seed each.
      const plan = [...repeat(23, [run(55, 2.6 - i * 0.005), pause(300)]), run(55, 2.4)];
      const fit = writeFit(simulate({ seed: 7000 + i, startTime: new Date(Date.UTC(2026, 0, 1 + i, 6)).toISOString(), tempC: 22 + (i % 8), humidity: 55, plan }));
      bytes += fit.length;
      const res = await fetch(`${server.url}/api/runs?temp=${22 + (i % 8)}&humidity=55`, { method: 'POST', headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/octet-stream' }, body: fit });
      if (res.status !== 201) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    writeFileSync(join(dir, 'token.json'), JSON.stringify({ token: created.token, fitBytes: bytes }));
  } finally {
    await server.close();
  }
}

const seedDir = join(cache, 'seed');
if (!existsSync(join(seedDir, 'token.json'))) {
  rmSync(seedDir, { recursive: true, force: true });
  console.log(`seeding ${RUNS} runs into ${seedDir} …`);
  await seed(seedDir);
}
const { token, fitBytes } = JSON.parse(readFileSync(join(seedDir, 'token.json'), 'utf8'));

const work = mkdtempSync(join(tmpdir(), 'crampguard-runs-list-'));
try {
  cpSync(seedDir, work, { recursive: true });
  const server = await serve(work);
  try {
    const list = async () => {
      const started = performance.now();
      const res = await fetch(`${server.url}/api/runs?limit=${RUNS}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`list: ${res.status} ${body}`);
      return { ms: performance.now() - started, body };
    };
    const first = await list();
    const times = [];
    for (let i = 0; i < rounds; i++) times.push((await list()).ms);
    const runs = JSON.parse(first.body).runs;
    const withPrompts = runs.filter((r) => r.prompts > 0).length;
    console.log(JSON.stringify({
      dist,
      runs: runs.length,
      withPrompts,
      fitMB: +(fitBytes / 2 ** 20).toFixed(1),
      firstMs: +first.ms.toFixed(1),
      medianMs: +median(times).toFixed(1),
      minMs: +Math.min(...times).toFixed(1),
      maxMs: +Math.max(...times).toFixed(1),
      answerSha: (await import('node:crypto')).createHash('sha256').update(first.body).digest('hex').slice(0, 16),
    }));
  } finally {
    await server.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
