// Two server instances on one store (as several processes behind a balancer would be): a watch that moves
// between them mid-run, and back, ends with every sample once and the alerts of `analyze`. The instance it
// returns to notices its session is behind the store and rebuilds it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeFit } from '../../ingest/fit.js';
import { emptySample, readRow } from '../../ingest/sample.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { toWireSample, WatchClient } from '../../src/wire/client.js';
import { alertKey, api, logSink, newAthlete, SCENARIOS, sqliteBackend } from './helpers.js';

describe('a watch moving between two server instances on one store', () => {
  let a: RunningServer;
  let b: RunningServer;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const opened = await sqliteBackend.open();
    drop = opened.drop;
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: opened.dataDir, LOG_LEVEL: 'info' });
    a = await startServer(config, { logDestination: logSink().stream });
    b = await startServer(config, { logDestination: logSink().stream });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('ends with every sample once and the alerts of `analyze`', async () => {
    const profile = { massKg: 68, hrRest: 50, hrMax: 188 };
    const conditions = { tempC: 28, humidity: 60 };
    const run = await decodeFit(readFileSync(join(SCENARIOS, 'fast-start-easy.fit')));
    const keys = analyzeRun(run, { profile, conditions }).alerts.map(alertKey);
    const { token } = await newAthlete(a.url, 'Nomad');
    const runId = `nomad-${Date.now()}`;
    const n = run.samples.length;
    const row = emptySample();
    const leg = async (url: string, from: number, to: number, end: boolean) => {
      const client = new WatchClient({ url, token, batchSize: 30 });
      const ack = await client.start({ runId, startTime: Date.now(), profile, conditions });
      for (let i = from; i < to; i++) client.addSample(toWireSample(readRow(run.samples, i, row)));
      const report = end ? await client.end() : (await client.drain(), null);
      client.close();
      return { id: ack.id, alerts: client.alerts.map(alertKey), report };
    };
    await leg(a.url, 0, Math.floor(n / 3), false);
    await leg(b.url, Math.floor(n / 3), Math.floor((2 * n) / 3), false);
    const last = await leg(a.url, Math.floor((2 * n) / 3), n, true);
    expect(last.alerts).toEqual(keys);
    expect(last.report!.alerts.map(alertKey)).toEqual(keys);
    const samples = await api(b.url, 'GET', `/api/runs/${last.id}/samples?fields=t`, { token });
    expect(samples.body.columns.t).toEqual(Array.from(run.samples.t));
  });
});

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.log('tests/server/two-processes: Redis test skipped: TEST_REDIS_URL is not set (CI sets it via .ci/run)');

describe.skipIf(!REDIS_URL)('two instances sharing Redis (socket.io streams adapter)', () => {
  let a: RunningServer;
  let b: RunningServer;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const opened = await sqliteBackend.open();
    drop = opened.drop;
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: opened.dataDir, LOG_LEVEL: 'info', REDIS_URL: REDIS_URL! });
    a = await startServer(config, { logDestination: logSink().stream });
    b = await startServer(config, { logDestination: logSink().stream });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('a dashboard on one instance follows a watch on the other', async () => {
    const profile = { massKg: 68, hrRest: 50, hrMax: 188 };
    const conditions = { tempC: 28, humidity: 60 };
    const run = await decodeFit(readFileSync(join(SCENARIOS, 'fast-start-easy.fit')));
    const keys = analyzeRun(run, { profile, conditions }).alerts.map(alertKey);
    const { token } = await newAthlete(a.url, 'Split');
    const watch = new WatchClient({ url: a.url, token, batchSize: 30 });
    const ack = await watch.start({ runId: `split-${Date.now()}`, startTime: Date.now(), profile, conditions });
    const dash = new WatchClient({ url: b.url, token });
    await new Promise<void>((resolve) => (dash.socket.connected ? resolve() : dash.socket.once('connect', () => resolve())));
    const seen = { samples: 0, alerts: [] as string[] };
    dash.socket.on('samples', (batch) => (seen.samples += batch.samples.length));
    dash.socket.on('alert', (alert) => seen.alerts.push(alertKey(alert)));
    expect(await dash.socket.emitWithAck('follow', { runId: ack.id })).toMatchObject({ ok: true, status: 'live' });
    const row = emptySample();
    for (let i = 0; i < run.samples.length; i++) watch.addSample(toWireSample(readRow(run.samples, i, row)));
    await watch.end();
    await new Promise((r) => setTimeout(r, 300));
    watch.close();
    dash.close();
    expect(seen.alerts).toEqual(keys);
    expect(seen.samples).toBe(run.samples.length);
  });
});
