// One owner per run while both processes live: a second process that gets a start for a run another one holds
// refuses it (RUN_ELSEWHERE) while the watch is still connected to the owner, and takes the run over — asked
// through the adapter, not by waiting for the lease to lapse — once the watch has left the owner. The run then
// ends with every sample once and the prompts of `analyze`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeFit } from '../../ingest/fit.js';
import { emptySample, readRow } from '../../ingest/sample.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { toWireSample, WatchClient } from '../../src/wire/client.js';
import { alertKey, api, logSink, newAthlete, SCENARIOS, sqliteBackend } from '../server/helpers.js';
import { clusterNames } from './processes.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.log('tests/cluster/handover: skipped: TEST_REDIS_URL is not set (CI sets it via .ci/run)');

const LEASE_MS = 20_000;

describe.skipIf(!REDIS_URL)('a run handed over between two live processes', () => {
  let a: RunningServer;
  let b: RunningServer;
  let aLogs: () => Record<string, unknown>[];
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const opened = await sqliteBackend.open();
    drop = opened.drop;
    const { redisPrefix } = clusterNames('handover');
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: opened.dataDir,
      LOG_LEVEL: 'info',
      REDIS_URL: REDIS_URL!,
      REDIS_PREFIX: redisPrefix,
      // Long: a take-over that works must not be waiting for the lease to lapse.
      RUN_LEASE_MS: String(LEASE_MS),
    });
    const sink = logSink();
    aLogs = sink.lines;
    a = await startServer(config, { logDestination: sink.stream });
    b = await startServer(config, { logDestination: logSink().stream });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('refuses while the watch is on the owner, takes over when it left, and the run ends as `analyze` says', async () => {
    const profile = { massKg: 68, hrRest: 50, hrMax: 188 };
    const conditions = { tempC: 28, humidity: 60 };
    const run = await decodeFit(readFileSync(join(SCENARIOS, 'fast-start-easy.fit')));
    const keys = analyzeRun(run, { profile, conditions }).alerts.map(alertKey);
    const { token } = await newAthlete(a.url, 'Relay', profile);
    const start = { runId: `relay-${Date.now()}`, startTime: Date.now(), profile, conditions };
    const n = run.samples.length;
    const half = Math.floor(n / 2);
    const row = emptySample();

    const first = new WatchClient({ url: a.url, token });
    const ack = await first.start(start);
    for (let i = 0; i < half; i++) first.addSample(toWireSample(readRow(run.samples, i, row)));
    await first.drain();

    // A second connection to the other process while the watch is still connected to the owner.
    const intruder = new WatchClient({ url: b.url, token });
    await new Promise<void>((resolve) => (intruder.socket.connected ? resolve() : intruder.socket.once('connect', () => resolve())));
    const refused = await intruder.socket.emitWithAck('start', start);
    expect(refused).toMatchObject({ ok: false, error: { code: 'RUN_ELSEWHERE' } });
    intruder.close();

    // The watch leaves the owner and comes to the other process: handed over well before the lease would lapse.
    first.close();
    const movedAt = Date.now();
    const second = new WatchClient({ url: b.url, token });
    const resumed = await second.start(start);
    expect(Date.now() - movedAt).toBeLessThan(LEASE_MS / 2);
    expect(resumed).toMatchObject({ ok: true, id: ack.id, status: 'live', contiguousSeq: Math.ceil(half / 30) });
    expect(aLogs().some((l) => l.msg === 'run handed over to another process' && l.runId === ack.id)).toBe(true);
    for (let i = half; i < n; i++) second.addSample(toWireSample(readRow(run.samples, i, row)));
    const report = await second.end();
    second.close();

    expect([...first.alerts, ...second.alerts].map(alertKey).filter((k, i, all) => all.indexOf(k) === i)).toEqual(keys);
    expect(report.alerts.map(alertKey)).toEqual(keys);
    const samples = await api(a.url, 'GET', `/api/runs/${ack.id}/samples?fields=t`, { token });
    expect(samples.body.columns.t).toEqual(Array.from(run.samples.t));
  });
});
