// The run page's API, the exports, same-activity duplicates and the run list's order, on each store backend
// (run-page.sqlite.test.ts, run-page.postgres.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFitSync } from '../../ingest/fit.js';
import { decodeGpxText } from '../../ingest/gpx.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { exportRun } from '../../src/export/run.js';
import { api, newAthlete, SCENARIOS, startTestServer, type Backend, type TestServer } from './helpers.js';

const octet = { 'content-type': 'application/octet-stream' };
const fixture = (name: string) => readFileSync(join(SCENARIOS, name));
const decode = (bytes: Uint8Array) => decodeFitSync(new Uint8Array(bytes));

/** The same activity in other bytes: what another app's re-export gives (same start, same samples). */
function reExported(run: NormalizedRun): Uint8Array {
  return exportRun({ name: null, startTime: run.meta.startTime, meta: run.meta, samples: run.samples, report: null }, 'fit').body as Uint8Array;
}

/** A scenario run with a GPS track laid on it (a loop), written as FIT: a run whose samples carry lat/lon. */
function withTrack(run: NormalizedRun): Uint8Array {
  const n = run.samples.length;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    lat[i] = 47.3769 + 0.01 * Math.sin(a);
    lon[i] = 8.5417 + 0.015 * Math.cos(a);
  }
  const samples = { ...run.samples, lat, lon };
  return exportRun({ name: null, startTime: run.meta.startTime, meta: run.meta, samples, report: null }, 'fit').body as Uint8Array;
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number');
  return v.reduce((a, b) => a + b, 0) / v.length;
};

export function runRunPageSuite(backend: Backend): void {
  describe.skipIf(backend.skip !== null)(`run page, exports and duplicates on ${backend.name}`, () => {
    let server: TestServer;
    let base: string;

    beforeAll(async () => {
      server = await startTestServer(backend, { UPLOAD_LIMIT_MB: '20', MAP_TILE_URL: 'https://tiles.example.org/{z}/{x}/{y}.png' });
      base = server.url;
    });
    afterAll(async () => {
      await server?.drop();
    });

    it('serves the upload limit and the map tiles the page must use, and lets the page load those tiles', async () => {
      const config = await api(base, 'GET', '/api/config');
      expect(config.status).toBe(200);
      expect(config.body).toEqual({
        uploadLimitBytes: 20 * 1024 * 1024,
        mapTileUrl: 'https://tiles.example.org/{z}/{x}/{y}.png',
        mapAttribution: 'Map tiles: https://tiles.example.org',
      });
      const csp = (await fetch(`${base}/`)).headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/img-src 'self' data: https:\/\/tiles\.example\.org/);
      // Over the limit the server says 413 with the same number.
      const { token } = await newAthlete(base, 'Big');
      const big = await api(base, 'POST', '/api/runs', { token, body: Buffer.alloc(20 * 1024 * 1024 + 1), headers: octet });
      expect(big.status).toBe(413);
    });

    it('returns the run page summary: the report\'s numbers, the rest from the samples, laps and splits', async () => {
      const { token } = await newAthlete(base, 'Summary');
      const up = await api(base, 'POST', '/api/runs?temp=24', { token, body: fixture('pause-mid-run.fit'), headers: octet });
      expect(up.status).toBe(201);
      const run = (await api(base, 'GET', `/api/runs/${up.body.id}`, { token })).body;
      const cols = (await api(base, 'GET', `/api/runs/${up.body.id}/samples?fields=t,hr,cadence,distance,altitude`, { token })).body.columns;
      const s = run.summary;
      const r = run.report;
      expect(s).toMatchObject({ sport: 'running', distanceM: r.distanceM, durationS: r.durationS, movingTimeS: r.movingTimeS, device: 'development 1' });
      expect(s.weather).toEqual({ tempC: 24, tempSource: 'given', humidity: 50, humiditySource: 'assumed' });
      expect(s.avgPaceSPerKm).toBeCloseTo(r.metrics.avgPaceSPerKm ?? r.movingTimeS / (r.distanceM / 1000), 0);
      expect(s.avgHr).toBeCloseTo(r.metrics.avgHr ?? mean(cols.hr), 0);
      expect(s.maxHr).toBe(r.metrics.maxHr ?? Math.max(...cols.hr.filter((v: number | null) => v !== null)));
      expect(s.avgCadence).toBeCloseTo(mean(cols.cadence.filter((v: number | null) => v !== null && v > 0)), 0);
      expect(s.elevationGainM).toBeGreaterThanOrEqual(0);
      // Per-km splits add up to the distance.
      const km = s.splits.km as { distanceM: number; paceSPerKm: number; movingTimeS: number }[];
      expect(km.length).toBe(Math.ceil(r.distanceM / 1000));
      expect(km.reduce((d, x) => d + x.distanceM, 0)).toBeCloseTo(cols.distance.at(-1) - cols.distance[0], -1);
      // The marks fall between 1 Hz records: a split is a kilometre to within a second's running.
      for (const split of km.slice(0, -1)) expect(Math.abs(split.distanceM - 1000)).toBeLessThan(10);
      expect(s.splits.mi.length).toBe(Math.ceil(r.distanceM / 1609.344));
      // The pause is not moving time: the splits' moving time adds up to the run's.
      expect(km.reduce((t, x) => t + x.movingTimeS, 0)).toBeLessThan(r.durationS - 60);
      // One row per lap from the file.
      expect(s.laps.map((l: { startT: number }) => l.startT)).toEqual(run.laps.map((l: { startT: number }) => l.startT));
      // What a replay sends again (the dashboard simulator): the weather and session kind the report used, the legs.
      expect(run.conditions).toEqual({ tempC: 24 });
      expect(run.sessionKind).toBeNull();
      expect(run.legs).toEqual([{ sport: 'running', subSport: expect.anything(), startT: expect.any(Number), endT: expect.any(Number), running: true }]);
    });

    it('refuses the same activity in other bytes with 409 DUPLICATE_RUN and the stored run\'s id; identical bytes still answer 200', async () => {
      const { token } = await newAthlete(base, 'Twice');
      const bytes = fixture('tempo-30.fit');
      const first = await api(base, 'POST', '/api/runs', { token, body: bytes, headers: octet });
      expect(first.status).toBe(201);
      const same = await api(base, 'POST', '/api/runs', { token, body: bytes, headers: octet });
      expect(same.status).toBe(200);
      expect(same.body.id).toBe(first.body.id);

      const copy = reExported(decode(bytes));
      expect(Buffer.from(copy).equals(bytes)).toBe(false);
      const dup = await api(base, 'POST', '/api/runs', { token, body: copy, headers: octet });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ error: { code: 'DUPLICATE_RUN', message: expect.stringContaining(first.body.id) }, id: first.body.id });
      // As a multipart upload from the dashboard too.
      const form = new FormData();
      form.append('file', new Blob([copy]), 'copy.fit');
      expect((await api(base, 'POST', '/api/runs', { token, body: form })).status).toBe(409);
      // Stored once; another athlete's copy and another activity are new runs.
      expect((await api(base, 'GET', '/api/runs', { token })).body.runs).toHaveLength(1);
      const other = await newAthlete(base, 'Other');
      expect((await api(base, 'POST', '/api/runs', { token: other.token, body: copy, headers: octet })).status).toBe(201);
      expect((await api(base, 'POST', '/api/runs', { token, body: fixture('hr-surge.fit'), headers: octet })).status).toBe(201);
    });

    it('lists runs by their own start with sport and pace; a replay of a stored run is not listed again', async () => {
      const { id: athleteId, token } = await newAthlete(base, 'Order');
      // Uploaded in an order unlike their dates.
      const files = ['hilly-easy.fit', 'easy-45-cool.fit', 'hot-short-30.fit'];
      const ids = new Map<string, string>();
      for (const f of files) ids.set(f, (await api(base, 'POST', '/api/runs', { token, body: fixture(f), headers: octet })).body.id);
      const list = (await api(base, 'GET', '/api/runs', { token })).body.runs as { id: string; startTime: string; sport: string; paceSPerKm: number }[];
      expect(list.map((r) => r.id)).toEqual([ids.get('hot-short-30.fit'), ids.get('hilly-easy.fit'), ids.get('easy-45-cool.fit')]);
      for (const item of list) {
        expect(item.sport).toBe('running');
        const { report } = (await api(base, 'GET', `/api/runs/${item.id}`, { token })).body;
        expect(item.paceSPerKm).toBeCloseTo(report.metrics.avgPaceSPerKm ?? report.movingTimeS / (report.distanceM / 1000), 3);
      }
      // A replay (the CLI's or the simulator's) starts at the stored run's start.
      const hilly = list[1]!;
      const replay = await server.store.startLiveRun(athleteId, { clientRunId: 'replay-of-hilly', startTime: hilly.startTime });
      expect((await api(base, 'GET', '/api/runs', { token })).body.runs.map((r: { id: string }) => r.id)).toEqual(list.map((r) => r.id));
      expect((await api(base, 'GET', '/api/runs?status=live', { token })).body.runs.map((r: { id: string }) => r.id)).toEqual([replay.run.id]);
      expect((await api(base, 'GET', `/api/runs/${replay.run.id}`, { token })).body.replayOf).toBe(hilly.id);
      // A replay is a copy, not a recording: with the original deleted, the file may be uploaded again.
      expect((await api(base, 'DELETE', `/api/runs/${hilly.id}`, { token })).status).toBe(204);
      const again = await api(base, 'POST', '/api/runs', { token, body: fixture('hilly-easy.fit'), headers: octet });
      expect(again.status).toBe(201);
    });

    it('exports a run as FIT, GPX and CSV and its report as JSON, each decoding back to the stored run', async () => {
      const { token } = await newAthlete(base, 'Exporter');
      const original = decode(fixture('progression-run.fit'));
      const up = await api(base, 'POST', '/api/runs', { token, body: withTrack(original), headers: octet });
      expect(up.status).toBe(201);
      const id = up.body.id as string;
      const stored = (await api(base, 'GET', `/api/runs/${id}/samples?fields=t,hr,lat,lon`, { token })).body;
      expect(stored.columns.lat?.length, 'the samples endpoint returns the positions').toBe(stored.length);

      const get = (format: string) => fetch(`${base}/api/runs/${id}/export?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
      const fit = await get('fit');
      expect(fit.status).toBe(200);
      expect(fit.headers.get('content-type')).toMatch(/application\/vnd\.ant\.fit/);
      expect(fit.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.fit"$/);
      const fromFit = decode(new Uint8Array(await fit.arrayBuffer()));
      expect(fromFit.samples.length).toBe(stored.length);
      expect(Array.from(fromFit.samples.t)).toEqual(stored.columns.t);
      expect(Array.from(fromFit.samples.hr, (v) => (Number.isNaN(v) ? null : v))).toEqual(stored.columns.hr);

      const gpx = await get('gpx');
      expect(gpx.status).toBe(200);
      expect(gpx.headers.get('content-type')).toMatch(/application\/gpx\+xml/);
      const fromGpx = decodeGpxText(await gpx.text());
      expect(fromGpx.samples.length).toBe(stored.length);
      for (let i = 0; i < stored.length; i++) {
        expect(Math.abs(fromGpx.samples.lat[i]! - stored.columns.lat[i])).toBeLessThan(1e-7);
        expect(Math.abs(fromGpx.samples.lon[i]! - stored.columns.lon[i])).toBeLessThan(1e-7);
      }

      const csv = await (await get('csv')).text();
      const [header, ...rows] = csv.trim().split('\r\n');
      expect(header!.split(',').slice(0, 3)).toEqual(['t', 'time', 'hr']);
      expect(rows).toHaveLength(stored.length);
      expect(rows.map((r) => Number(r.split(',')[0]))).toEqual(stored.columns.t);

      const json = await get('json');
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual((await api(base, 'GET', `/api/runs/${id}`, { token })).body.report);

      // Coded refusals: an unknown format, another athlete's run, a run without positions as GPX.
      const bad = await api(base, 'GET', `/api/runs/${id}/export?format=kml`, { token });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('BAD_EXPORT_FORMAT');
      expect((await api(base, 'GET', `/api/runs/${id}/export`, { token })).status).toBe(400);
      const other = await newAthlete(base, 'Nosy');
      const foreign = await api(base, 'GET', `/api/runs/${id}/export?format=fit`, { token: other.token });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.code).toBe('NOT_FOUND');
      expect((await api(base, 'GET', `/api/runs/${id}/export?format=fit`)).status).toBe(401);
      const treadmill = await api(base, 'POST', '/api/runs', { token, body: fixture('treadmill-no-speed.fit'), headers: octet });
      const noTrack = await api(base, 'GET', `/api/runs/${treadmill.body.id}/export?format=gpx`, { token });
      expect(noTrack.status).toBe(422);
      expect(noTrack.body.error.code).toBe('EXPORT_NO_POSITIONS');
    });
  });
}
