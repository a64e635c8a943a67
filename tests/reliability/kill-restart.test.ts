// kill -9 in the middle of 20 live runs, start again on the same port and data: every acked sample is
// stored once, every run resumes and ends with the alerts of an uninterrupted analysis, and no alert reaches
// a watch's screen twice (the client dedupes by id; repeated packets are counted and printed).
// Runs the built CLI in a child process; scale with RELIABILITY_RUNS / RELIABILITY_SPEED.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WatchClient } from '../../src/wire/client.js';
import { killChild, serveChild, type ServedChild } from '../server/helpers.js';
import { loadFleet, printFigures, runFleet, scale, tally, LIVE_RUNS_PER_ATHLETE } from './fleet.js';

const RUNS = scale('RELIABILITY_RUNS', 20);
const SPEED = scale('RELIABILITY_SPEED', 1000);
const KILLS = scale('RELIABILITY_KILLS', 1);

describe('kill -9 mid-way through many live runs', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-rel-kill-'));
  const children: ServedChild[] = [];
  afterAll(async () => {
    for (const c of children) await killChild(c);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${RUNS} runs resume after ${KILLS} SIGKILL(s): nothing acked lost, same alerts, none shown twice`, { timeout: 180_000 }, async () => {
    const runs = await loadFleet(RUNS);
    const totalSamples = runs.reduce((n, r) => n + r.run.samples.length, 0);
    let current = await serveChild(dataDir, 0);
    children.push(current);
    const port = current.port;
    const url = `http://127.0.0.1:${port}`;
    const clients: WatchClient[] = [];
    /** Samples the server had acked when it was killed (sum over runs), per kill. */
    const ackedAtKill: number[] = [];
    /** Runs not yet ended at the first kill: each must reconnect. */
    let openAtKill = 0;
    let ended = 0;
    const started = performance.now();
    let restarts: Promise<void> = Promise.resolve();

    // Kill once the fleet is (k+1)/(KILLS+1) of the way through, then restart on the same port and data.
    const watcher = setInterval(() => {
      if (ackedAtKill.length >= KILLS || clients.length < runs.length) return;
      const acked = clients.reduce((n, c) => n + (c.stats.batchesSent - c.backlog) * 20, 0);
      if (acked < (totalSamples * (ackedAtKill.length + 1)) / (KILLS + 1)) return;
      if (ackedAtKill.length === 0) openAtKill = runs.length - ended;
      ackedAtKill.push(acked);
      const victim = current;
      restarts = restarts.then(async () => {
        await killChild(victim);
        current = await serveChild(dataDir, port);
        children.push(current);
      });
    }, 25);

    const outcomes = await runFleet({ url, runs, athletes: Math.max(4, Math.ceil(runs.length / LIVE_RUNS_PER_ATHLETE)), speed: SPEED, onStarted: (c) => clients.push(c), onEnded: () => ended++ }).finally(() => clearInterval(watcher));
    await restarts;
    const wallS = (performance.now() - started) / 1000;
    const { figures, mismatches } = await tally(url, outcomes);
    const rebuilt = children.slice(1).flatMap((c) => c.logs.filter((l) => l.msg === 'live run rebuilt from the store'));
    printFigures('kill -9', { kills: ackedAtKill.length, openAtKill, samplesAckedAtKill: ackedAtKill.join('/'), ...figures, runsRebuilt: rebuilt.length, wallS });

    expect(ackedAtKill.length).toBe(KILLS);
    expect(rebuilt.length).toBeGreaterThan(0);
    expect(figures.samplesStored).toBe(totalSamples);
    expect(figures.samplesLost).toBe(0);
    expect(figures.samplesDoubled).toBe(0);
    expect(openAtKill).toBeGreaterThan(RUNS / 2);
    expect(figures.reconnects).toBeGreaterThanOrEqual(openAtKill);
    expect(mismatches).toEqual([]);
    expect(figures.alertsDelivered).toBe(figures.alertsExpected);
    expect(figures.alertsExpected).toBeGreaterThan(RUNS);
    expect(figures.alertsShownTwice).toBe(0);
  });
});
