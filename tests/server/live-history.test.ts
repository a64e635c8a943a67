// A dashboard that follows a live run mid-way gets the risk points from before (the follow ack's riskHistory,
// each with its fluid-deficit estimate): every point the engine produced, in order, those the watch was sent
// among them; then the live points continue after them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RiskPoint } from '../../alerts/types.js';
import { decodeFitSync } from '../../ingest/fit.js';
import { toWireSample } from '../../src/wire/client.js';
import { emptySample, readRow } from '../../ingest/sample.js';
import { newAthlete, SCENARIOS, sqliteBackend, startTestServer, type TestServer } from './helpers.js';

const connect = (url: string, token: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = io(`${url}/watch`, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });

describe('live risk history for late followers', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend, { SOCKET_SAMPLES_PER_S: '0' });
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('hands a late follower every risk point so far, then only new ones', async () => {
    const { token } = await newAthlete(server.url, 'Late');
    const run = decodeFitSync(new Uint8Array(readFileSync(join(SCENARIOS, 'hot-short-30.fit'))));
    const watch = await connect(server.url, token);
    const toldWatch: RiskPoint[] = [];
    watch.on('risk', (p: RiskPoint) => toldWatch.push(p));
    const runId = `late-follow-${Date.now()}`;
    const start = await watch.timeout(10_000).emitWithAck('start', { runId, startTime: run.meta.startTime! });
    expect(start.ok).toBe(true);
    const row = emptySample();
    const batch = (from: number, to: number) => {
      const out = [];
      for (let i = from; i < Math.min(to, run.samples.length); i++) out.push(toWireSample(readRow(run.samples, i, row)));
      return out;
    };
    let seq = 0;
    const half = Math.floor(run.samples.length / 2);
    for (let i = 0; i < half; i += 120) expect((await watch.timeout(10_000).emitWithAck('samples', { runId, seq: ++seq, samples: batch(i, Math.min(half, i + 120)) })).ok).toBe(true);
    await expect.poll(() => toldWatch.length, { timeout: 10_000 }).toBeGreaterThan(5);

    const dashboard = await connect(server.url, token);
    const follow = await dashboard.timeout(10_000).emitWithAck('follow', { runId: start.id });
    expect(follow.ok).toBe(true);
    const history = follow.riskHistory as RiskPoint[];
    // Every point the engine produced (the watch is sent each batch's newest), in order, the told ones among them.
    const ts = history.map((p) => p.t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(history.length).toBeGreaterThan(toldWatch.length);
    // (The socket's risk events also name the run.)
    const bare = ({ runId: _runId, ...point }: RiskPoint & { runId?: string }) => point;
    for (const told of toldWatch) expect(history.find((p) => p.t === told.t)).toEqual(bare(told));
    expect(ts.at(-1)).toBe(toldWatch.at(-1)!.t);
    expect(history.every((p) => typeof p.fluidDeficitMl === 'number')).toBe(true);
    expect(bare(follow.risk)).toEqual(bare(toldWatch.at(-1)!));

    const toldDashboard: RiskPoint[] = [];
    dashboard.on('risk', (p: RiskPoint) => toldDashboard.push(p));
    for (let i = half; i < run.samples.length; i += 120) expect((await watch.timeout(10_000).emitWithAck('samples', { runId, seq: ++seq, samples: batch(i, i + 120) })).ok).toBe(true);
    await expect.poll(() => toldDashboard.length, { timeout: 10_000 }).toBeGreaterThan(0);
    // History and then the live points: the run's risk once, in order.
    const all = [...history, ...toldDashboard].map((p) => p.t);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(new Set(all).size).toBe(all.length);
    watch.disconnect();
    dashboard.disconnect();
  });
});
