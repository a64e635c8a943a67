/**
 * Plays a recorded run to a server as a watch would: samples in batches, events in their place (after every
 * sample at or before their time), paced at N× real time (0 = as fast as acks allow).
 * @module
 */
import type { Conditions, Profile, Report, SessionKind } from '../../alerts/types.js';
import { emptySample, readRow, type NormalizedRun } from '../../ingest/sample.js';
import { toWireSample, WatchClient, type WatchClientOptions } from './client.js';
import type { WireAlert, WireEvent } from './events.js';

export interface ReplayOptions extends WatchClientOptions {
  /** Real-time factor: 1 = as recorded, 10 = ten times faster, 0 = as fast as the server acks. @default 0 */
  speed?: number;
  profile?: Profile;
  conditions?: Conditions;
  sessionKind?: SessionKind;
  /** The run id to use (resuming the same id continues that run). @default random */
  runId?: string;
  /** Called with the client once started (tests use it to disconnect it on purpose). */
  onStarted?: (client: WatchClient) => void;
  /** Most batches waiting for an ack before the replay pauses reading. @default 16 */
  maxBacklog?: number;
}

export interface ReplayResult {
  /** Server run id. */
  id: string;
  runId: string;
  alerts: WireAlert[];
  report: Report;
  client: WatchClient;
}

function randomRunId(): string {
  return `replay-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export async function replayRun(run: NormalizedRun, options: ReplayOptions): Promise<ReplayResult> {
  const speed = options.speed ?? 0;
  const client = new WatchClient(options);
  try {
    const runId = options.runId ?? randomRunId();
    const cols = run.samples;
    const firstTs = cols.length > 0 ? cols.timestamp[0]! : NaN;
    const startTime = run.meta.startTime ?? (Number.isFinite(firstTs) ? new Date(firstTs).toISOString() : new Date().toISOString());
    const ack = await client.start({
      runId,
      startTime,
      ...(options.conditions ? { conditions: options.conditions } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.sessionKind ? { sessionKind: options.sessionKind } : {}),
    });
    options.onStarted?.(client);
    const events = [...run.events].sort((a, b) => a.t - b.t);
    let e = 0;
    const wallStart = performance.now();
    const t0 = cols.length > 0 ? cols.t[0]! : 0;
    const row = emptySample();
    const maxBacklog = options.maxBacklog ?? 16;
    for (let i = 0; i < cols.length; i++) {
      readRow(cols, i, row);
      // Events take effect after every sample at or before their time.
      while (e < events.length && events[e]!.t < row.t) client.addEvent(events[e++] as WireEvent, `f${e}`);
      if (speed > 0) {
        const due = ((row.t - t0) / speed) * 1000 - (performance.now() - wallStart);
        if (due > 1) {
          client.flush();
          await sleep(due);
        }
      }
      client.addSample(toWireSample(row));
      if (client.backlog > maxBacklog) await client.drain();
    }
    while (e < events.length) client.addEvent(events[e++] as WireEvent, `f${e}`);
    const report = await client.end();
    return { id: client.run?.id ?? ack.id, runId, alerts: client.alerts, report, client };
  } finally {
    client.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
