// A server killed (SIGKILL) and restarted mid-run: the watch client resumes, the server rebuilds the run's engine
// from its checkpoint and stored samples, and the run ends with exactly the samples and alerts of `analyze`.
// Runs the built CLI (`node bin/crampguard.js serve`) in a child process, as in production.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../alerts/engine.js';
import { decodeFit } from '../../ingest/fit.js';
import { firstCheckpointAfter } from '../../src/live/rebuild.js';
import { replayRun } from '../../src/wire/replay.js';
import { alertKey, api, killChild as killed, newAthlete, serveChild as serve, type ServedChild as Child } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROFILE = { massKg: 68, hrRest: 50, hrMax: 188 };
const HOT = { tempC: 28, humidity: 60 };

describe('server killed and restarted mid-run', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-restart-'));
  const children: Child[] = [];
  afterAll(async () => {
    for (const c of children) await killed(c);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the watch resumes and the run ends with every sample once and the alerts of `analyze`', async () => {
    const first = await serve(dataDir, 0);
    children.push(first);
    const url = `http://127.0.0.1:${first.port}`;
    const { token } = await newAthlete(url, 'Phoenix');
    const run = await decodeFit(readFileSync(join(ROOT, 'fixtures', 'scenarios', 'fast-start-easy.fit')));
    const keys = analyzeRun(run, { profile: PROFILE, conditions: HOT }).alerts.map(alertKey);
    expect(keys.length).toBeGreaterThan(0);

    let restarted: Promise<Child> | null = null;
    let ackedAtKill = 0;
    let firstCheckpoint = Infinity;
    const result = await replayRun(run, {
      url,
      token,
      profile: PROFILE,
      conditions: HOT,
      batchSize: 5, // 540 batches: the first checkpoint (batch 1 to CHECKPOINT_EVERY_BATCHES) and 20 more fit
      window: 2,
      speed: 1200,
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 300,
      onStarted: (client) => {
        // Kill once well past the run's first checkpoint, then start again on the same port.
        const poll = setInterval(() => {
          const acked = client.stats.batchesSent - client.backlog;
          if (!client.run || acked < firstCheckpointAfter(client.run.id) + 20) return;
          firstCheckpoint = firstCheckpointAfter(client.run.id);
          clearInterval(poll);
          ackedAtKill = acked;
          restarted = killed(first).then(() => serve(dataDir, first.port));
          void restarted.then((c) => children.push(c));
        }, 20);
      },
    });
    expect(restarted).not.toBeNull();
    const second = await restarted!;
    expect(ackedAtKill).toBeGreaterThanOrEqual(firstCheckpoint + 20);
    // The new process restored the engine from a checkpoint and replayed only the samples after it.
    const rebuilt = second.logs.find((l) => l.msg === 'live run rebuilt from the store');
    expect(rebuilt).toMatchObject({ runId: result.id });
    expect(rebuilt!.checkpointSeq as number).toBeGreaterThanOrEqual(firstCheckpoint);
    expect(rebuilt!.replayedSamples as number).toBeLessThan(run.samples.length);
    expect(result.client.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(result.alerts.map(alertKey)).toEqual(keys);
    expect(result.report.alerts.map(alertKey)).toEqual(keys);
    const samples = await api(`http://127.0.0.1:${second.port}`, 'GET', `/api/runs/${result.id}/samples?fields=t,hr`, { token });
    expect(samples.body.columns.t).toEqual(Array.from(run.samples.t));
    expect(samples.body.columns.hr).toEqual(Array.from(run.samples.hr, (v) => (Number.isNaN(v) ? null : v)));
  });
});
