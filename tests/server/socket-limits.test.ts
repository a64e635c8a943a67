// The watch socket's budgets (src/server/rate-limit.ts, src/server/watch.ts): failed handshakes per address, then
// RATE_LIMITED with a retry hint before any token lookup, then 429 at the HTTP upgrade for an address that keeps
// on; a good watch from the same address gets in once the budget has refilled. Samples per second per run:
// over-budget batches are refused RATE_LIMITED with retryAfterMs, their seq stays free, and a replay still
// completes through the client, which waits as told.
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFit } from '../../ingest/fit.js';
import { replayRun } from '../../src/wire/replay.js';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { api, newAthlete, SCENARIOS, sqliteBackend, startTestServer, type TestServer } from './helpers.js';

type Refusal = { code: string; retryAfterMs?: number };
type Ack = { ok: boolean; error?: { code: string }; retryAfterMs?: number; contiguousSeq?: number };

/** One handshake: 'CONNECTED' (socket returned open), or the refusal's code (`HTTP_<status>` at the upgrade). */
async function handshake(url: string, token: string | undefined): Promise<{ code: string; data?: Refusal; socket?: Socket }> {
  const s = io(`${url}/watch`, { transports: ['websocket'], auth: token ? { token } : {}, reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    s.once('connect', () => resolve({ code: 'CONNECTED', socket: s }));
    s.once('connect_error', (err: Error & { data?: Refusal; description?: { message?: string } }) => {
      s.close();
      const status = /server response: (\d+)/.exec(String(err.description?.message))?.[1];
      resolve({ code: err.data?.code ?? (status ? `HTTP_${status}` : 'NO_CODE'), ...(err.data ? { data: err.data } : {}) });
    });
  });
}
/** A bare websocket upgrade request: the status, headers and body the server answers with. */
function rawUpgrade(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=websocket`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('upgraded'));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('socket handshake budget per address', () => {
  let server: TestServer;
  const FAILURES_PER_MIN = 120; // 2 a second: a refill within the test
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, { SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN: String(FAILURES_PER_MIN) });
  });
  afterAll(async () => server?.drop());

  it('answers BAD_TOKEN until the budget is spent, then RATE_LIMITED, then 429; a good watch gets in after the wait', async () => {
    const { token } = await newAthlete(server.url, 'Ada');
    const codes: string[] = [];
    for (let i = 0; i < FAILURES_PER_MIN + 5; i++) codes.push((await handshake(server.url, `cg_forged-${i}-${'x'.repeat(30)}`)).code);
    expect(codes.slice(0, FAILURES_PER_MIN).every((c) => c === 'BAD_TOKEN')).toBe(true);
    expect(codes.slice(FAILURES_PER_MIN)).toEqual(Array(5).fill('RATE_LIMITED'));
    // Refused before the token is looked at: a good token from the same address waits too, and is told how long.
    const waiting = await handshake(server.url, token);
    expect(waiting.code).toBe('RATE_LIMITED');
    expect(waiting.data?.retryAfterMs).toBeGreaterThan(0);
    expect(waiting.data?.retryAfterMs).toBeLessThanOrEqual(60_000 / FAILURES_PER_MIN + 50);
    // An address that keeps on past its coded refusals is turned away at the HTTP upgrade.
    let last = '';
    for (let i = 0; i < 40 && last !== 'HTTP_429'; i++) last = (await handshake(server.url, 'cg_still-forging-xxxxxxxxxxxxxxxxxxx')).code;
    expect(last).toBe('HTTP_429');
    const res = await rawUpgrade(server.url);
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(res.body).error.code).toBe('RATE_LIMITED');
    // Not locked out for good: after the wait the budget has refilled and the good token connects.
    await sleep(1200);
    const ok = await handshake(server.url, token);
    expect(ok.code).toBe('CONNECTED');
    ok.socket?.close();
    // No token also counts as a failure, and is answered UNAUTHENTICATED while there is budget.
    expect((await handshake(server.url, undefined)).code).toBe('UNAUTHENTICATED');
  }, 30_000);
});

describe('socket samples budget per run', () => {
  let server: TestServer;
  const PER_S = 1000; // bursts of max(1000 / 4, 600) = 600 samples
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, { SOCKET_SAMPLES_PER_S: String(PER_S) });
  });
  afterAll(async () => server?.drop());

  it('refuses an over-budget batch with RATE_LIMITED and retryAfterMs, keeps its seq free, and takes it after the wait', async () => {
    const { token } = await newAthlete(server.url, 'Flo');
    const h = await handshake(server.url, token);
    const s = h.socket! as Socket & { emitWithAck(ev: string, ...a: unknown[]): Promise<Ack> };
    const runId = `budget-${Date.now()}`;
    expect((await s.emitWithAck('start', { runId, startTime: '2026-06-01T07:00:00Z' })).ok).toBe(true);
    const batch = (seq: number) => ({ runId, seq, samples: Array.from({ length: 500 }, (_, i) => ({ t: (seq - 1) * 500 + i, hr: 150 })) });
    const [a, b] = await Promise.all([s.emitWithAck('samples', batch(1)), s.emitWithAck('samples', batch(2))]);
    expect(a.ok).toBe(true);
    expect(b).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(b.retryAfterMs).toBeGreaterThan(0);
    expect(b.retryAfterMs).toBeLessThanOrEqual(1000);
    await sleep(b.retryAfterMs! + 20);
    expect(await s.emitWithAck('samples', batch(2))).toMatchObject({ ok: true, contiguousSeq: 2 });
    // A batch over 600 samples is refused by its size before anything else.
    const huge = { runId, seq: 3, samples: Array.from({ length: 5000 }, (_, i) => ({ t: 1000 + i })) };
    expect(await s.emitWithAck('samples', huge)).toMatchObject({ ok: false, error: { code: 'SAMPLE_BATCH_TOO_LARGE' } });
    s.close();
  });

  it('a replay as fast as acks allow still completes whole, at about the budget', async () => {
    const { token } = await newAthlete(server.url, 'Rex');
    const run = await decodeFit(readFileSync(join(SCENARIOS, 'tempo-30.fit')));
    const n = run.samples.length;
    expect(n).toBeGreaterThan(1500);
    const began = performance.now();
    const result = await replayRun(run, { url: server.url, token, batchSize: 200, maxBacklog: 16 });
    const seconds = (performance.now() - began) / 1000;
    const stored = await api(server.url, 'GET', `/api/runs/${result.id}/samples?fields=t`, { token });
    expect(stored.body.columns.t).toEqual(Array.from(run.samples.t));
    // (n - 600) samples past the burst at 1000/s, plus the client's waits: bounded below by the budget, and no stall.
    expect(seconds).toBeGreaterThan((n - 600) / PER_S - 0.2);
    expect(seconds).toBeLessThan(15);
  });
});
