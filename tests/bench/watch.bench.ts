/**
 * Live path throughput through the whole server (socket.io → validation → normaliser → group commit in SQLite →
 * engine → ack), against a bare socket.io server that only acks, in the same run (figures swing 2–3× on a
 * shared machine: compare the two rows, not absolute numbers). One op = each of WATCHES watches sends one batch
 * of BATCH samples and waits for its ack; samples/s = ops/s × WATCHES × BATCH.
 * Run: `npx vitest bench --run tests/bench/watch.bench.ts` (needs `npm run build` for the upload worker).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterAll, bench, describe } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';

const WATCHES = 100;
const BATCH = 5;
const options = { time: 2000, warmupTime: 300 };

const dataDir = mkdtempSync(join(tmpdir(), 'cg-bench-'));
const silent = new Writable({ write: (_c, _e, cb) => cb() });
const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), {
  logDestination: silent,
});
const { token } = (await fetch(`${server.url}/api/athletes`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: '{"name":"bench"}',
}).then((r) => r.json())) as { token: string };

const connect = (url: string, auth?: object): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], forceNew: true, ...(auth ? { auth } : {}) });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });

const watches: { socket: Socket; runId: string; seq: number; t: number }[] = [];
for (let i = 0; i < WATCHES; i++) {
  const socket = await connect(`${server.url}/watch`, { token });
  const runId = `bench-run-${i}-${Date.now()}`;
  await socket.emitWithAck('start', { runId, startTime: Date.now() });
  watches.push({ socket, runId, seq: 0, t: 0 });
}

// The bare baseline: same transport settings, acks at once.
const bareHttp = createServer();
const bare = new Server(bareHttp, { transports: ['websocket'], perMessageDeflate: false });
bare.of('/watch').on('connection', (s) => s.on('samples', (_m: unknown, ack: (r: object) => void) => ack({ ok: true })));
await new Promise<void>((r) => bareHttp.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${(bareHttp.address() as AddressInfo).port}/watch`;
const bareSockets: Socket[] = [];
for (let i = 0; i < WATCHES; i++) bareSockets.push(await connect(bareUrl));

function batchFor(w: { t: number }): object[] {
  const samples = [];
  for (let k = 0; k < BATCH; k++) samples.push({ t: w.t++, hr: 150 + (w.t % 7), speed: 3.2, cadence: 172 });
  return samples;
}

afterAll(async () => {
  for (const w of watches) w.socket.close();
  for (const s of bareSockets) s.close();
  await server.close();
  await new Promise<void>((r) => bare.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe(`${WATCHES} watches × one ${BATCH}-sample batch each`, () => {
  bench(
    'crampguard server (store + engine + ack)',
    async () => {
      await Promise.all(
        watches.map((w) => w.socket.emitWithAck('samples', { runId: w.runId, seq: ++w.seq, samples: batchFor(w) })),
      );
    },
    options,
  );
  const bareState = bareSockets.map(() => ({ t: 0, seq: 0 }));
  bench(
    'bare socket.io server (ack only)',
    async () => {
      await Promise.all(
        bareSockets.map((s, i) => s.emitWithAck('samples', { runId: 'x', seq: ++bareState[i]!.seq, samples: batchFor(bareState[i]!) })),
      );
    },
    options,
  );
});
