// A fleet of replayed watches for the reliability suites: N labelled runs streamed at once through the real
// watch client, with every alert packet counted (before the client's dedupe) and the books kept that the
// figures need: samples sent, acked, stored, lost; alerts expected, delivered, delivered twice.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeRun } from '../../alerts/engine.js';
import type { Conditions, Profile } from '../../alerts/types.js';
import { decodeFit } from '../../ingest/fit.js';
import { emptySample, readRow, type NormalizedRun } from '../../ingest/sample.js';
import { toWireSample, WatchClient } from '../../src/wire/client.js';
import type { WireEvent } from '../../src/wire/events.js';
import { replayRun, type ReplayResult } from '../../src/wire/replay.js';
import { loadConfig } from '../../src/server/config.js';
import { alertKey, api, newAthlete } from '../server/helpers.js';

/** Live runs one athlete may have open (the server's LIVE_RUNS_PER_ATHLETE default): fleets spread over enough athletes. */
export const LIVE_RUNS_PER_ATHLETE = loadConfig({}).liveRunsPerAthlete;

const SCENARIOS = join(import.meta.dirname, '..', '..', 'fixtures', 'scenarios');
export const PROFILE: Profile = { massKg: 68, hrRest: 50, hrMax: 188 };
export const HOT: Conditions = { tempC: 28, humidity: 60 };
/** Short labelled runs with prompts in them (the fleet cycles through them). */
export const FLEET_FILES = ['fast-start-easy', 'hot-short-30', 'race-10k-fast-start', 'tempo-30', 'ten-minute-run'];

/** Scale knobs: CI uses the defaults; `npm run test:soak` raises them. */
export const scale = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/**
 * Whether latency figures are asserted, not only printed: in the soak (`npm run test:soak` sets
 * RELIABILITY_ASSERT_TIMING=1), never in `npm test`, where the machine is shared and busy and a ratio of two
 * latencies says more about the neighbours than about the server.
 */
export const ASSERT_TIMING = process.env.RELIABILITY_ASSERT_TIMING === '1';

export interface FleetRun {
  file: string;
  run: NormalizedRun;
  expected: string[];
}

export async function loadFleet(count: number): Promise<FleetRun[]> {
  const decoded = new Map<string, FleetRun>();
  for (const file of FLEET_FILES) {
    const run = await decodeFit(readFileSync(join(SCENARIOS, `${file}.fit`)));
    decoded.set(file, { file, run, expected: analyzeRun(run, { profile: PROFILE, conditions: HOT }).alerts.map(alertKey) });
  }
  return Array.from({ length: count }, (_, i) => decoded.get(FLEET_FILES[i % FLEET_FILES.length]!)!);
}

export interface FleetOutcome {
  fleet: FleetRun;
  token: string;
  result: ReplayResult;
  /** Alert packets received per alert id, before the client's dedupe. */
  packets: Map<string, number>;
}

export interface FleetOptions {
  url: string;
  runs: FleetRun[];
  /** Athletes the runs are spread over. */
  athletes: number;
  speed: number;
  batchSize?: number;
  /** Called once per client when it has started. */
  onStarted?: (client: WatchClient, index: number) => void;
  /** Called once per run when it has ended (the end ack came). */
  onEnded?: (index: number) => void;
}

export async function runFleet(o: FleetOptions): Promise<FleetOutcome[]> {
  const tokens: string[] = [];
  for (let i = 0; i < o.athletes; i++) tokens.push((await newAthlete(o.url, `Runner ${i}`)).token);
  return Promise.all(
    o.runs.map(async (fleet, i) => {
      const token = tokens[i % tokens.length]!;
      const packets = new Map<string, number>();
      const result = await replayRun(fleet.run, {
        url: o.url,
        token,
        profile: PROFILE,
        conditions: HOT,
        batchSize: o.batchSize ?? 20,
        window: 2,
        speed: o.speed,
        ackTimeoutMs: 3000,
        reconnectDelayMs: 100,
        reconnectDelayMaxMs: 400,
        onStarted: (client) => {
          client.socket.on('alert', (a) => packets.set(a.id, (packets.get(a.id) ?? 0) + 1));
          o.onStarted?.(client, i);
        },
      });
      o.onEnded?.(i);
      return { fleet, token, result, packets };
    }),
  );
}

export interface FleetFigures {
  runs: number;
  samplesSent: number;
  samplesStored: number;
  samplesLost: number;
  samplesDoubled: number;
  alertsExpected: number;
  alertsDelivered: number;
  alertsWrong: number;
  alertPacketsRepeated: number;
  alertsShownTwice: number;
  reconnects: number;
  resends: number;
  duplicateAcks: number;
}

/** Reads every run back from the server and counts what arrived, what was lost and what came twice. */
export async function tally(url: string, outcomes: FleetOutcome[]): Promise<{ figures: FleetFigures; mismatches: string[] }> {
  const f: FleetFigures = {
    runs: outcomes.length,
    samplesSent: 0,
    samplesStored: 0,
    samplesLost: 0,
    samplesDoubled: 0,
    alertsExpected: 0,
    alertsDelivered: 0,
    alertsWrong: 0,
    alertPacketsRepeated: 0,
    alertsShownTwice: 0,
    reconnects: 0,
    resends: 0,
    duplicateAcks: 0,
  };
  const mismatches: string[] = [];
  for (const o of outcomes) {
    const sent = Array.from(o.fleet.run.samples.t);
    const stored = await api(url, 'GET', `/api/runs/${o.result.id}/samples?fields=t`, { token: o.token });
    const t = (stored.body?.columns?.t ?? []) as number[];
    const have = new Set(t);
    f.samplesSent += sent.length;
    f.samplesStored += t.length;
    f.samplesLost += sent.filter((x) => !have.has(x)).length;
    f.samplesDoubled += t.length - have.size;
    const delivered = o.result.alerts.map(alertKey);
    f.alertsExpected += o.fleet.expected.length;
    f.alertsDelivered += delivered.length;
    const expected = new Set(o.fleet.expected);
    f.alertsWrong += delivered.filter((k) => !expected.has(k)).length + o.fleet.expected.filter((k) => !delivered.includes(k)).length;
    if (JSON.stringify(delivered) !== JSON.stringify(o.fleet.expected) || JSON.stringify(o.result.report.alerts.map(alertKey)) !== JSON.stringify(o.fleet.expected)) {
      mismatches.push(`${o.fleet.file} (${o.result.id})`);
    }
    for (const n of o.packets.values()) if (n > 1) f.alertPacketsRepeated += n - 1;
    f.alertsShownTwice += o.result.alerts.length - new Set(o.result.alerts.map((a) => a.id)).size;
    f.reconnects += o.result.client.stats.reconnects;
    f.resends += o.result.client.stats.resends;
    f.duplicateAcks += o.result.client.stats.duplicates;
  }
  return { figures: f, mismatches };
}

/** One line of figures a person (or CI's log) can read. */
export function printFigures(title: string, figures: object): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)}`);
  console.log(`[reliability] ${title}: ${parts.join(' ')}`);
}

/** A watch that streams part of a run while the store is unavailable and times the first prompt's arrival. */
export interface PromptProbe {
  client: WatchClient;
  /** t (s) of the first alert `analyze` expects in the run. */
  firstAlertT: number;
  /**
   * Sends the samples (and events) up to 60 s past the first expected alert, and resolves when that alert's
   * push arrives: with the time from the call, and the time of arrival (performance.now()).
   */
  sendThroughFirstAlert(): Promise<{ ms: number; at: number }>;
  /**
   * Sends the first `seconds` of the run (before the first alert) and resolves once they are acked and a push
   * (a risk point) has arrived, so that socket.io can recover this connection after a drop.
   */
  warmUp(seconds: number): Promise<void>;
  /** Cuts the transport under the socket and resolves on the reconnect, with whether socket.io recovered it. */
  dropConnection(): Promise<{ recovered: boolean }>;
  /** Sends the rest, ends the run, and returns an outcome `tally` can count. */
  finish(): Promise<FleetOutcome>;
}

/** Starts a run of `fleet` (the store must be up for its start); nothing is sent until asked. */
export async function promptProbe(url: string, fleet: FleetRun): Promise<PromptProbe> {
  const { token } = await newAthlete(url, 'Probe');
  const run = fleet.run;
  const firstAlertT = Number(fleet.expected[0]?.split('|')[0]);
  if (!Number.isFinite(firstAlertT)) throw new Error(`${fleet.file}: analyze expects no alert, the probe needs one`);
  const packets = new Map<string, number>();
  // Batches are held unacked while the store is down: a window large enough to send minutes of samples.
  const client = new WatchClient({ url, token, batchSize: 60, window: 16, ackTimeoutMs: 3000, reconnectDelayMs: 100, reconnectDelayMaxMs: 400 });
  client.socket.on('alert', (a) => packets.set(a.id, (packets.get(a.id) ?? 0) + 1));
  const runId = `probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const start = await client.start({ runId, startTime: run.meta.startTime ?? new Date().toISOString(), profile: PROFILE, conditions: HOT });
  const events = [...run.events].sort((a, b) => a.t - b.t);
  let i = 0;
  let e = 0;
  const row = emptySample();
  const sendUntil = (t: number) => {
    for (; i < run.samples.length && run.samples.t[i]! <= t; i++) {
      readRow(run.samples, i, row);
      while (e < events.length && events[e]!.t < row.t) client.addEvent(events[e++] as WireEvent, `f${e}`);
      client.addSample(toWireSample(row));
    }
    client.flush();
  };
  return {
    client,
    firstAlertT,
    async warmUp(seconds) {
      if (seconds >= firstAlertT) throw new Error('the warm-up must end before the first alert');
      const pushed = new Promise<void>((resolve) => client.socket.once('risk', () => resolve()));
      sendUntil(seconds);
      await client.drain();
      await pushed;
    },
    dropConnection() {
      return new Promise((resolve) => {
        client.socket.once('connect', () => resolve({ recovered: client.socket.recovered }));
        client.socket.io.engine.close();
      });
    },
    sendThroughFirstAlert() {
      const t0 = performance.now();
      const arrived = new Promise<{ ms: number; at: number }>((resolve) => {
        const check = (a: { t: number }) => {
          if (a.t !== firstAlertT) return;
          client.socket.off('alert', check);
          const at = performance.now();
          resolve({ ms: at - t0, at });
        };
        client.socket.on('alert', check);
      });
      sendUntil(firstAlertT + 60);
      return arrived;
    },
    async finish() {
      sendUntil(Infinity);
      while (e < events.length) client.addEvent(events[e++] as WireEvent, `f${e}`);
      const report = await client.end();
      client.close();
      return { fleet, token, packets, result: { id: client.run?.id ?? start.id, runId, alerts: client.alerts, report, client } };
    },
  };
}
