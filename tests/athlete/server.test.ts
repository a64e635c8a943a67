/**
 * The athlete model through the real server (SQLite and, with TEST_DATABASE_URL, PostgreSQL): uploads teach it,
 * the profile it serves says where each value came from, a cramp logged against a run gets that run's context,
 * two of them make the next report's thresholds personal, a live run and an upload at the same moment use the
 * same model, and re-analysis runs in the background with progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate, run } from '../../src/sim/simulate.js';
import { writeFit } from '../../src/sim/write-fit.js';
import { WatchClient } from '../../src/wire/client.js';
import { api, newAthlete, postgresBackend, sqliteBackend, startTestServer, type Backend, type TestServer } from '../server/helpers.js';
import { historyConfigs, LONG_MPS } from './history.js';

const CONDITIONS = '?temp=12&humidity=60';

async function upload(server: TestServer, token: string, bytes: Uint8Array): Promise<{ id: string; report: Record<string, any> }> {
  const r = await api(server.url, 'POST', `/api/runs${CONDITIONS}`, { token, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  if (r.status !== 201) throw new Error(`upload: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function waitForJob(server: TestServer, token: string, id: string): Promise<Record<string, any>> {
  for (;;) {
    const r = await api(server.url, 'GET', `/api/reanalyze/${id}`, { token });
    expect(r.status).toBe(200);
    if (r.body.status !== 'running') return r.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function suite(backend: Backend): void {
  describe.skipIf(backend.skip !== null)(`athlete model on ${backend.name}`, () => {
    let server: TestServer;
    let token: string;
    const ids: Record<'long' | 'easy' | 'tempo' | 'intervals', string[]> = { long: [], easy: [], tempo: [], intervals: [] };

    beforeAll(async () => {
      server = await startTestServer(backend);
      ({ token } = await newAthlete(server.url, 'Learner', { massKg: 68 }));
      for (const h of historyConfigs(3)) {
        const stored = await upload(server, token, writeFit(simulate(h.config)));
        ids[h.kind].push(stored.id);
      }
    }, 120_000);
    afterAll(async () => {
      await server?.drop();
    });

    it('learns from the uploads and says where each value comes from', async () => {
      const r = await api(server.url, 'GET', '/api/athletes/me/model', { token });
      expect(r.status).toBe(200);
      const { model, profile, sources } = r.body;
      expect(model.runs).toBe(12);
      expect(sources.massKg).toEqual({ source: 'typed' });
      expect(sources.usualLongRunMin).toEqual({ source: 'learned', note: expect.stringMatching(/^learned from [34] runs since \d+ Aug$/) });
      expect(sources.hrMax.source).toBe('learned');
      expect(sources.sweatSodiumMmolPerL).toEqual({ source: 'assumed' });
      expect(profile.usualLongRunMin).toBe(model.usualLongRunMin.value);
      expect(profile.learned.hrMax).toBe(sources.hrMax.note);
      // The last upload was analysed with the model of the 11 runs before it.
      const last = await api(server.url, 'GET', `/api/runs/${ids.long.at(-1)}`, { token });
      expect(last.body.report.athleteModel).toMatchObject({ version: model.version, runs: 11 });
    });

    it('a cramp logged against a run and a time gets that run\'s context; two make the next report personal', async () => {
      const contexts = [];
      for (const runId of ids.long.slice(-2)) {
        const r = await api(server.url, 'POST', '/api/cramps', { token, json: { runId, t: 5400, muscle: 'calf', severity: 3 } });
        expect(r.status).toBe(201);
        contexts.push(r.body.context);
      }
      for (const c of contexts) {
        expect(c).toMatchObject({ t: 5400, muscle: 'calf', severity: 3 });
        expect(c.shareOfUsualLongRun).toBeGreaterThan(0.8);
        expect(Number.isFinite(c.decouplingPct)).toBe(true);
        expect(c.fluidDeficitMl).toBeGreaterThan(0);
        expect(c.intensity).toBeGreaterThan(0.4);
      }
      // Not against a run: stored as before, with no context.
      const loose = await api(server.url, 'POST', '/api/cramps', { token, json: { muscle: 'foot', severity: 1 } });
      expect(loose.body.context).toEqual({});
      const next = simulate({ seed: 777, startTime: '2026-08-29T07:00:00Z', tempC: 12, humidity: 60, plan: [run(100, LONG_MPS)] });
      const stored = await upload(server, token, writeFit(next));
      expect(stored.report.personal).toMatch(/^your last 2 cramps came after 1 h 30/);
    });

    it('a live run and an upload at the same moment use the same model version', async () => {
      const now = (await api(server.url, 'GET', '/api/athletes/me/model', { token })).body.model;
      const watch = new WatchClient({ url: server.url, token, batchSize: 60 });
      const ack = await watch.start({ runId: `same-model-${Date.now()}`, startTime: Date.parse('2026-08-30T07:00:00Z') });
      const upl = await upload(server, token, writeFit(simulate({ seed: 778, startTime: '2026-08-31T07:00:00Z', tempC: 12, humidity: 60, plan: [run(30, 3)] })));
      for (let t = 0; t < 600; t++) watch.addSample({ t, hr: 140, speed: 3, cadence: 168 });
      const report = await watch.end();
      watch.close();
      const stamp = { version: now.version, key: now.key, runs: now.runs };
      expect(upl.report.athleteModel).toEqual(stamp);
      expect(report.athleteModel).toEqual(stamp);
      expect((ack as { settings?: { profile?: unknown } }).settings?.profile).toMatchObject({ usualLongRunMin: now.usualLongRunMin.value });
      // The live run teaches the model too once it ended.
      const after = (await api(server.url, 'GET', '/api/athletes/me/model', { token })).body.model;
      expect(after.runs).toBe(now.runs + 2);
    });

    it('re-analyses every run in the background with progress, each report recording the model it used', async () => {
      const started = await api(server.url, 'POST', '/api/reanalyze', { token });
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ status: 'running', done: 0 });
      expect(started.headers.get('location')).toBe(`/api/reanalyze/${started.body.id}`);
      const job = await waitForJob(server, token, started.body.id);
      expect(job).toMatchObject({ status: 'done', failed: 0, error: null });
      expect(job.done).toBe(job.total);
      expect(job.total).toBe(15);
      const model = (await api(server.url, 'GET', '/api/athletes/me/model', { token })).body.model;
      expect(job.model).toEqual({ version: model.version, key: model.key, runs: model.runs });
      const first = await api(server.url, 'GET', `/api/runs/${ids.long[0]}`, { token });
      expect(first.body.report.athleteModel).toEqual(job.model);
      // Another athlete sees no such job.
      const other = await newAthlete(server.url, 'Other');
      expect((await api(server.url, 'GET', `/api/reanalyze/${job.id}`, { token: other.token })).status).toBe(404);
    });
  });
}

suite(sqliteBackend);
suite(postgresBackend);
