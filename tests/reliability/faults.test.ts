// Faults under live runs and uploads: connections dropped at random points of a batch, the SQLite file held
// by another connection's exclusive transaction, and a disk that fills up. Figures are printed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFit } from '../../ingest/fit.js';
import type { WatchClient } from '../../src/wire/client.js';
import { api, killChild, newAthlete, serveChild, sqliteBackend, startTestServer, type Backend, type ServedChild } from '../server/helpers.js';
import { ASSERT_TIMING, loadFleet, printFigures, promptProbe, runFleet, scale, tally, LIVE_RUNS_PER_ATHLETE } from './fleet.js';
import { createRandom } from '../../src/sim/random.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCENARIOS = join(ROOT, 'fixtures', 'scenarios');


describe('connections dropped at random', () => {
  const RUNS = scale('RELIABILITY_DROP_RUNS', 8);

  it(`${RUNS} runs, each dropped every 0.2–1 s at a random point: no sample lost or counted twice`, { timeout: 120_000 }, async () => {
    const server = await startTestServer(sqliteBackend);
    try {
      const runs = await loadFleet(RUNS);
      const random = createRandom(20_261_125).uniform; // seeded: the same drop points every run
      const timers: NodeJS.Timeout[] = [];
      let drops = 0;
      const dropLater = (client: WatchClient) => {
        const timer = setTimeout(
          () => {
            // Half the time mid-send (a batch just queued), half at whatever point the timer lands.
            if (client.socket.connected) {
              if (random() < 0.5) client.flush();
              client.socket.io.engine.close();
              drops++;
            }
            dropLater(client);
          },
          200 + random() * 800,
        );
        timers.push(timer);
      };
      const started = performance.now();
      const outcomes = await runFleet({ url: server.url, runs, athletes: Math.max(2, Math.ceil(runs.length / LIVE_RUNS_PER_ATHLETE)), speed: 800, batchSize: 10, onStarted: (c) => dropLater(c) }).finally(() =>
        timers.forEach(clearTimeout),
      );
      const { figures, mismatches } = await tally(server.url, outcomes);
      printFigures('random drops', { drops, ...figures, wallS: (performance.now() - started) / 1000 });
      expect(drops).toBeGreaterThanOrEqual(RUNS * 2);
      expect(figures.samplesLost).toBe(0);
      expect(figures.samplesDoubled).toBe(0);
      expect(figures.samplesStored).toBe(figures.samplesSent);
      expect(mismatches).toEqual([]);
      expect(figures.alertsShownTwice).toBe(0);
    } finally {
      await server.drop();
    }
  });
});

describe('the SQLite file locked by another connection', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-rel-lock-'));
  let server: ServedChild | undefined;
  afterAll(async () => {
    if (server) await killChild(server);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prompts go on from memory while writes are retried; nothing acked is lost; the event loop never waits for the lock', { timeout: 120_000 }, async () => {
    const LOCK_MS = scale('RELIABILITY_LOCK_MS', 3000);
    server = await serveChild(dataDir, 0);
    const url = `http://127.0.0.1:${server.port}`;
    const runs = await loadFleet(4);
    // A watch of its own whose first prompt comes in the minutes it streams while the file is locked.
    const probe = await promptProbe(url, (await loadFleet(1))[0]!);
    let lockedFor = 0;
    let prompt = null as { ms: number; at: number } | null;
    let unlockedAt = 0;
    let loopMaxMs = NaN;
    const probes: { ms: number; status: number; state?: string }[] = [];
    const lock = async () => {
      await new Promise((r) => setTimeout(r, 400));
      const db = new Database(join(dataDir, 'crampguard.sqlite'));
      db.pragma('busy_timeout = 5000');
      await metricsLoopMax(url); // resets the server's event-loop histogram
      db.exec('BEGIN EXCLUSIVE');
      const t0 = performance.now();
      const promptArrived = probe.sendThroughFirstAlert().then((p) => (prompt = p));
      // While it is held: how long /healthz takes to answer, and what it says.
      const health = (async () => {
        while (performance.now() - t0 < LOCK_MS) {
          const s = performance.now();
          const r = await fetch(`${url}/healthz`).then(async (x) => ({ status: x.status, state: ((await x.json()) as { status?: string }).status }), () => ({ status: 0, state: undefined }));
          probes.push({ ms: performance.now() - s, status: r.status, ...(r.state ? { state: r.state } : {}) });
          await new Promise((r2) => setTimeout(r2, 200));
        }
      })();
      await new Promise((r) => setTimeout(r, LOCK_MS));
      db.exec('COMMIT');
      unlockedAt = performance.now();
      lockedFor = unlockedAt - t0;
      db.close();
      await health;
      // The histogram's timer must fire once after any stall to record it: scrape a little after the lock.
      await new Promise((r) => setTimeout(r, 200));
      loopMaxMs = await metricsLoopMax(url);
      await promptArrived;
    };
    const [outcomes] = await Promise.all([runFleet({ url, runs, athletes: 1, speed: 600 }), lock()]);
    const probeOutcome = await probe.finish();
    const { figures, mismatches } = await tally(url, [...outcomes, probeOutcome]);
    printFigures('sqlite locked', {
      lockedMs: lockedFor,
      promptDuringLock: prompt !== null && prompt!.at < unlockedAt ? 'yes' : 'no',
      promptMs: prompt?.ms ?? -1,
      eventLoopMaxMs: loopMaxMs,
      healthChecks: probes.length,
      healthWorstMs: Math.max(0, ...probes.map((p) => p.ms)),
      healthDegraded: probes.filter((p) => p.status === 503 && p.state === 'degraded').length,
      ...figures,
    });
    expect(lockedFor).toBeGreaterThanOrEqual(LOCK_MS);
    // The prompt reached the watch from memory before the lock was let go.
    expect(prompt).not.toBeNull();
    expect(prompt!.at).toBeLessThan(unlockedAt);
    // Nothing waited for the lock on the event loop: it used to stall for the whole lock (up to 10 s), so a stall
    // of half the lock or more is that bug, whatever the machine's load. The tight figures (500 ms loop, 1 s
    // health check) are asserted in the soak only (ASSERT_TIMING); `npm test` prints them (above).
    expect(loopMaxMs).toBeLessThan(LOCK_MS / 2);
    expect(Math.max(...probes.map((p) => p.ms))).toBeLessThan(LOCK_MS / 2);
    if (ASSERT_TIMING) {
      expect(loopMaxMs).toBeLessThan(500);
      expect(Math.max(...probes.map((p) => p.ms))).toBeLessThan(1000);
    }
    expect(probes.some((p) => p.status === 503 && p.state === 'degraded')).toBe(true);
    expect(figures.samplesLost).toBe(0);
    expect(figures.samplesDoubled).toBe(0);
    expect(figures.samplesStored).toBe(figures.samplesSent);
    expect(mismatches).toEqual([]);
    expect(figures.alertsShownTwice).toBe(0);
    // It recovered by itself: the same process answers and stores.
    const after = await api(url, 'GET', '/healthz');
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('ok');
    expect(server.proc.exitCode).toBeNull();
  });
});

/** The server's event-loop delay maximum (ms) since the last scrape of /metrics (which resets it). */
async function metricsLoopMax(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^crampguard_event_loop_lag_max_seconds ([\d.e+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

/** A 2 MB tmpfs, or null with the reason it could not be mounted. */
function smallDisk(): { dir: string; unmount(): void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-rel-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${String((err as Error).message).split('\n')[0]})`;
  }
  return {
    dir,
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

describe('a disk that fills up (2 MB tmpfs)', () => {
  it('uploads answer 507 STORE_FULL, nothing half-written stays, and storing resumes once space is freed', { timeout: 120_000 }, async (ctx) => {
    const disk = smallDisk();
    if (typeof disk === 'string') {
      console.log(`[reliability] disk full: skipped: ${disk}`);
      ctx.skip();
      return;
    }
    const dataDir = join(disk.dir, 'data');
    mkdirSync(dataDir);
    // Room an operator can give back later: recovery is tested by deleting this file.
    const filler = join(disk.dir, 'filler');
    writeFileSync(filler, Buffer.alloc(600 * 1024));
    const backend: Backend = { ...sqliteBackend, open: async () => ({ store: undefined, dataDir, drop: async () => {} }) };
    const server = await startTestServer(backend);
    try {
      const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.fit'));
      const athletes = [await newAthlete(server.url, 'Full 1'), await newAthlete(server.url, 'Full 2'), await newAthlete(server.url, 'Full 3')];
      const created: { token: string; id: string; samples: number }[] = [];
      let full: { status: number; body: any } | null = null;
      let tries = 0;
      for (const who of athletes) {
        for (const f of files) {
          const bytes = readFileSync(join(SCENARIOS, f));
          const r = await api(server.url, 'POST', '/api/runs', { token: who.token, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
          tries++;
          // Two scenarios share a start time and device: the second is refused as the same activity.
          if (r.status === 409 && r.body.error?.code === 'DUPLICATE_RUN') continue;
          if (r.status === 201) created.push({ token: who.token, id: r.body.id, samples: (await decodeFit(bytes)).samples.length });
          else {
            full = r;
            break;
          }
        }
        if (full) break;
      }
      printFigures('disk full', { uploadsTried: tries, stored: created.length, refusedWith: full?.status ?? 0 });
      expect(full, 'the disk never filled').not.toBeNull();
      expect(full!.status).toBe(507);
      expect(full!.body.error.code).toBe('STORE_FULL');
      expect(full!.body.error.message).not.toMatch(/\n/);
      // Every run listed is whole; the refused one left nothing behind.
      let listed = 0;
      for (const who of athletes) {
        const runs = (await api(server.url, 'GET', '/api/runs', { token: who.token })).body.runs as { id: string }[];
        listed += runs.length;
        for (const run of runs) {
          const c = created.find((x) => x.id === run.id);
          expect(c, `run ${run.id} was never acknowledged`).toBeDefined();
          const s = await api(server.url, 'GET', `/api/runs/${run.id}/samples?fields=t`, { token: who.token });
          expect(s.body.columns.t.length).toBe(c!.samples);
        }
      }
      expect(listed).toBe(created.length);
      expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
      // The operator frees space: the same server stores again without a restart.
      rmSync(filler);
      const small = readFileSync(join(SCENARIOS, 'ten-minute-run.fit'));
      const later = await newAthlete(server.url, 'After');
      const again = await api(server.url, 'POST', '/api/runs', { token: later.token, body: small, headers: { 'content-type': 'application/octet-stream' } });
      expect(again.status).toBe(201);
    } finally {
      await server.drop();
      disk.unmount();
    }
  });
});
