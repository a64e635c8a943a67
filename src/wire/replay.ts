/**
 * Plays a recorded run to a server as a watch would: samples in batches, events in their place, paced at N× real
 * time (0 = as fast as acks allow). What is sent, and in which order, comes from the one feed (ingest/feed.ts):
 * the running legs of a multisport file, the ordering rule, and the sport the report used.
 * @module
 */
import type { Conditions, Profile, Report, SessionKind } from '../../alerts/types.js';
import { runFeed } from '../../ingest/feed.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { toWireSample, WatchClient, type WatchClientOptions } from './client.js';
import type { WireAlert, WireEvent, WireSample } from './events.js';

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
  /**
   * Paced replays (speed > 0) wait in steps of at least this many ms, sending what fell due in one batch (a page
   * drawing each step wants ~50; the CLI sends each sample when it falls due). @default 1
   */
  minWaitMs?: number;
  /** Called with the samples sent since the previous call, each time the replay waits and once at the end. */
  onSamples?: (samples: SentSample[]) => void;
  /** Aborting stops sending: the run is ended with what was sent, and its report returned. */
  signal?: AbortSignal;
}

/** A sample as sent: the wire shape, with its time. */
export type SentSample = WireSample & { t: number };

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
    const feed = runFeed(run);
    const firstTs = cols.length > 0 ? cols.timestamp[0]! : NaN;
    const startTime = run.meta.startTime ?? (Number.isFinite(firstTs) ? new Date(firstTs).toISOString() : new Date().toISOString());
    const ack = await client.start({
      runId,
      startTime,
      ...(options.conditions ? { conditions: options.conditions } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.sessionKind ? { sessionKind: options.sessionKind } : {}),
      ...(feed.sport ? { sport: feed.sport } : {}),
    });
    options.onStarted?.(client);
    const wallStart = performance.now();
    const t0 = cols.length > 0 ? cols.t[0]! : 0;
    const maxBacklog = options.maxBacklog ?? 16;
    const minWaitMs = Math.max(1, options.minWaitMs ?? 1);
    const { signal, onSamples } = options;
    let sent: SentSample[] = [];
    const deliverSent = () => {
      if (onSamples && sent.length > 0) onSamples(sent);
      sent = [];
    };
    const cursor = feed.cursor();
    const row = cursor.sample;
    let e = 0;
    for (let step = cursor.next(); step !== 'done' && !signal?.aborted; step = cursor.next()) {
      if (step === 'event') {
        client.addEvent(cursor.event as WireEvent, `f${++e}`);
        continue;
      }
      if (speed > 0) {
        const due = ((row.t - t0) / speed) * 1000 - (performance.now() - wallStart);
        if (due > minWaitMs) {
          client.flush();
          deliverSent();
          await sleep(due, signal);
          if (signal?.aborted) break;
        }
      }
      const sample = toWireSample(row) as SentSample;
      client.addSample(sample);
      if (onSamples) sent.push(sample);
      if (client.backlog > maxBacklog) {
        deliverSent();
        await client.drain();
      }
    }
    client.flush();
    deliverSent();
    const ended = await client.end();
    return { id: client.run?.id ?? ack.id, runId, alerts: client.alerts, report: ended, client };
  } finally {
    client.close();
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
