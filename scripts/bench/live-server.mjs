// A server under test, in its own process (forked by live.mjs): `product` = the whole crampguard service
// (startServer: socket.io + validation + normaliser + group commit in a real SQLite store + engine), `bare` =
// a socket.io server with the same transport settings that only acks. Talks to its parent over IPC:
//   → {type:'ready', url}   ← {type:'stats'} → {type:'stats', cpuUs, rss, heapUsed}
//   ← {type:'retained'} → {type:'retained', bytes} (heap + external memory after full GCs)   ← {type:'stop'}
// It exits by itself when the parent goes away or after --max-s seconds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Server } from 'socket.io';
import { DIST, arg } from './lib.mjs';

// Only exposes gc() (for the `retained` figure); it changes nothing else about the server.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const kind = arg('kind', 'bare');
const maxS = Number(arg('max-s', '600'));
setTimeout(() => process.exit(3), maxS * 1000).unref();
process.on('disconnect', () => process.exit(0));

let close;
let url;
if (kind === 'product') {
  const { startServer } = await import(`${DIST}src/server/server.js`);
  const { loadConfig } = await import(`${DIST}src/server/config.js`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-bench-live-'));
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  // Every watch of the load generator connects from 127.0.0.1: no per-address handshake budget or connection cap
  // (10,000 a level).
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', SOCKET_HANDSHAKES_ADDRESS_PER_MIN: '0', CONNECTIONS_PER_ADDRESS: '0',
    // Thousands of watches share 20 athletes here: no per-athlete run cap or budgets (a real athlete has one watch).
    LIVE_RUNS_PER_ATHLETE: '0', SOCKET_ATHLETE_SAMPLES_PER_S: '0', SOCKET_ATHLETE_MESSAGES_PER_S: '0' };
  if (process.env.BENCH_FIT_WORKERS) env.FIT_WORKERS = process.env.BENCH_FIT_WORKERS;
  if (process.env.BENCH_FIT_WORKER_NICE) env.FIT_WORKER_NICE = process.env.BENCH_FIT_WORKER_NICE;
  const server = await startServer(loadConfig(env), { logDestination: silent });
  url = server.url;
  close = async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
} else {
  // The limit: the product's transport settings (websocket only, no compression), and nothing else.
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  const ok = { ok: true };
  io.of('/watch').on('connection', (s) => {
    s.on('start', (_m, ack) => ack(ok));
    s.on('samples', (_m, ack) => ack(ok));
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${http.address().port}`;
  close = () => new Promise((r) => io.close(() => r()));
}

// The main thread's own CPU (the event loop that serves every watch), apart from the store thread and V8's helpers:
// Linux's per-thread counters, in clock ticks of 10 ms (USER_HZ); null elsewhere.
function mainThreadCpuUs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

process.on('message', async (m) => {
  if (m?.type === 'stats') {
    const c = process.cpuUsage();
    const mem = process.memoryUsage();
    process.send({ type: 'stats', cpuUs: c.user + c.system, mainCpuUs: mainThreadCpuUs(), rss: mem.rss, heapUsed: mem.heapUsed, at: performance.now() });
  } else if (m?.type === 'retained') {
    // What stays after full GCs (the main isolate's heap and its buffers): the memory the runs keep, without the
    // garbage between collections that RSS also holds.
    gc();
    gc();
    const mem = process.memoryUsage();
    process.send({ type: 'retained', bytes: mem.heapUsed + mem.external });
  } else if (m?.type === 'stop') {
    const hard = setTimeout(() => process.exit(0), 10_000);
    await close().catch(() => {});
    clearTimeout(hard);
    process.exit(0);
  }
});
process.send({ type: 'ready', url });
