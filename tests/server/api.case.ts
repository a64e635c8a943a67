// The REST API contract, run against each store backend (api.sqlite.test.ts, api.postgres.test.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFitSync } from '../../ingest/fit.js';
import { api, newAthlete, SCENARIOS, startTestServer, type Backend, type TestServer } from './helpers.js';

export function runApiSuite(backend: Backend): void {
  describe.skipIf(backend.skip !== null)(`REST API on ${backend.name}`, () => {
    let server: TestServer;
    let base: string;
    const fit = readFileSync(join(SCENARIOS, 'fast-start-easy.fit'));
    const otherFit = readFileSync(join(SCENARIOS, 'easy-45-cool.fit'));

    beforeAll(async () => {
      server = await startTestServer(backend);
      base = server.url;
    });
    afterAll(async () => {
      await server?.drop();
    });

    it('answers health, metrics and the OpenAPI document', async () => {
      const health = await api(base, 'GET', '/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ ok: true, store: backend.name });
      const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
      for (const name of ['crampguard_live_runs', 'crampguard_samples_per_second', 'crampguard_prompts_total{kind="slow_down"}', 'crampguard_upload_duration_seconds_bucket', 'crampguard_event_loop_lag_seconds']) {
        expect(metrics).toContain(name);
      }
      const doc = await api(base, 'GET', '/api/openapi.json');
      expect(doc.body.openapi).toBe('3.1.0');
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/athletes', '/api/runs', '/api/runs/{id}/samples', '/api/cramps']));
      // Request schemas come from the zod schemas: the profile's limits are there, and every $ref resolves.
      expect(doc.body.components.schemas.Profile.properties.hrMax.maximum).toBe(240);
      const refs = JSON.stringify(doc.body).match(/"#\/components\/schemas\/[A-Za-z]+"/g) ?? [];
      for (const ref of refs) expect(doc.body.components.schemas).toHaveProperty(ref.slice(22, -1));
      // The page renders the document with its own same-origin script (tests/dashboard/api-docs.browser.test.ts
      // reads it in Chromium).
      const page = await fetch(`${base}/api/docs`).then((r) => r.text());
      expect(page).toContain('<script src="/api/docs.js">');
      const script = await fetch(`${base}/api/docs.js`).then((r) => r.text());
      expect(script).toContain('/api/openapi.json');
    });

    it('creates athletes with a token shown once and guards every call with it', async () => {
      const created = await api(base, 'POST', '/api/athletes', { json: { name: 'Kip', profile: { hrMax: 190, massKg: 60 } } });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/.{20,}/);
      const token = created.body.token as string;
      expect((await api(base, 'GET', '/api/athletes/me')).body.error.code).toBe('UNAUTHENTICATED');
      expect((await api(base, 'GET', '/api/athletes/me', { token: 'cg_not-a-real-token-at-all' })).status).toBe(401);
      const me = await api(base, 'GET', '/api/athletes/me', { token });
      expect(me.body).toMatchObject({ id: created.body.id, name: 'Kip', profile: { hrMax: 190, massKg: 60 } });
      expect(JSON.stringify(me.body)).not.toContain(token);

      const put = await api(base, 'PUT', '/api/athletes/me', { token, json: { profile: { hrMax: 185, hrRest: 48 } } });
      expect(put.status).toBe(200);
      expect((await api(base, 'GET', '/api/athletes/me', { token })).body.profile).toEqual({ hrMax: 185, hrRest: 48 });

      for (const bad of [{}, { name: '' }, { name: 'x', profile: { hrMax: 'high' } }, { name: 'x', extra: 1 }]) {
        const r = await api(base, 'POST', '/api/athletes', { json: bad });
        expect(r.status, JSON.stringify(bad)).toBe(400);
        expect(r.body.error.code).toBe('BAD_REQUEST');
      }
      const badProfile = await api(base, 'PUT', '/api/athletes/me', { token, json: { profile: { hrRest: 100, hrMax: 90 } } });
      expect(badProfile.status).toBe(400);
      const notJson = await api(base, 'POST', '/api/athletes', { body: '{"name":', headers: { 'content-type': 'application/json' } });
      expect(notJson.status).toBe(400);
      expect(notJson.body.error.code).toBe('BAD_JSON');
    });

    it('uploads a FIT file as raw bytes or multipart, idempotently, and serves its report and samples', async () => {
      const { token } = await newAthlete(base, 'Uploader');
      const up = await api(base, 'POST', '/api/runs?temp=16&humidity=50', {
        token,
        body: fit,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(up.status).toBe(201);
      expect(up.body.report.ok).toBe(true);
      expect(up.body.report.durationS).toBeGreaterThan(600);
      const again = await api(base, 'POST', '/api/runs', { token, body: fit, headers: { 'content-type': 'application/octet-stream' } });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(up.body.id);

      const form = new FormData();
      form.append('file', new Blob([fit]), 'fast-start-easy.fit');
      const multi = await api(base, 'POST', '/api/runs', { token, body: form });
      expect(multi.status).toBe(200);
      expect(multi.body.id).toBe(up.body.id);
      const form2 = new FormData();
      form2.append('file', new Blob([otherFit]), 'steady.fit');
      const second = await api(base, 'POST', '/api/runs', { token, body: form2 });
      expect(second.status).toBe(201);
      expect(second.body.id).not.toBe(up.body.id);

      const got = await api(base, 'GET', `/api/runs/${up.body.id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body.report).toEqual(up.body.report);

      const page1 = await api(base, 'GET', '/api/runs?limit=1', { token });
      expect(page1.body.runs).toHaveLength(1);
      expect(page1.body.next).toBeTruthy();
      const page2 = await api(base, 'GET', `/api/runs?limit=1&before=${encodeURIComponent(page1.body.next)}`, { token });
      expect(page2.body.runs).toHaveLength(1);
      expect(page2.body.runs[0].id).not.toBe(page1.body.runs[0].id);

      const full = await api(base, 'GET', `/api/runs/${up.body.id}/samples?fields=t,hr`, { token });
      expect(Object.keys(full.body.columns)).toEqual(['t', 'hr']);
      expect(full.body.length).toBeGreaterThan(500);
      const small = await api(base, 'GET', `/api/runs/${up.body.id}/samples?maxPoints=100`, { token });
      expect(small.body.downsampled).toBe(true);
      expect(small.body.columns.hr).toHaveLength(100);
      expect(small.body.columns.t[0]).toBe(full.body.columns.t[0]);

      expect((await api(base, 'DELETE', `/api/runs/${second.body.id}`, { token })).status).toBe(204);
      expect((await api(base, 'GET', `/api/runs/${second.body.id}`, { token })).status).toBe(404);
      expect((await api(base, 'DELETE', `/api/runs/${second.body.id}`, { token })).status).toBe(404);
    });

    it('refuses bad uploads with a code and stores nothing', async () => {
      const { token } = await newAthlete(base, 'Careless');
      const corrupt = Buffer.from(fit);
      corrupt[corrupt.length - 200] = corrupt[corrupt.length - 200]! ^ 0xff; // CRC no longer matches
      const truncatedHeader = fit.subarray(0, 10);
      const cases: Array<[string, Buffer | string, string, number[]]> = [
        ['corrupt', corrupt, 'application/octet-stream', [400]],
        ['truncated header', truncatedHeader, 'application/octet-stream', [400, 415]],
        ['not FIT', Buffer.from('this is a text file, not a FIT activity at all'.repeat(4)), 'application/octet-stream', [400, 415]],
        ['empty', Buffer.alloc(0), 'application/octet-stream', [400]],
        ['JSON body', '{"a":1}', 'application/json', [415]],
      ];
      for (const [what, body, type, statuses] of cases) {
        const r = await api(base, 'POST', '/api/runs', { token, body, headers: { 'content-type': type } });
        expect(statuses, `${what}: ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
        expect(r.body.error.code, what).toMatch(/^[A-Z_]+$/);
        expect(r.body.error.message, what).not.toMatch(/\n|at .*\.js/);
      }
      const form = new FormData();
      form.append('other', new Blob([fit]), 'x.fit');
      const wrongField = await api(base, 'POST', '/api/runs', { token, body: form });
      expect(wrongField.status).toBe(400);
      expect((await api(base, 'GET', '/api/runs', { token })).body.runs).toEqual([]);
      const badQuery = await api(base, 'POST', '/api/runs?temp=hot', { token, body: fit, headers: { 'content-type': 'application/octet-stream' } });
      expect(badQuery.status).toBe(400);
      expect((await api(base, 'GET', '/api/runs', { token })).body.runs).toEqual([]);
    });

    it('keeps athletes apart: another athlete\'s run answers 404', async () => {
      const a = await newAthlete(base, 'A');
      const b = await newAthlete(base, 'B');
      const up = await api(base, 'POST', '/api/runs', { token: a.token, body: otherFit, headers: { 'content-type': 'application/octet-stream' } });
      expect(up.status).toBe(201);
      for (const [method, path] of [['GET', ''], ['GET', '/samples'], ['DELETE', '']] as const) {
        const r = await api(base, method, `/api/runs/${up.body.id}${path}`, { token: b.token });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.error.code).toBe('NOT_FOUND');
      }
      expect((await api(base, 'GET', '/api/runs', { token: b.token })).body.runs).toEqual([]);
      const cramp = await api(base, 'POST', '/api/cramps', { token: b.token, json: { runId: up.body.id, muscle: 'calf', severity: 3 } });
      expect(cramp.status).toBe(404);
      // B uploading the same bytes gets a run of its own.
      const mine = await api(base, 'POST', '/api/runs', { token: b.token, body: otherFit, headers: { 'content-type': 'application/octet-stream' } });
      expect(mine.status).toBe(201);
      expect(mine.body.id).not.toBe(up.body.id);
      expect((await api(base, 'GET', `/api/runs/${up.body.id}`, { token: a.token })).status).toBe(200);
    });

    it('keeps a cramp journal', async () => {
      const { token } = await newAthlete(base, 'Crampy');
      const up = await api(base, 'POST', '/api/runs', { token, body: fit, headers: { 'content-type': 'application/octet-stream' } });
      const c = await api(base, 'POST', '/api/cramps', { token, json: { runId: up.body.id, t: 1800, muscle: 'calf', severity: 4, note: 'left calf, downhill' } });
      expect(c.status).toBe(201);
      expect(c.body).toMatchObject({ runId: up.body.id, t: 1800, muscle: 'calf', severity: 4 });
      const c2 = await api(base, 'POST', '/api/cramps', { token, json: { muscle: 'hamstring', severity: 2 } });
      expect(c2.status).toBe(201);
      const list = await api(base, 'GET', '/api/cramps', { token });
      expect(list.body.cramps.map((x: { muscle: string }) => x.muscle).sort()).toEqual(['calf', 'hamstring']);
      for (const bad of [{ muscle: 'calf', severity: 9 }, { severity: 2 }, { muscle: 'calf', severity: 2, t: -5 }]) {
        expect((await api(base, 'POST', '/api/cramps', { token, json: bad })).status, JSON.stringify(bad)).toBe(400);
      }
      expect((await api(base, 'POST', '/api/cramps', { token, json: { runId: 'nope', muscle: 'calf', severity: 1 } })).status).toBe(404);
    });

    it('shows a run\'s laps, pauses and events, and each list item its prompt count and peak risk', async () => {
      const { token } = await newAthlete(base, 'Lapper');
      const bytes = readFileSync(join(SCENARIOS, 'pause-mid-run.fit'));
      const decoded = decodeFitSync(bytes);
      expect(decoded.meta.pauses.length).toBeGreaterThan(0);
      expect(decoded.meta.laps.length).toBeGreaterThan(1);
      const up = await api(base, 'POST', '/api/runs?temp=24', { token, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      expect(up.status).toBe(201);
      const got = await api(base, 'GET', `/api/runs/${up.body.id}`, { token });
      expect(got.body.laps).toEqual(decoded.meta.laps);
      expect(got.body.pauses).toEqual(decoded.meta.pauses);
      expect(got.body.events).toEqual(decoded.events);
      expect(got.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['pause', 'resume', 'lap']));
      // The report carries the fluid-deficit series the run page charts.
      expect(got.body.report.fluid.length).toBe(got.body.report.risk.length);

      const race = readFileSync(join(SCENARIOS, 'race-10k-fast-start.fit'));
      await api(base, 'POST', '/api/runs', { token, body: race, headers: { 'content-type': 'application/octet-stream' } });
      const list = await api(base, 'GET', '/api/runs', { token });
      expect(list.body.runs).toHaveLength(2);
      for (const item of list.body.runs) {
        const { report } = (await api(base, 'GET', `/api/runs/${item.id}`, { token })).body;
        expect(item.prompts).toBe(report.alerts.length);
        expect(item.peakRisk).toBe(Math.max(...report.risk.map((p: { score: number }) => p.score)));
        expect(item.durationS).toBe(report.durationS);
      }
      expect(list.body.runs.some((r: { prompts: number }) => r.prompts > 0)).toBe(true);
      const doc = await api(base, 'GET', '/api/openapi.json');
      expect(Object.keys(doc.body.components.schemas.RunSummary.properties)).toEqual(expect.arrayContaining(['prompts', 'peakRisk']));
    });

    it('lists runs from their stored summaries with the fields and values the reports give', async () => {
      const { id: athleteId, token } = await newAthlete(base, 'Lister');
      const names = new Map<string, string>();
      for (const file of ['race-10k-fast-start.fit', 'hot-long-drift.fit', 'salty-sweater-hot.fit']) {
        const form = new FormData();
        form.append('file', new Blob([readFileSync(join(SCENARIOS, file))]), file);
        const up = await api(base, 'POST', '/api/runs?temp=27&humidity=70', { token, body: form });
        expect(up.status).toBe(201);
        names.set(up.body.id, file);
      }
      // Live runs as the watch path leaves them: one still going, one ended with its report.
      const [firstId] = names.keys();
      const { report: firstReport } = (await api(base, 'GET', `/api/runs/${firstId}`, { token })).body;
      const ended = await server.store.startLiveRun(athleteId, { clientRunId: 'list-ended', startTime: '2026-05-02T06:00:00.000Z' });
      await server.store.endLiveRun(athleteId, ended.run.id, { report: firstReport });
      await server.store.startLiveRun(athleteId, { clientRunId: 'list-going' });

      const list = await api(base, 'GET', '/api/runs?limit=50', { token });
      expect(list.status).toBe(200);
      expect(Object.keys(list.body)).toEqual(['runs', 'next']);
      expect(list.body.next).toBeNull();
      expect(list.body.runs).toHaveLength(5);
      for (const item of list.body.runs) {
        // The same keys in the same order as before the summaries carried the highlights.
        expect(Object.keys(item)).toEqual(['id', 'source', 'status', 'name', 'startTime', 'createdAt', 'endedAt', 'sampleCount', 'durationS', 'distanceM', 'prompts', 'peakRisk', 'sport', 'paceSPerKm']);
        const run = (await api(base, 'GET', `/api/runs/${item.id}`, { token })).body;
        const samples = (await api(base, 'GET', `/api/runs/${item.id}/samples?fields=t`, { token })).body;
        // What the list used to compute from each ended run's report.
        const report = run.status === 'ended' ? run.report : null;
        let peak: number | null = null;
        for (const p of report?.risk ?? []) if (Number.isFinite(p.score) && (peak === null || p.score > peak)) peak = p.score;
        expect(item).toEqual({
          id: run.id,
          source: run.source,
          status: run.status,
          name: names.get(run.id) ?? null,
          startTime: run.startTime,
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          endedAt: run.status === 'ended' ? expect.stringMatching(/Z$/) : null,
          sampleCount: samples.length,
          durationS: report ? report.durationS : null,
          distanceM: report ? report.distanceM : null,
          prompts: report ? report.alerts.length : null,
          peakRisk: peak,
          sport: report ? report.sport : null,
          paceSPerKm: report ? (report.metrics.avgPaceSPerKm ?? report.movingTimeS / (report.distanceM / 1000)) : null,
        });
      }
      expect(list.body.runs.filter((r: { prompts: number | null }) => (r.prompts ?? 0) > 0).length).toBeGreaterThanOrEqual(2);
      // Pages and the status filter give the same items.
      const ended2 = await api(base, 'GET', '/api/runs?status=ended&limit=2', { token });
      const rest = await api(base, 'GET', `/api/runs?status=ended&limit=2&before=${encodeURIComponent(ended2.body.next)}`, { token });
      expect([...ended2.body.runs, ...rest.body.runs]).toEqual(list.body.runs.filter((r: { status: string }) => r.status === 'ended'));
    });

    it('serves index.html uncached and hashed assets as immutable', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cg-dash-'));
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><script src="./assets/index-AbC12_x9.js"></script>');
      writeFileSync(join(dir, 'assets', 'index-AbC12_x9.js'), 'console.log(1)');
      writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
      const dash = await startTestServer(backend, { DASHBOARD_DIR: dir });
      try {
        for (const path of ['/', '/index.html']) {
          const r = await fetch(dash.url + path);
          expect(r.status, path).toBe(200);
          expect(r.headers.get('cache-control'), path).toBe('no-cache');
        }
        const asset = await fetch(`${dash.url}/assets/index-AbC12_x9.js`);
        expect(asset.status).toBe(200);
        expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        const other = await fetch(`${dash.url}/favicon.svg`);
        expect(other.headers.get('cache-control')).toBe('public, max-age=3600');
      } finally {
        await dash.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('answers unknown endpoints with a coded 404', async () => {
      const r = await api(base, 'GET', '/api/nothing-here');
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    });
  });
}
