// One watch, the same batches, over both transports: the /watch socket (emitWithAck) and POST /api/watch/samples
// (fetch, keep-alive), one batch in flight at a time, against one server with a fresh SQLite store. Prints the
// ack time per batch (p50, p99) and batches a second for each; nothing is asserted (a busy shared machine
// swings these 2-3x: compare the two columns of one run, not runs). Budgets are lifted: this measures the path.
//   node scripts/bench/watch-transports.mjs [batches=600] [samplesPerBatch=30]
// Needs the build (npx tsc -p tsconfig.build.json).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { loadConfig } from '../../dist/src/server/config.js';
import { startServer } from '../../dist/src/server/server.js';

const BATCHES = Number(process.argv[2] ?? 600);
const PER_BATCH = Number(process.argv[3] ?? 30);
const dataDir = mkdtempSync(join(tmpdir(), 'cg-bench-transports-'));
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', RATE_LIMIT_TOKEN_PER_MIN: '0', RATE_LIMIT_ADDRESS_PER_MIN: '0', SOCKET_MESSAGES_PER_S: '100000', SOCKET_SAMPLES_PER_S: '0', SOCKET_ATHLETE_MESSAGES_PER_S: '0', SOCKET_ATHLETE_SAMPLES_PER_S: '0' });
const server = await startServer(config, { logDestination: pino.destination('/dev/null') });
const { token } = await (await fetch(`${server.url}/api/athletes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bench' }) })).json();

const batch = (k) => Array.from({ length: PER_BATCH }, (_, i) => ({ t: k * PER_BATCH + i, hr: 140 + (i % 7), speed: 3.1, cadence: 172 }));
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function run(name, send) {
  const runId = `bench-${name}-${Date.now()}`;
  const started = await send('start', { runId, startTime: Date.now() });
  if (!started.ok) throw new Error(`${name} start: ${JSON.stringify(started)}`);
  const times = [];
  const began = performance.now();
  for (let k = 0; k < BATCHES; k++) {
    const t0 = performance.now();
    const ack = await send('samples', { runId, seq: k + 1, samples: batch(k) });
    times.push(performance.now() - t0);
    if (!ack.ok) throw new Error(`${name} batch ${k + 1}: ${JSON.stringify(ack)}`);
  }
  const wall = (performance.now() - began) / 1000;
  await send('end', { runId });
  return { transport: name, batches: BATCHES, samplesPerBatch: PER_BATCH, p50Ms: +pct(times, 50).toFixed(2), p99Ms: +pct(times, 99).toFixed(2), batchesPerS: Math.round(BATCHES / wall) };
}

const socket = io(`${server.url}/watch`, { transports: ['websocket'], auth: { token }, reconnection: false });
await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
const viaSocket = (event, msg) => socket.emitWithAck(event, msg);
const viaHttp = async (event, msg) => {
  const res = await fetch(`${server.url}/api/watch/${event}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(msg) });
  return res.json();
};
const results = [];
// Warm both paths once, then measure each.
await run('warm-socket', viaSocket);
await run('warm-http', viaHttp);
results.push(await run('websocket', viaSocket));
results.push(await run('http', viaHttp));
socket.close();
await server.close();
rmSync(dataDir, { recursive: true, force: true });
console.table(results);
