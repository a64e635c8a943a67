// The HTTP and storage attacks of issue 18, each reproduced against a real server (SQLite, and PostgreSQL where
// the store matters): poison strings, large valid runs, the upload queue, the smaller findings. Slowloris has its
// own file (http-slowloris.test.ts). Figures are printed, never asserted as timings.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/types.js';
import { api, newAthlete, postgresBackend, sqliteBackend, startTestServer, type Backend, type TestServer } from '../server/helpers.js';
import { fitFile, tinyMessages } from './fit-bombs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SMALL_FIT = readFileSync(join(ROOT, 'fixtures', 'scenarios', 'ten-minute-run.fit'));
const OCTET = { 'content-type': 'application/octet-stream' };

/**
 * `count` one-second records, a distinct activity per `variant`: it starts 128,000 s (a multiple of 32, so the
 * compressed timestamps still follow) after the previous variant's, so no two are the same run.
 */
function recordsFit(count: number, variant = 0): Uint8Array {
  const data = tinyMessages(count);
  const v = new DataView(data.buffer, data.byteOffset);
  v.setUint32(22, v.getUint32(22, true) + variant * 128_000, true); // the first record's full timestamp
  return fitFile(data);
}

/** A multipart upload written by hand, with `disposition` as the file part's Content-Disposition parameters. */
function multipartWith(disposition: string): { body: Buffer; headers: Record<string, string> } {
  const body = Buffer.concat([
    Buffer.from(`--b0undary\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`, 'latin1'),
    SMALL_FIT,
    Buffer.from('\r\n--b0undary--\r\n'),
  ]);
  return { body, headers: { 'content-type': 'multipart/form-data; boundary=b0undary' } };
}

/** `count` records each with a full timestamp, `stepS` apart: 2,000 records 19 days apart span 104 years. */
function spacedFit(count: number, stepS: number): Uint8Array {
  const data = new Uint8Array(12 + count * 6);
  const v = new DataView(data.buffer);
  data.set([0x40, 0, 0, 20, 0, 2, 253, 4, 0x86, 3, 1, 0x02], 0); // local 0: record (timestamp uint32, heart_rate uint8)
  let o = 12;
  for (let i = 0; i < count; i++) {
    data[o++] = 0;
    v.setUint32(o, 100_000_000 + i * stepS, true);
    o += 4;
    data[o++] = 130;
  }
  return fitFile(data);
}

/** Sends `raw` as the whole request and resolves with the status line and headers. */
function rawRequest(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += String(d);
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(raw);
  });
}

// ------------------------------------------------------------------------------------------------------------
// 2. Poison strings

for (const backend of [sqliteBackend, postgresBackend] as Backend[]) {
  describe.skipIf(backend.skip)(`poison strings on ${backend.name}`, () => {
    let server: TestServer;
    let a: { id: string; token: string };
    beforeAll(async () => {
      server = await startTestServer(backend);
      a = await newAthlete(server.url, 'Ana');
    });
    afterAll(async () => {
      await server?.drop();
    });

    it('NUL bytes and lone surrogates anywhere in a request get 400 BAD_STRING, and the store stays healthy', async () => {
      const token = a.token;
      // JSON.stringify writes a lone surrogate as the escape \udXXX, which JSON.parse turns back into one.
      const attacks: { what: string; send: () => Promise<{ status: number; body: any; headers: Headers }> }[] = [
        { what: 'athlete name (NUL)', send: () => api(server.url, 'POST', '/api/athletes', { json: { name: 'a\u0000b' } }) },
        { what: 'athlete name (lone surrogate)', send: () => api(server.url, 'POST', '/api/athletes', { json: { name: 'a\ud800b' } }) },
        { what: 'profile cramp muscle', send: () => api(server.url, 'PUT', '/api/athletes/me', { token, json: { profile: { crampHistory: [{ t: 60, muscle: 'calf\udc00' }] } } }) },
        { what: 'profile key', send: () => api(server.url, 'PATCH', '/api/athletes/me', { token, json: { profile: { 'hr\u0000Max': 180 } } }) },
        { what: 'journal note (NUL)', send: () => api(server.url, 'POST', '/api/cramps', { token, json: { muscle: 'calf', severity: 2, note: 'ouch\u0000' } }) },
        { what: 'journal muscle (lone surrogate)', send: () => api(server.url, 'POST', '/api/cramps', { token, json: { muscle: '\ud83d', severity: 2 } }) },
        { what: 'journal run id', send: () => api(server.url, 'POST', '/api/cramps', { token, json: { muscle: 'calf', severity: 2, runId: 'r\u0000' } }) },
        { what: 'path segment', send: () => api(server.url, 'GET', '/api/runs/a%00b', { token }) },
        { what: 'path segment (samples)', send: () => api(server.url, 'GET', '/api/runs/a%00b/samples', { token }) },
        { what: 'delete path segment', send: () => api(server.url, 'DELETE', '/api/runs/%00', { token }) },
        { what: 'query cursor', send: () => api(server.url, 'GET', '/api/runs?before=%00', { token }) },
        { what: 'journal cursor', send: () => api(server.url, 'GET', '/api/cramps?before=1%00', { token }) },
        // RFC 5987 extended file names are percent-decoded by busboy: the NUL and the lone surrogate's bytes arrive.
        { what: 'file name (NUL)', send: () => api(server.url, 'POST', '/api/runs', { token, ...multipartWith("filename*=utf-8''run%00.fit") }) },
        { what: 'file name (UTF-16 surrogate bytes)', send: () => api(server.url, 'POST', '/api/runs', { token, ...multipartWith("filename*=utf-16le''%00%D8.fit") }) },
      ];
      let refused = 0;
      for (const attack of attacks) {
        const r = await attack.send();
        expect(r.status, attack.what).toBe(400);
        expect(r.body.error.code, attack.what).toBe('BAD_STRING');
        expect(r.body.error.message, attack.what).not.toMatch(/\n|at .*\.js/);
        expect(r.headers.get('retry-after'), attack.what).toBeNull();
        refused++;
        // Never the store's fault: it answers at once after each.
        expect((await api(server.url, 'GET', '/healthz')).status, attack.what).toBe(200);
      }
      console.log(`[reliability] poison strings on ${backend.name}: ${refused}/${attacks.length} answered 400 BAD_STRING, /healthz 200 after each`);
      // Nothing was stored or changed; the account still works and real text (emoji: a valid surrogate pair) is kept.
      expect((await api(server.url, 'GET', '/api/cramps', { token })).body.cramps).toEqual([]);
      const ok = await api(server.url, 'POST', '/api/cramps', { token, json: { muscle: 'mollet 🦵', severity: 2, note: 'crampe après 30 km' } });
      expect(ok.status).toBe(201);
      expect(ok.body.note).toBe('crampe après 30 km');
      expect((await api(server.url, 'GET', '/readyz')).status).toBe(200);
    });

    it('a value the database refuses is STORE_BAD_INPUT (a 400), never STORE_UNAVAILABLE', async () => {
      // Past the edge (a caller that skipped it): the store itself classifies the database's answer.
      const store = server.store;
      const attempts = [
        () => store.addJournalEntry(a.id, { muscle: 'calf', severity: 2, note: 'x\u0000y' }),
        () => store.updateAthleteProfile(a.id, { crampHistory: [{ t: 1, muscle: 'x\ud800' }] } as never),
      ];
      for (const attempt of attempts) {
        let code: string | null = null;
        try {
          await attempt();
        } catch (err) {
          code = err instanceof StoreError ? err.code : 'other';
        }
        // SQLite keeps both as given (it stores any UTF-16 it is handed); PostgreSQL refuses them (class 22).
        if (backend.name === 'postgres') expect(code).toBe('STORE_BAD_INPUT');
        else expect(code).toBeNull();
        await store.ping();
      }
      expect((await api(server.url, 'GET', '/healthz')).body.status).toBe('ok');
    });
  });
}

// ------------------------------------------------------------------------------------------------------------
// 3. Large valid runs, and 9. an implausible duration

describe('large valid runs', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, { UPLOAD_MAX_SAMPLES: '30000', RATE_LIMIT_TOKEN_PER_MIN: '0', RATE_LIMIT_ADDRESS_PER_MIN: '0' });
    ({ token } = await newAthlete(server.url, 'Ana'));
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('an upload with more records than UPLOAD_MAX_SAMPLES is refused 413 RUN_TOO_LARGE and stores nothing', async () => {
    const r = await api(server.url, 'POST', '/api/runs', { token, body: recordsFit(30_001), headers: OCTET });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('RUN_TOO_LARGE');
    expect((await api(server.url, 'GET', '/api/runs', { token })).body.runs).toEqual([]);
  });

  it('a run spanning 104 years is refused 422 RUN_TOO_LONG', async () => {
    const r = await api(server.url, 'POST', '/api/runs', { token, body: spacedFit(2000, Math.floor((104 * 365.25 * 86_400) / 2000)), headers: OCTET });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('RUN_TOO_LONG');
    expect(r.body.error.message).toMatch(/days/);
    expect((await api(server.url, 'GET', '/api/runs', { token })).body.runs).toEqual([]);
  });

  it('samples are bounded per request: a long run is downsampled by default, and pages of raw rows add up to it whole', async () => {
    const n = 30_000;
    const up = await api(server.url, 'POST', '/api/runs', { token, body: recordsFit(n, 7), headers: OCTET });
    expect(up.status).toBe(201);
    const id = up.body.id as string;
    const started = performance.now();
    const whole = await fetch(`${server.url}/api/runs/${id}/samples`, { headers: { authorization: `Bearer ${token}` } });
    const text = await whole.text();
    const ms = performance.now() - started;
    const body = JSON.parse(text);
    expect(body.downsampled).toBe(true);
    expect(body.length).toBe(5000);
    expect(body.columns.t).toHaveLength(5000);
    console.log(`[reliability] samples of a ${n}-record run, no parameters: ${(text.length / 1e6).toFixed(2)} MB in ${ms.toFixed(0)} ms (5,000 points)`);
    // A maxPoints over the bound is refused, not served.
    expect((await api(server.url, 'GET', `/api/runs/${id}/samples?maxPoints=1000000`, { token })).status).toBe(400);
    expect((await api(server.url, 'GET', `/api/runs/${id}/samples?limit=20001`, { token })).status).toBe(400);
    // Paging with from/limit: every row once, in order.
    const t: number[] = [];
    let from: number | null = 0;
    let pages = 0;
    while (from !== null) {
      const page = await api(server.url, 'GET', `/api/runs/${id}/samples?fields=t&limit=12000&from=${from}`, { token });
      expect(page.status).toBe(200);
      expect(page.body.downsampled).toBe(false);
      expect(page.body.columns.t.length).toBeLessThanOrEqual(12000);
      t.push(...(page.body.columns.t as number[]));
      from = page.body.next as number | null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(t).toHaveLength(n);
    expect(t[0]).toBe(0);
    expect(t.at(-1)).toBe(n - 1);
    // A window by time.
    const window = await api(server.url, 'GET', `/api/runs/${id}/samples?fields=t&from=100&to=200`, { token });
    expect(window.body.columns.t).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
  });
});

// ------------------------------------------------------------------------------------------------------------
// 6. The upload queue

describe('the upload queue', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, {
      FIT_WORKERS: '1',
      UPLOAD_QUEUE_MAX: '5',
      UPLOADS_PER_ATHLETE: '2',
      FIT_TIME_LIMIT_S: '30',
      RATE_LIMIT_TOKEN_PER_MIN: '0',
      RATE_LIMIT_ADDRESS_PER_MIN: '0',
    });
  });
  afterAll(async () => {
    await server?.drop();
  });

  it("one athlete cannot fill the queue; past it 429 UPLOAD_QUEUE_FULL with Retry-After; another athlete's upload goes through", async () => {
    const [greedy, other, third, fourth] = await Promise.all(['Greedy', 'Other', 'Third', 'Fourth'].map((n) => newAthlete(server.url, n)));
    // Memory of this process (server and clients) while the queue is under attack: printed, not asserted.
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const file = (k: number) => recordsFit(20_000, k);
    const greedyUploads = Array.from({ length: 6 }, (_, k) => api(server.url, 'POST', '/api/runs', { token: greedy!.token, body: file(k), headers: OCTET }));
    // Let the greedy athlete's requests arrive first.
    await new Promise((r) => setTimeout(r, 200));
    const otherUpload = api(server.url, 'POST', '/api/runs', { token: other!.token, body: file(50), headers: OCTET });
    const greedyResults = await Promise.all(greedyUploads);
    const statuses = greedyResults.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(2);
    for (const refused of greedyResults.filter((r) => r.status !== 201)) {
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('UPLOAD_QUEUE_FULL');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await otherUpload).status).toBe(201);
    // The whole queue (5): three athletes with two each, at once: five admitted, one refused.
    const all = await Promise.all(
      [greedy, third, fourth].flatMap((who, i) => [0, 1].map((k) => api(server.url, 'POST', '/api/runs', { token: who!.token, body: file(100 + i * 10 + k), headers: OCTET }))),
    );
    const codes = all.map((r) => (r.status === 201 ? 'created' : r.body.error.code)).sort();
    clearInterval(sampler);
    console.log(`[reliability] upload queue: 429 past the athlete's 2 and the queue's 5; RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB before, peak ${(rssPeak / 2 ** 20).toFixed(0)} MB`);
    expect(codes).toEqual(['UPLOAD_QUEUE_FULL', 'created', 'created', 'created', 'created', 'created']);
  });
});

describe('the upload deadline', () => {
  let server: TestServer;
  beforeAll(async () => {
    // One worker at the server's priority, a 2 s deadline, room for 32 uploads.
    server = await startTestServer(sqliteBackend, {
      FIT_WORKERS: '1',
      FIT_WORKER_NICE: '0',
      FIT_TIME_LIMIT_S: '2',
      UPLOAD_QUEUE_MAX: '32',
      UPLOADS_PER_ATHLETE: '2',
      RATE_LIMIT_TOKEN_PER_MIN: '0',
      RATE_LIMIT_ADDRESS_PER_MIN: '0',
    });
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('counts decoding only: uploads waiting behind others are not refused FIT_TOO_COMPLEX', async () => {
    const athletes = await Promise.all(Array.from({ length: 16 }, (_, i) => newAthlete(server.url, `A${i}`)));
    // 32 uploads wait for one worker; each decodes in a fraction of the 2 s deadline (~0.15 s on an idle machine),
    // all of them take longer (counted from arrival, as before, the later ones were refused FIT_TOO_COMPLEX
    // without being decoded).
    const n = 32;
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: n }, (_, k) => api(server.url, 'POST', '/api/runs', { token: athletes[k >> 1]!.token, body: recordsFit(30_000, 200 + k), headers: OCTET })),
    );
    const s = (performance.now() - started) / 1000;
    console.log(`[reliability] upload queue: ${n} uploads of 30,000 records behind one worker took ${s.toFixed(1)} s in all (deadline 2 s each)`);
    expect(results.map((r) => (r.status === 201 ? 'created' : r.body.error.code))).toEqual(Array.from({ length: n }, () => 'created'));
  });
});

// ------------------------------------------------------------------------------------------------------------
// 9. The smaller findings

describe('smaller findings', () => {
  let server: TestServer;
  let a: { id: string; token: string };
  beforeAll(async () => {
    const dashboard = mkdtempSync(join(tmpdir(), 'cg-dash-'));
    writeFileSync(join(dashboard, 'index.html'), '<!doctype html><title>x</title>');
    mkdirSync(join(dashboard, 'assets'));
    writeFileSync(join(dashboard, 'assets', 'index.html'), '<!doctype html><title>assets</title>');
    server = await startTestServer(sqliteBackend, { LOG_LEVEL: 'trace', DASHBOARD_DIR: dashboard });
    a = await newAthlete(server.url, 'Ana', { hrMax: 110 });
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('a malformed multipart body is 400 BAD_UPLOAD, with no stack in the error log', async () => {
    const bodies = [
      '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.fit"\r\n\r\nabc', // ends mid-part
      '--xyz\r\nbroken header line\r\n\r\nabc\r\n--xyz--\r\n',
      'no boundary here at all',
    ];
    for (const body of bodies) {
      const r = await api(server.url, 'POST', '/api/runs', { token: a.token, body, headers: { 'content-type': 'multipart/form-data; boundary=xyz' } });
      expect(r.status, body).toBe(400);
      expect(r.body.error.code, body).toBe('BAD_UPLOAD');
    }
    const errors = server.logs().filter((l) => (l.level as number) >= 50);
    expect(errors).toEqual([]);
    expect(JSON.stringify(server.logs())).not.toMatch(/Unexpected end of form|at Multipart|busboy/);
  });

  it('a token sent as ?token= is refused and never written to the log', async () => {
    const r = await api(server.url, 'GET', `/api/runs?token=${a.token}&limit=5`);
    expect(r.status).toBe(401);
    const text = JSON.stringify(server.logs());
    expect(text.includes(a.token)).toBe(false);
    expect(text).toContain('/api/runs?token=[redacted]&limit=[redacted]');
  });

  it("an absolute-form request target is never copied into a redirect's Location", async () => {
    const answer = await rawRequest(server.port, 'GET http://evil.example/assets HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
    const location = /\r\nlocation: ([^\r\n]*)/i.exec(answer)?.[1];
    expect(status).toBe(301);
    expect(location).toBe('/assets/');
    // The same target over node:http's client, with a query: the path and query are kept, the host is not.
    const viaHttp = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: 'http://evil.example/assets?x=1', method: 'GET' }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    expect(viaHttp.location).toBe('/assets/?x=1');
  });

  it('a merged profile is checked whole: PATCH hrRest above the stored hrMax is 400 BAD_PROFILE and changes nothing', async () => {
    // hrRest 115 is a valid hrRest on its own (25-120); over the stored hrMax 110 it is not.
    const bad = await api(server.url, 'PATCH', '/api/athletes/me', { token: a.token, json: { profile: { hrRest: 115 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BAD_PROFILE');
    expect(bad.body.error.message).toMatch(/hrRest/);
    expect((await api(server.url, 'GET', '/api/athletes/me', { token: a.token })).body.profile).toEqual({ hrMax: 110 });
    const good = await api(server.url, 'PATCH', '/api/athletes/me', { token: a.token, json: { profile: { hrRest: 48 } } });
    expect(good.status).toBe(200);
    expect(good.body.profile).toEqual({ hrMax: 110, hrRest: 48 });
  });
});
