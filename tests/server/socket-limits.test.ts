// The watch socket's budgets (src/server/rate-limit.ts, src/server/watch.ts): failed handshakes per address
// (then RATE_LIMITED with a retry hint, while a valid token still gets in), per presented token, per forwarded
// client behind TRUST_PROXY, and 429 at the HTTP upgrade for an address that only forges and keeps on. Samples per second per run:
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
async function handshake(
  url: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<{ code: string; data?: Refusal; socket?: Socket }> {
  const s = io(`${url}/watch`, { transports: ['websocket'], auth: token ? { token } : {}, reconnection: false, forceNew: true, extraHeaders: headers });
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
function rawUpgrade(
  url: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=websocket`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...extra },
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

describe('socket handshake budgets: per address and per token, never locking a valid token out', () => {
  let server: TestServer;
  const FAILURES_PER_MIN = 120; // 2 a second: a refill within the test
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, {
      SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN: String(FAILURES_PER_MIN),
      SOCKET_AUTH_FAILURES_TOKEN_PER_MIN: '10',
      // The test's sockets come through "a balancer" on loopback that names the client in X-Forwarded-For.
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(async () => server?.drop());

  it('answers BAD_TOKEN until the address\'s budget is spent, then RATE_LIMITED; a good token behind it still gets in', async () => {
    const { token } = await newAthlete(server.url, 'Ada');
    const codes: string[] = [];
    let limited: Awaited<ReturnType<typeof handshake>> | null = null;
    // The budget refills at 2 a second while the handshakes go on: a few more than 120 fail as BAD_TOKEN.
    for (let i = 0; i < FAILURES_PER_MIN + 40 && !limited; i++) {
      const h = await handshake(server.url, `cg_forged-${i}-${'x'.repeat(30)}`);
      codes.push(h.code);
      if (h.code === 'RATE_LIMITED') limited = h;
    }
    expect(codes.slice(0, FAILURES_PER_MIN).every((c) => c === 'BAD_TOKEN')).toBe(true);
    expect(codes.slice(0, -1).every((c) => c === 'BAD_TOKEN')).toBe(true);
    expect(limited?.data?.retryAfterMs).toBeGreaterThan(0);
    expect(limited?.data?.retryAfterMs).toBeLessThanOrEqual(60_000 / FAILURES_PER_MIN + 50);
    // 60 bad handshakes from one address used to lock every watch behind it out: a valid token connects.
    const ok = await handshake(server.url, token);
    expect(ok.code).toBe('CONNECTED');
    ok.socket?.close();
    // An address with good watches behind it is never turned away at the HTTP upgrade (the token is not known
    // there): its forgers go on getting coded refusals. (Which of the two depends on the refill, 2 a second, and so
    // on how fast this machine answers: on a busy one every handshake may find a token back in the bucket.)
    const later = new Set<string>();
    for (let i = 0; i < 40; i++) later.add((await handshake(server.url, `cg_still-forging-${i}-xxxxxxxxxxxxxxxxxxx`)).code);
    expect([...later].every((code) => code === 'RATE_LIMITED' || code === 'BAD_TOKEN')).toBe(true);
    expect((await handshake(server.url, token)).code).toBe('CONNECTED');
  }, 30_000);

  it('behind TRUST_PROXY each forwarded client has its own budget; one that only forges is turned away at the upgrade', async () => {
    const { token } = await newAthlete(server.url, 'Bo');
    const forger = { 'x-forwarded-for': '203.0.113.7' };
    const other = { 'x-forwarded-for': '198.51.100.20' };
    let last = '';
    for (let i = 0; i < FAILURES_PER_MIN + 60 && last !== 'HTTP_429'; i++) last = (await handshake(server.url, `cg_forger-${i}-${'x'.repeat(30)}`, forger)).code;
    expect(last).toBe('HTTP_429');
    const res = await rawUpgrade(server.url, forger);
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(res.body).error.code).toBe('RATE_LIMITED');
    // Another client behind the same balancer: its own budget (a bad token is still told BAD_TOKEN), and a
    // good watch connects.
    expect((await handshake(server.url, `cg_typo-${'x'.repeat(30)}`, other)).code).toBe('BAD_TOKEN');
    const ok = await handshake(server.url, token, other);
    expect(ok.code).toBe('CONNECTED');
    ok.socket?.close();
    // No token also counts as a failure, and is answered UNAUTHENTICATED while there is budget.
    expect((await handshake(server.url, undefined, { 'x-forwarded-for': '198.51.100.21' })).code).toBe('UNAUTHENTICATED');
  }, 30_000);

  it('one presented token that keeps failing is refused before its lookup, from any address', async () => {
    const same = `cg_the-same-bad-token-${'x'.repeat(30)}`;
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) codes.push((await handshake(server.url, same, { 'x-forwarded-for': `192.0.2.${i + 1}` })).code);
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('BAD_TOKEN'));
    expect(codes.slice(10)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });
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
