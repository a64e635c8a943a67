// "A replay that drifts" (issue 18): replays of real FIT files under CPU load, with forced RATE_LIMITED answers,
// dropped connections (socket.io recovery and plain reconnects) and rebuilds of the run from its checkpoint or
// from the store, must raise exactly the prompts `analyzeRun` finds in the file, every time.
//
// The path that drifted: the watch client kept up to `window` messages in flight, so when an event (pause,
// resume, drink...) was refused (RATE_LIMITED) or lost with its connection, the next batch, already on its way,
// was stepped first; the server then applies the late event at the last sample's time (its rule for events
// that come after later samples), a few to thirty seconds late, and the prompts that depend on it moved.
// The client now holds every later batch back until an event is acked.
//
// DRIFT_STRESS_RUNS replays of each file (default 3; `DRIFT_STRESS_RUNS=50` for the full check). Nothing here
// is timed: the faults come from a seeded generator per replay, the figures are printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Socket as ServerSocket } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeFit } from '../../ingest/fit.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { replayRun } from '../../src/wire/replay.js';
import type { WatchClient } from '../../src/wire/client.js';
import { alertKey, newAthlete, sqliteBackend, startTestServer, type TestServer } from '../server/helpers.js';

const RUNS = Math.max(1, Number(process.env.DRIFT_STRESS_RUNS ?? 3));
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'fit');
/** Real runs with timer pauses, laps and hours of 1 s records. */
const FILES = ['roznet__FitFileParser/running.fit', 'jimmykane__fit-parser/garmin-stamina.fit'];

/** Small deterministic generator (mulberry32), one per replay: a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Faults {
  rateLimited: number;
  transportCloses: number;
  serverDisconnects: number;
  checkpointRebuilds: number;
  discardRebuilds: number;
}

/** A thread that keeps one core busy (on and off) while the replays run. */
function cpuLoad(): Worker {
  return new Worker(
    `const { parentPort } = require('node:worker_threads'); let stop = false;
     parentPort.on('message', () => { stop = true; });
     (function spin() { const until = Date.now() + 40; while (Date.now() < until) {} if (!stop) setTimeout(spin, 10); })();`,
    { eval: true },
  );
}

describe('live replays equal analyze under faults', () => {
  let server: TestServer;
  const runs = new Map<string, NormalizedRun>();
  beforeAll(async () => {
    // A samples budget below what a replay at --speed 0 asks for: real RATE_LIMITED answers on top of the forced ones.
    server = await startTestServer(sqliteBackend, { SOCKET_SAMPLES_PER_S: '3000', LOG_LEVEL: 'warn' });
    for (const f of FILES) runs.set(f, await decodeFit(readFileSync(join(FIXTURES, f))));
  });
  afterAll(async () => server?.drop());

  it(`${RUNS}× each file: the live prompts and the report equal analyzeRun`, { timeout: 120_000 + RUNS * 60_000 }, async () => {
    const { id: athleteId, token } = await newAthlete(server.url, 'Drift');
    const nsp = server.io.of('/watch');
    let current: { seed: number; runId: string; faults: Faults; random: () => number } | null = null;
    // The fault injector: a packet middleware on every socket, ahead of the service's handlers.
    nsp.on('connection', (socket: ServerSocket) => {
      let messages = 0;
      socket.use((packet, next) => {
        const c = current;
        const [event, ...args] = packet;
        if (!c || (event !== 'samples' && event !== 'event')) return next();
        const ack = args.at(-1);
        const roll = c.random();
        messages++;
        if (typeof ack === 'function' && roll < 0.1) {
          c.faults.rateLimited++;
          return (ack as (r: unknown) => void)({
            ok: false,
            error: { code: 'RATE_LIMITED', message: 'forced by the test' },
            retryAfterMs: 1 + Math.floor(c.random() * 20),
          });
        }
        if (messages % 47 === 0) {
          // Drop the connection once this message is in: half the time the transport (socket.io recovers the
          // connection state), half the time from the server (a plain reconnect and start).
          setImmediate(() => {
            if (c.random() < 0.5) {
              c.faults.transportCloses++;
              socket.conn.close();
            } else {
              c.faults.serverDisconnects++;
              socket.disconnect(true);
            }
          });
        } else if (messages % 31 === 0) {
          // Take the run out of memory: its next message rebuilds it (from the checkpoint, or from the store).
          const how = c.random() < 0.5 ? 'checkpoint' : 'discard';
          setImmediate(() => {
            void server.watch.evict(athleteId, c.runId, how).then((was) => {
              if (was) c.faults[how === 'checkpoint' ? 'checkpointRebuilds' : 'discardRebuilds']++;
            });
          });
        }
        next();
      });
    });

    const load = cpuLoad();
    const totals: Faults = { rateLimited: 0, transportCloses: 0, serverDisconnects: 0, checkpointRebuilds: 0, discardRebuilds: 0 };
    const mismatches: string[] = [];
    let replays = 0;
    try {
      for (let k = 0; k < RUNS; k++) {
        for (const file of FILES) {
          const run = runs.get(file)!;
          const seed = 1000 * k + FILES.indexOf(file) + 1;
          const runId = `drift-${seed}-${Date.now().toString(36)}`;
          const faults: Faults = { rateLimited: 0, transportCloses: 0, serverDisconnects: 0, checkpointRebuilds: 0, discardRebuilds: 0 };
          current = { seed, runId, faults, random: rng(seed) };
          let client: WatchClient | null = null;
          const result = await replayRun(run, {
            url: server.url,
            token,
            runId,
            ackTimeoutMs: 5000,
            reconnectDelayMs: 20,
            reconnectDelayMaxMs: 100,
            onStarted: (c) => (client = c),
          });
          current = null;
          replays++;
          for (const key of Object.keys(totals) as (keyof Faults)[]) totals[key] += faults[key];
          // What `analyze` finds with the settings the server's engine ran with (the start ack's: the stored
          // profile merged with what the athlete model has learned from the earlier replays).
          const settings = result.client.run?.settings;
          expect(settings).toBeDefined();
          const want = analyzeRun(run, settings!).alerts.map(alertKey);
          const live = [...result.alerts].sort((a, b) => a.t - b.t).map(alertKey);
          const report = result.report.alerts.map(alertKey);
          if (JSON.stringify(live) !== JSON.stringify(want) || JSON.stringify(report) !== JSON.stringify(want)) {
            mismatches.push(`${file} seed ${seed}: analyze ${JSON.stringify(want)} live ${JSON.stringify(live)} report ${JSON.stringify(report)} faults ${JSON.stringify(faults)} stats ${JSON.stringify((client as WatchClient | null)?.stats)}`);
          }
        }
      }
    } finally {
      load.postMessage('stop');
      await load.terminate();
    }
    console.log(`[reliability] replay drift: ${replays} replays of ${FILES.length} real files, ${mismatches.length} differ from analyze; faults ${JSON.stringify(totals)}`);
    expect(mismatches).toEqual([]);
    // The faults did happen (a run of the suite that injected none would prove nothing).
    expect(totals.rateLimited).toBeGreaterThan(0);
    expect(totals.transportCloses + totals.serverDisconnects).toBeGreaterThan(0);
    expect(totals.checkpointRebuilds + totals.discardRebuilds).toBeGreaterThan(0);
  });
});
