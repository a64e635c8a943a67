// Hostile watches against a server in its own process, all at once: unknown events, wrong types, NaN and
// Infinity, giant batches and frames, 10,000 samples a second from one watch, sequence numbers that jump,
// another athlete's run, a thousand (and more) handshakes with bad tokens from one address. Each gets an error ack
// or a refusal with a code, and a quiet run next to them (in this process; the attackers run in attacker.mjs) keeps
// its prompt latency (its batch ack comes after its alerts are emitted, so the ack latency bounds the prompt
// latency) within 2× of what it was with nobody attacking, at the median and at p99. Those latency figures are
// printed by `npm test` and asserted only by the soak (`npm run test:soak`, ASSERT_TIMING): on a busy shared machine a
// p99 ratio measures the neighbours. What `npm test` asserts is behaviour: the codes, nothing hostile accepted,
// no crash, and the quiet run stored whole and in order.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, killChild, newAthlete, serveChild, type ServedChild } from '../server/helpers.js';
import { ASSERT_TIMING, printFigures, scale } from './fleet.js';

const BAD_TOKEN_HANDSHAKES = scale('RELIABILITY_BAD_HANDSHAKES', 1000);
const PROBE_BATCHES = scale('RELIABILITY_PROBE_BATCHES', 240);
/** Floors of the 2× comparisons, ms: below them a difference is timer and scheduling noise on 2 shared cores. */
const P50_FLOOR_MS = 10;
const P99_FLOOR_MS = 20;
/** The server's failed-handshake budget per address (its default, spelled out). */
const AUTH_FAILURES_PER_MIN = 60;
/** Which attacks run (all by default; a subset helps find which one hurts). */
const ATTACKS = new Set((process.env.RELIABILITY_ATTACKS ?? 'junk,flood,frames,handshakes').split(','));

interface AttackMessage {
  type: string;
  error?: string;
  junkMessages?: number;
  floodSamplesPerS?: number;
  frameClose?: string;
  refusals?: Record<string, number>;
  codes?: Record<string, number>;
  accepted?: string[];
  goodTokenWaits?: number;
}
type Ack = { ok: boolean; error?: { code: string }; expectedSeq?: number; contiguousSeq?: number };
type Raw = Socket & { emitWithAck(ev: string, ...args: unknown[]): Promise<Ack> };

function socket(url: string, token: string | undefined): Raw {
  return io(`${url}/watch`, { transports: ['websocket'], auth: token ? { token } : {}, reconnection: false, forceNew: true }) as Raw;
}
function connected(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
}
const codeOf = (r: Ack) => (r.ok ? 'ok' : (r.error?.code ?? '?'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** A quiet watch: batches of 10 one-second samples every 25 ms; the time to each ack, ms. */
async function probe(s: Raw, runId: string, fromSeq: number, batches: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let k = 0; k < batches; k++) {
    const seq = fromSeq + k;
    const samples = Array.from({ length: 10 }, (_, i) => ({ t: (seq - 1) * 10 + i, hr: 150 + (seq % 20), speed: 3.2, cadence: 172 }));
    const sent = performance.now();
    const ack = await s.emitWithAck('samples', { runId, seq, samples });
    latencies.push(performance.now() - sent);
    if (!ack.ok) throw new Error(`probe batch ${seq} refused: ${codeOf(ack)}`);
    await sleep(25);
  }
  return latencies;
}

describe('hostile watches next to a quiet one', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-rel-socket-'));
  let server: ServedChild;
  let url = '';
  beforeAll(async () => {
    server = await serveChild(dataDir, 0, { SOCKET_AUTH_FAILURES_ADDRESS_PER_MIN: String(AUTH_FAILURES_PER_MIN) });
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    if (server) await killChild(server);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every hostile message gets a coded refusal, and the quiet run keeps its latency', { timeout: 120_000 }, async () => {
    const victim = await newAthlete(url, 'Quiet');
    const mallory = await newAthlete(url, 'Mallory');
    const quiet = socket(url, victim.token);
    await connected(quiet);
    const victimRunId = `quiet-run-${Date.now()}`;
    const started = await quiet.emitWithAck('start', { runId: victimRunId, startTime: '2026-06-01T07:00:00Z' });
    expect(started.ok).toBe(true);
    const victimServerId = (started as unknown as { id: string }).id;

    await probe(quiet, victimRunId, 1, 10); // warm up
    let seq = 11;

    // ---- the attack, all at once from another process, while the quiet run goes on
    const attacker = fork(join(import.meta.dirname, 'attacker.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages: AttackMessage[] = [];
    const next = (type: string) =>
      new Promise<AttackMessage>((resolve, reject) => {
        const seen = messages.find((m) => m.type === type);
        if (seen) return resolve(seen);
        attacker.on('message', (m: AttackMessage) => m.type === type && resolve(m));
        attacker.once('exit', (code) => reject(new Error(`attacker exited (${code}) before '${type}'`)));
      });
    attacker.on('message', (m: AttackMessage) => messages.push(m));
    const result = next('result');
    attacker.send({
      type: 'start',
      url,
      attackerToken: mallory.token,
      victimRunId,
      victimServerId,
      badHandshakes: BAD_TOKEN_HANDSHAKES,
      attacks: [...ATTACKS],
    });
    await next('ready');
    // Quiet and attacked windows alternate, so that load from elsewhere on the machine (other suites) falls on
    // both alike.
    const calm: number[] = [];
    const underAttack: number[] = [];
    const ROUNDS = 4;
    const perWindow = Math.ceil(PROBE_BATCHES / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      attacker.send({ type: 'pause' });
      await sleep(300); // let in-flight attack messages drain
      calm.push(...(await probe(quiet, victimRunId, seq, perWindow)));
      seq += perWindow;
      attacker.send({ type: 'resume' });
      await sleep(300); // let the attack build up
      underAttack.push(...(await probe(quiet, victimRunId, seq, perWindow)));
      seq += perWindow;
    }
    expect(attacker.exitCode).toBeNull();
    attacker.send({ type: 'stop' });
    const r = await result;
    if (r.error) throw new Error(`attacker failed: ${r.error}`);
    const codes = new Map(Object.entries(r.codes ?? {}));
    const refusals = new Map(Object.entries(r.refusals ?? {}));
    const frameClose = ATTACKS.has('frames') ? String(r.frameClose) : 'transport close (not run)';

    const figures = {
      quietP50ms: quantile(calm, 0.5),
      quietP95ms: quantile(calm, 0.95),
      quietP99ms: quantile(calm, 0.99),
      quietWorstMs: Math.max(...calm),
      attackP50ms: quantile(underAttack, 0.5),
      attackP95ms: quantile(underAttack, 0.95),
      attackP99ms: quantile(underAttack, 0.99),
      attackWorstMs: Math.max(...underAttack),
      junkMessages: r.junkMessages ?? 0,
      floodAcceptedSamplesPerS: r.floodSamplesPerS ?? 0,
      attackerGoodTokenWaits: r.goodTokenWaits ?? 0,
      badHandshakes: BAD_TOKEN_HANDSHAKES,
      crashes: server.proc.exitCode === null && server.proc.signalCode === null ? 0 : 1,
    };
    printFigures('socket attack', figures);
    console.log(`[reliability] socket attack codes: ${JSON.stringify(Object.fromEntries(codes))} handshakes: ${JSON.stringify(Object.fromEntries(refusals))} frame>1MB: ${frameClose}`);

    // No hostile message was accepted; refusals carry a code from the protocol's table.
    expect(r.accepted).toEqual([]);
    for (const code of codes.keys()) {
      expect(['BAD_MESSAGE', 'SAMPLE_INVALID', 'SAMPLE_BATCH_TOO_LARGE', 'UNKNOWN_RUN', 'SEQ_GAP', 'RATE_LIMITED']).toContain(code);
    }
    if (ATTACKS.has('junk')) {
      expect(codes.get('BAD_MESSAGE')).toBeGreaterThan(0);
      expect(codes.get('UNKNOWN_RUN')).toBeGreaterThan(0);
    }
    // Bad handshakes: BAD_TOKEN/UNAUTHENTICATED until the address's failure budget is spent (plus the one wave
    // of 50 in flight), then RATE_LIMITED with a retry hint; past its coded refusals an address that keeps on is
    // turned away at the HTTP upgrade with 429 (HTTP_429), before socket.io sees it.
    if (ATTACKS.has('handshakes')) {
      expect(refusals.get('CONNECTED') ?? 0).toBe(0);
      for (const code of refusals.keys()) expect(['BAD_TOKEN', 'UNAUTHENTICATED', 'RATE_LIMITED', 'HTTP_429']).toContain(code);
      expect([...refusals.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(BAD_TOKEN_HANDSHAKES);
      expect(refusals.get('RATE_LIMITED') ?? 0).toBeGreaterThan(0);
      expect((refusals.get('BAD_TOKEN') ?? 0) + (refusals.get('UNAUTHENTICATED') ?? 0)).toBeLessThanOrEqual(AUTH_FAILURES_PER_MIN + 50);
    }
    expect(frameClose).toMatch(/transport (close|error)/);
    expect(figures.crashes).toBe(0);
    // The victim, in the soak only (ASSERT_TIMING): median and p99 within 2× of quiet (floors of 10 and 20 ms for
    // timer and scheduling noise: the server, the attackers and this process share 2 cores), and no stall of
    // seconds. `npm test` prints these figures (above) and asserts none of them.
    if (ASSERT_TIMING) {
      expect(figures.attackP50ms).toBeLessThanOrEqual(Math.max(2 * figures.quietP50ms, P50_FLOOR_MS));
      expect(figures.attackP99ms).toBeLessThanOrEqual(Math.max(2 * figures.quietP99ms, P99_FLOOR_MS));
      expect(figures.attackWorstMs).toBeLessThan(3000);
    }

    // The quiet run is intact: every batch stored once, in order; the attacker's junk left nothing in it.
    const end = await quiet.emitWithAck('end', { runId: victimRunId });
    expect(end.ok).toBe(true);
    const stored = await api(url, 'GET', `/api/runs/${victimServerId}/samples?fields=t`, { token: victim.token });
    const n = (seq - 1) * 10;
    expect(stored.body.columns.t).toEqual(Array.from({ length: n }, (_, i) => i));
    expect((await api(url, 'GET', '/healthz')).status).toBe(200);
    quiet.close();
  });
});
