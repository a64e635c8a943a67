// Three `crampguard serve` processes on this machine's PostgreSQL and Redis, working as one service: 50 runs
// replayed across them (each watch knows all three URLs, starting at a different one), dashboards following
// runs on processes other than the watch's, one process SIGKILLed mid-run. Every run must end with every sample
// once, the alert log and the report equal to `analyze`, and the killed process's runs taken over by the
// others only once its leases lapsed. Uploads are analysed by whichever process receives them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import type { Conditions, Profile } from '../../alerts/types.js';
import { decodeFit } from '../../ingest/fit.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { WatchClient } from '../../src/wire/client.js';
import { replayRun, type ReplayResult } from '../../src/wire/replay.js';
import { alertKey, api, newAthlete, SCENARIOS } from '../server/helpers.js';
import { clusterNames, dropCluster, killHard, startServe, stopGracefully, type ServeProcess } from './processes.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL;
const REDIS_URL = process.env.TEST_REDIS_URL;
const skip = !DATABASE_URL ? 'TEST_DATABASE_URL is not set' : !REDIS_URL ? 'TEST_REDIS_URL is not set' : null;
if (skip) console.log(`tests/cluster/failover: skipped: ${skip} (CI sets both via .ci/run)`);

const RUNS = 50;
/** Wall-clock length of each replayed run: long enough that the kill lands mid-run for most of them. */
const RUN_WALL_S = 25;
const KILL_AFTER_MS = 9_000;
const LEASE_MS = 5_000;
const profile: Profile = { massKg: 68, hrRest: 50, hrMax: 188 };
const conditions: Conditions = { tempC: 28, humidity: 60 };

interface Fixture {
  name: string;
  run: NormalizedRun;
  keys: string[];
}

describe.skipIf(skip !== null)('three processes on PostgreSQL and Redis, one killed mid-run', () => {
  const names = clusterNames('cluster');
  let procs: ServeProcess[] = [];
  let fixtures: Fixture[] = [];
  beforeAll(async () => {
    const env = {
      DATABASE_URL: DATABASE_URL!,
      DATABASE_SCHEMA: names.schema,
      REDIS_URL: REDIS_URL!,
      REDIS_PREFIX: names.redisPrefix,
      RUN_LEASE_MS: String(LEASE_MS),
    };
    // The first creates the schema (migrations take a lock, so a simultaneous start would also be fine).
    procs = [await startServe(env)];
    procs.push(...(await Promise.all([startServe(env), startServe(env)])));
    const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.fit')).sort();
    fixtures = await Promise.all(
      files.map(async (name) => {
        const run = await decodeFit(readFileSync(join(SCENARIOS, name)));
        return { name, run, keys: analyzeRun(run, { profile, conditions }).alerts.map(alertKey) };
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all(procs.map(stopGracefully));
    if (!skip) await dropCluster(DATABASE_URL!, REDIS_URL!, names);
  }, 60_000);

  it('50 runs across three processes survive one of them being killed: no sample lost, no alert missing or doubled', async () => {
    const urls = procs.map((p) => p.url);
    const victim = 2;
    // Enough athletes that, with every run on the two survivors, none has more than LIVE_RUNS_PER_ATHLETE (4) on one.
    const athletes = await Promise.all(Array.from({ length: Math.ceil(RUNS / 4) }, (_, i) => newAthlete(urls[i % 3]!, `Runner ${i}`, profile)));

    // Dashboards: for the first runs that start on process 0, a follower connected to process 1.
    const followers: { client: WatchClient; samples: Set<number>; alerts: string[]; risk: number; fixture: Fixture }[] = [];
    const startFollower = async (token: string, serverRunId: string, fixture: Fixture) => {
      const client = new WatchClient({ url: urls[1]!, token });
      const seen = { client, samples: new Set<number>(), alerts: [] as string[], risk: 0, fixture };
      client.socket.on('risk', () => seen.risk++);
      client.socket.on('samples', (b) => {
        for (const s of b.samples) seen.samples.add(s.t as number);
      });
      client.socket.on('alert', (a) => seen.alerts.push(alertKey(a)));
      await new Promise<void>((resolve) => (client.socket.connected ? resolve() : client.socket.once('connect', () => resolve())));
      const ack = await client.socket.emitWithAck('follow', { runId: serverRunId });
      expect(ack).toMatchObject({ ok: true, status: 'live' });
      if (ack.ok) for (const a of ack.alerts) seen.alerts.push(alertKey(a));
      followers.push(seen);
    };

    const started: Promise<void>[] = [];
    const replays: Promise<ReplayResult>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const fixture = fixtures[i % fixtures.length]!;
      const athlete = athletes[i % athletes.length]!;
      const first = i % 3;
      const order = [0, 1, 2].map((k) => urls[(first + k) % 3]!);
      const durationS = fixture.run.samples.t[fixture.run.samples.length - 1]! - fixture.run.samples.t[0]!;
      let markStarted!: () => void;
      started.push(new Promise<void>((r) => (markStarted = r)));
      const follow = first === 0 && i < 12;
      replays.push(
        replayRun(fixture.run, {
          url: order,
          token: athlete.token,
          profile,
          conditions,
          runId: `cluster-${i}`,
          speed: Math.max(1, durationS / RUN_WALL_S),
          batchSize: 30,
          onStarted: (client) => {
            const id = client.run!.id;
            (follow ? startFollower(athlete.token, id, fixture) : Promise.resolve()).then(markStarted, markStarted);
          },
        }),
      );
    }
    await Promise.all(started);
    expect(followers.length).toBeGreaterThan(0);

    // Mid-run: SIGKILL one process. Its watches move on; the others refuse them until the leases lapse.
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
    const killedAt = Date.now();
    await killHard(procs[victim]!);
    const results = await Promise.all(replays);
    const wallS = (Date.now() - killedAt) / 1000;

    const survivor = urls[0]!;
    for (let i = 0; i < RUNS; i++) {
      const r = results[i]!;
      const fixture = fixtures[i % fixtures.length]!;
      const athlete = athletes[i % athletes.length]!;
      const label = `run ${i} (${fixture.name}, client ${JSON.stringify(r.client.stats)})`;
      expect(r.alerts.map(alertKey), label).toEqual(fixture.keys);
      expect(r.report.alerts.map(alertKey), label).toEqual(fixture.keys);
      // Every sample stored once, in order.
      const stored = await api(survivor, 'GET', `/api/runs/${r.id}/samples?fields=t`, { token: athlete.token });
      expect(stored.status, label).toBe(200);
      expect(stored.body.columns.t, label).toEqual(Array.from(fixture.run.samples.t));
    }
    // The stored alert log (what a watch that resumes is given): each alert once.
    const logCheck = new WatchClient({ url: survivor, token: athletes[0]!.token });
    try {
      for (let i = 0; i < RUNS; i += athletes.length) {
        const r = results[i]!;
        const ack = await logCheck.socket.emitWithAck('follow', { runId: r.id });
        if (!ack.ok) throw new Error(`follow ${r.id}: ${ack.error.code}`);
        expect(ack.status).toBe('ended');
        expect(ack.alerts.map(alertKey), `alert log of run ${i}`).toEqual(fixtures[i % fixtures.length]!.keys);
      }
    } finally {
      logCheck.close();
    }

    // The killed process's watches moved, were refused while its leases lived, then resumed elsewhere.
    const moved = results.filter((r) => r.client.stats.failovers > 0);
    const startedOnVictim = results.filter((_, i) => i % 3 === victim);
    expect(moved.length).toBeGreaterThanOrEqual(startedOnVictim.length);
    const rebuilt = procs.slice(0, 2).flatMap((p) => p.logs.filter((l) => l.msg === 'live run rebuilt from the store'));
    expect(rebuilt.length).toBeGreaterThanOrEqual(startedOnVictim.filter((r) => r.client.stats.failovers > 0).length);
    // One owner per run throughout: no surviving process found its lease taken by another.
    const stolen = procs.slice(0, 2).flatMap((p) => p.logs.filter((l) => String(l.msg).startsWith('run lease lost') && l.reason === 'another process holds it'));
    expect(stolen).toEqual([]);

    // Dashboards on process 1 saw every sample and alert of runs whose engines lived in process 0.
    await new Promise((r) => setTimeout(r, 300));
    for (const f of followers) {
      // From the first batch it saw (the watch's first one may go out before the dashboard follows) to the end.
      const ts = Array.from(f.fixture.run.samples.t);
      const from = Math.min(...f.samples);
      expect(ts.indexOf(from), `follower of ${f.fixture.name}`).toBeLessThan(60);
      expect(f.samples.size, `follower of ${f.fixture.name}`).toBe(ts.filter((t) => t >= from).length);
      expect(f.risk, `follower of ${f.fixture.name}`).toBeGreaterThan(0);
      expect([...new Set(f.alerts)].sort(), `follower of ${f.fixture.name}`).toEqual([...new Set(f.fixture.keys)].sort());
      f.client.close();
    }

    // Uploads: analysed by whichever process receives them. Each by a fresh athlete: the server merges what the
    // athlete model learned from an athlete's earlier runs into the analysis, so an athlete of the live runs
    // above (or of the other upload) would not be analysed under `profile` alone.
    const upload = fixtures.find((f) => f.name === 'fast-start-easy.fit')!;
    for (const [k, url] of urls.slice(0, 2).entries()) {
      const uploader = await newAthlete(url, `Uploader ${k}`, profile);
      const res = await api(url, 'POST', '/api/runs?temp=28&humidity=60', {
        token: uploader.token,
        body: readFileSync(join(SCENARIOS, upload.name)),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect([200, 201]).toContain(res.status);
      expect(res.body.report.alerts.map(alertKey)).toEqual(upload.keys);
    }
    console.log(
      `tests/cluster/failover: ${RUNS} runs, ${moved.length} moved process, ` +
        `${results.reduce((n, r) => n + r.client.stats.elsewhere, 0)} RUN_ELSEWHERE refusals, ${rebuilt.length} engines rebuilt, ` +
        `finished ${wallS.toFixed(1)} s after the kill`,
    );
  }, 180_000);
});
