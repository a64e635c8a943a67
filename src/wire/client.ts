/**
 * A reusable watch client for the /watch protocol: start (and resume), sample batching with per-run sequence
 * numbers, events in order with the samples, resend of everything unacked after any reconnect (and after a
 * server restart), alert dedupe by id. Used by `crampguard replay`, the tests, and later the dashboard's
 * simulator and load generators.
 *
 * Delivery: at-least-once from here, exactly-once in effect because the server dedupes on (run, seq) for batches
 * and (run, id) for events. The outbox keeps items in the order they were added; after a reconnect it sends
 * `start` again (which answers with the highest contiguous seq stored and the alert log) and resends the rest.
 * @module
 */
import { io, type Socket } from 'socket.io-client';
import { HttpWatchLink } from './http-link.js';
import type { Report } from '../../alerts/types.js';
import type { Sample } from '../../ingest/sample.js';
import type {
  Ack,
  BatchAck,
  ClientToServerEvents,
  EndAck,
  EventAck,
  ServerToClientEvents,
  StartAck,
  StartRun,
  WatchError,
  WireAlert,
  WireEvent,
  WireRisk,
  WireSample,
} from './events.js';

export interface WatchClientOptions {
  /**
   * Server base URL, e.g. http://localhost:8080, or several (processes of one service): the client starts at the
   * first and, when the connection drops or cannot be made, moves to the next one (round robin) and resumes.
   */
  url: string | readonly string[];
  token: string;
  /**
   * `websocket`: the /watch socket.io namespace. `http`: `POST /api/watch/...` (src/wire/http-link.ts), for
   * apps that cannot hold a websocket; alerts then come in the answers instead of pushes. @default 'websocket'
   */
  transport?: 'websocket' | 'http';
  /** Samples per batch. @default 30 */
  batchSize?: number;
  /** Messages awaiting an ack at once. @default 4 */
  window?: number;
  /** Resend a message not acked within this long, ms. @default 5000 */
  ackTimeoutMs?: number;
  /** Reconnect delay bounds, ms. @default 250 / 2000 */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  onAlert?: (alert: WireAlert) => void;
  onRisk?: (risk: WireRisk) => void;
  /** A message the server refused for good (bad data): it is dropped. */
  onRejected?: (what: string, error: WatchError['error']) => void;
  /** What a previous client of this run had not sent or had not had acked (`pending()`, kept across a reload). */
  restore?: PendingState;
  /** Called whenever what `pending()` returns may have changed (a sample added, a batch acked...). */
  onPendingChange?: () => void;
}

/** A message not yet acked, as `pending()` hands it out. */
export type PendingItem = { kind: 'batch'; seq: number; samples: WireSample[] } | { kind: 'event'; id: string; event: WireEvent };

/** Everything a client holds that the server has not acked: enough to carry on after the app is reloaded. */
export interface PendingState {
  /** The seq the next batch gets. */
  nextSeq: number;
  /** Batches and events in the order they were added. */
  items: PendingItem[];
  /** Samples not yet in a batch. */
  buffer: WireSample[];
}

type Item =
  | { kind: 'batch'; seq: number; samples: WireSample[]; sent: number }
  | { kind: 'event'; id: string; event: WireEvent; sent: number };

export class WatchClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WatchClientStats {
  batchesSent: number;
  resends: number;
  duplicates: number;
  reconnects: number;
  seqGaps: number;
  /** Moves to another URL (several URLs only). */
  failovers: number;
  /** Starts refused because another server process still held the run (RUN_ELSEWHERE). */
  elsewhere: number;
}

/** One run from one watch. */
export class WatchClient {
  readonly alerts: WireAlert[] = [];
  readonly stats: WatchClientStats = { batchesSent: 0, resends: 0, duplicates: 0, reconnects: 0, seqGaps: 0, failovers: 0, elsewhere: 0 };
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private sock!: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** A move to the next URL is scheduled. */
  private switching = false;
  /** Failed connection attempts since the last connect (back-off across URLs). */
  private attempts = 0;
  private connectWaiters: Array<() => void> = [];
  private readonly seen = new Set<string>();
  private readonly opts: Required<Pick<WatchClientOptions, 'batchSize' | 'window' | 'ackTimeoutMs'>> & WatchClientOptions;
  private startMsg: StartRun | null = null;
  private startAck: StartAck | null = null;
  private buffer: WireSample[] = [];
  private outbox: Item[] = [];
  private nextSeq = 1;
  private eventCounter = 0;
  private inflight = 0;
  /** Bumped on every (re)connection: answers from an older connection are ignored. */
  private epoch = 0;
  private resuming: Promise<void> | null = null;
  private idleWaiters: Array<() => void> = [];
  private failure: WatchClientError | null = null;
  private closed = false;

  constructor(options: WatchClientOptions) {
    this.opts = { batchSize: 30, window: 4, ackTimeoutMs: 5000, ...options };
    this.urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (options.restore) {
      this.outbox = options.restore.items.map((i) => ({ ...i, sent: 0 }));
      this.buffer = [...options.restore.buffer];
      this.nextSeq = options.restore.nextSeq;
    }
    if (this.urls.length === 0) throw new WatchClientError('USAGE', 'give at least one server URL');
    this.open(this.urls[0]!);
  }

  /** The current connection; after a move to another URL it is a new socket (listen through the options). */
  get socket(): Socket<ServerToClientEvents, ClientToServerEvents> {
    return this.sock;
  }

  /** The URL currently used. */
  get url(): string {
    return this.urls[this.urlIndex]!;
  }

  private open(url: string): void {
    // One URL: socket.io's own reconnection. Several: this client moves between them itself.
    const several = this.urls.length > 1;
    const delays = { reconnectionDelay: this.opts.reconnectDelayMs ?? 250, reconnectionDelayMax: this.opts.reconnectDelayMaxMs ?? 2000 };
    // Over HTTP a link shaped like the part of a socket used here stands in for it.
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> =
      this.opts.transport === 'http'
        ? (new HttpWatchLink(url, { token: this.opts.token, ...delays }) as unknown as Socket<ServerToClientEvents, ClientToServerEvents>)
        : io(`${url.replace(/\/$/, '')}/watch`, {
            transports: ['websocket'],
            auth: { token: this.opts.token },
            ...delays,
            autoConnect: true,
            ...(several ? { reconnection: false, forceNew: true } : {}),
          });
    this.sock = socket;
    socket.on('alert', (a) => this.deliver(a));
    socket.on('risk', (r) => {
      if (this.startMsg && r.runId === this.startMsg.runId) this.opts.onRisk?.(r);
    });
    socket.on('connect', () => {
      this.epoch++;
      if (this.epoch > 1) this.stats.reconnects++;
      this.inflight = 0;
      this.attempts = 0;
      this.wakeConnectWaiters();
      if (!this.startMsg) return;
      // socket.io restored this connection's server-side state (same process, rooms, the pushes missed): the
      // run's session is most likely still open there, so resend what is unacked at once. That needs no store
      // round trip, so prompts go on through a brief drop while the database is down. A server that no longer
      // has the session answers UNKNOWN_RUN, and the client then sends start as after any other reconnect.
      if (socket.recovered && this.startAck && !this.resuming) this.pump();
      else void this.resume().catch(() => {});
    });
    socket.on('connect_error', (err) => {
      const code = (err as Error & { data?: { code?: string } }).data?.code;
      // A refused token will not get better by retrying.
      if (code === 'BAD_TOKEN' || code === 'UNAUTHENTICATED') return this.fail(new WatchClientError(code, err.message));
      if (several) this.failOver();
      // A refusal by the server's middleware (STORE_UNAVAILABLE while the database is down) ends socket.io's own
      // reconnection: without this the watch would stay offline for good after a database outage.
      else if (!socket.active) this.reconnectLater(socket);
    });
    socket.on('disconnect', (reason) => {
      if (several && reason !== 'io client disconnect') this.failOver();
      else if (!several && reason === 'io server disconnect') this.reconnectLater(socket);
    });
  }

  /** One URL, socket.io no longer retrying by itself: connect again after the usual back-off. */
  private reconnectLater(socket: Socket<ServerToClientEvents, ClientToServerEvents>): void {
    const base = this.opts.reconnectDelayMs ?? 250;
    const max = this.opts.reconnectDelayMaxMs ?? 2000;
    const delay = Math.min(max, base * 2 ** Math.min(this.attempts, 10)) * (0.5 + Math.random() / 2);
    this.attempts++;
    setTimeout(() => {
      if (!this.closed && !this.failure && this.sock === socket && !socket.connected && !socket.active) socket.connect();
    }, delay);
  }

  /** Moves to the next URL: at once after a drop, backing off once every URL has been tried. */
  private failOver(): void {
    if (this.switching || this.closed || this.failure) return;
    this.switching = true;
    const base = this.opts.reconnectDelayMs ?? 250;
    const max = this.opts.reconnectDelayMaxMs ?? 2000;
    const rounds = Math.floor(this.attempts / this.urls.length);
    const delay = this.attempts === 0 ? 0 : Math.min(max, base * 2 ** rounds) * (0.5 + Math.random() / 2);
    this.attempts++;
    setTimeout(() => {
      this.switching = false;
      if (this.closed || this.failure) return;
      const old = this.sock;
      old.removeAllListeners();
      old.disconnect();
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      this.stats.failovers++;
      this.open(this.urls[this.urlIndex]!);
    }, delay);
  }

  private wakeConnectWaiters(): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) w();
  }

  /** The server's answer to the last start (run ids, settings). */
  get run(): StartAck | null {
    return this.startAck;
  }

  /** Starts (or resumes, with the same runId) a run. */
  async start(msg: StartRun): Promise<StartAck> {
    this.startMsg = msg;
    await this.waitConnected();
    await this.resume();
    return this.startAck!;
  }

  /** Queues a sample; a full batch is sent at once. */
  addSample(sample: WireSample): void {
    this.buffer.push(sample);
    if (this.buffer.length >= this.opts.batchSize) this.flush();
    else this.opts.onPendingChange?.();
  }

  /** Queues an event after every sample added so far (that is the engine's ordering rule). */
  addEvent(event: WireEvent, id = `e${++this.eventCounter}`): void {
    this.flush();
    this.outbox.push({ kind: 'event', id, event, sent: 0 });
    this.opts.onPendingChange?.();
    this.pump();
  }

  /** Sends the samples buffered so far as a batch. */
  flush(): void {
    if (this.buffer.length === 0) return;
    this.outbox.push({ kind: 'batch', seq: this.nextSeq++, samples: this.buffer, sent: 0 });
    this.buffer = [];
    this.opts.onPendingChange?.();
    this.pump();
  }

  /** Resolves when everything added so far is acked (stored on the server). */
  drain(): Promise<void> {
    this.flush();
    if (this.failure) return Promise.reject(this.failure);
    if (this.outbox.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.idleWaiters.push(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }

  /** What is not acked yet, copied (store it to carry on after a reload: pass it back as `restore`). */
  pending(): PendingState {
    return {
      nextSeq: this.nextSeq,
      items: this.outbox.map((i) => (i.kind === 'batch' ? { kind: 'batch', seq: i.seq, samples: i.samples } : { kind: 'event', id: i.id, event: i.event })),
      buffer: [...this.buffer],
    };
  }

  /** Items waiting for an ack (for back-pressure in simulators). */
  get backlog(): number {
    return this.outbox.length + (this.buffer.length ? 1 : 0);
  }

  /** Drains, ends the run and returns the report; retried across reconnects. */
  async end(): Promise<Report> {
    await this.drain();
    const runId = this.requireStarted().runId;
    for (;;) {
      await this.waitConnected();
      if (this.resuming) await this.resuming;
      const epoch = this.epoch;
      let r: Ack<EndAck>;
      try {
        r = await this.socket.timeout(Math.max(this.opts.ackTimeoutMs, 30_000)).emitWithAck('end', { runId });
      } catch {
        continue; // no answer (disconnected or slow): ask again; ending twice is harmless
      }
      if (r.ok) return r.report;
      if (r.error.code === 'UNKNOWN_RUN' && epoch === this.epoch) {
        // Not open on this server process (restart): resuming reopens it, or returns the report if it ended.
        await this.resume();
        if (this.startAck?.status === 'ended' && this.startAck.report) return this.startAck.report;
        continue;
      }
      if (r.error.code === 'STORE_UNAVAILABLE' || r.error.code === 'RATE_LIMITED') {
        await sleep(500);
        continue;
      }
      throw new WatchClientError(r.error.code, r.error.message);
    }
  }

  close(): void {
    this.closed = true;
    this.sock.disconnect();
  }

  private requireStarted(): StartRun {
    if (!this.startMsg) throw new WatchClientError('NOT_STARTED', 'call start() first');
    return this.startMsg;
  }

  private deliver(alert: WireAlert): void {
    if (!this.startMsg || alert.runId !== this.startMsg.runId || this.seen.has(alert.id)) return;
    this.seen.add(alert.id);
    this.alerts.push(alert);
    this.opts.onAlert?.(alert);
  }

  private fail(err: WatchClientError): void {
    this.failure ??= err;
    this.wakeIdle();
    this.wakeConnectWaiters();
    if (!this.closed) this.socket.disconnect();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private waitConnected(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.sock.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.connectWaiters.push(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }

  /** Sends start (again) and, once answered, everything unacked. One at a time. */
  private resume(): Promise<void> {
    this.resuming ??= (async () => {
      const msg = this.requireStarted();
      for (;;) {
        if (this.failure) throw this.failure;
        await this.waitConnected();
        const epoch = this.epoch;
        let r: Ack<StartAck>;
        try {
          r = await this.socket.timeout(this.opts.ackTimeoutMs).emitWithAck('start', msg);
        } catch {
          continue;
        }
        if (!r.ok) {
          if (r.error.code === 'STORE_UNAVAILABLE' || r.error.code === 'RATE_LIMITED') {
            await sleep(500);
            continue;
          }
          if (r.error.code === 'TOO_MANY_RUNS') {
            // Every run slot of this athlete is busy: one frees up when a run ends or goes quiet.
            await sleep(Math.min(5000, Math.max(500, r.retryAfterMs ?? 1000)));
            continue;
          }
          if (r.error.code === 'RUN_ELSEWHERE') {
            // Another server process still holds the run (its lease lapses within seconds if it died).
            this.stats.elsewhere++;
            await sleep(500);
            continue;
          }
          const err = new WatchClientError(r.error.code, r.error.message);
          this.fail(err);
          throw err;
        }
        if (epoch !== this.epoch) continue;
        this.startAck = r;
        for (const a of r.alerts) this.deliver({ ...a, runId: msg.runId });
        this.acked(r.contiguousSeq);
        // A fresh client resuming a run the server already has batches of (the app restarted): number on from there.
        if (this.nextSeq <= r.contiguousSeq && !this.outbox.some((i) => i.kind === 'batch')) this.nextSeq = r.contiguousSeq + 1;
        return;
      }
    })().finally(() => {
      this.resuming = null;
      this.pump();
    });
    return this.resuming;
  }

  /** Drops every batch up to `contiguousSeq` from the outbox. */
  private acked(contiguousSeq: number): void {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((i) => i.kind !== 'batch' || i.seq > contiguousSeq);
    if (before !== this.outbox.length) this.opts.onPendingChange?.();
    if (before !== this.outbox.length && this.outbox.length === 0) this.wakeIdle();
  }

  private pump(): void {
    if (this.resuming || !this.startAck || !this.socket.connected || this.failure) return;
    for (const item of this.outbox) {
      if (this.inflight >= this.opts.window) return;
      if (item.sent !== this.epoch) {
        if (item.sent !== 0) this.stats.resends++;
        item.sent = this.epoch;
        this.inflight++;
        this.send(item, this.epoch);
      }
      // An event is a barrier: no later batch goes out until the event is acked. The server applies an event
      // that arrives after later samples at the last sample's time, so a refused event (RATE_LIMITED, a drop)
      // overtaken by the next batch would shift it, and every prompt that depends on it, against `analyze`.
      if (item.kind === 'event') return;
    }
  }

  private send(item: Item, epoch: number): void {
    const runId = this.requireStarted().runId;
    const answer =
      item.kind === 'batch'
        ? this.socket.timeout(this.opts.ackTimeoutMs).emitWithAck('samples', { runId, seq: item.seq, samples: item.samples })
        : this.socket.timeout(this.opts.ackTimeoutMs).emitWithAck('event', { runId, id: item.id, event: item.event });
    if (item.kind === 'batch') this.stats.batchesSent++;
    (answer as Promise<Ack<BatchAck | EventAck>>).then(
      (r) => this.onAnswer(item, epoch, r),
      () => {
        // No ack in time: on a live connection send it again (the server dedupes); otherwise `connect` resends.
        if (epoch !== this.epoch) return;
        this.inflight--;
        item.sent = 0;
        this.pump();
      },
    );
  }

  private onAnswer(item: Item, epoch: number, r: Ack<BatchAck | EventAck>): void {
    if (epoch !== this.epoch) return;
    this.inflight--;
    if (r.ok) {
      if ('duplicate' in r && r.duplicate) this.stats.duplicates++;
      const raised = (r as BatchAck).alerts;
      if (item.kind === 'batch' && raised) for (const a of raised) this.deliver(a);
      if (item.kind === 'batch') this.acked((r as BatchAck).contiguousSeq);
      else this.remove(item);
      this.pump();
      return;
    }
    const { code } = r.error;
    switch (code) {
      case 'SEQ_GAP': {
        // Something before this batch did not arrive: resend from the seq the server expects.
        this.stats.seqGaps++;
        const expected = r.expectedSeq ?? 1;
        if (!this.outbox.some((i) => i.kind === 'batch' && i.seq === expected)) {
          // The server expects a batch it acked already (its session is behind the store, e.g. it lost the
          // run's lease meanwhile): a start makes it rebuild from the store, then the rest is resent.
          item.sent = 0;
          void this.resume().catch(() => {});
          return;
        }
        for (const i of this.outbox) if (i.kind === 'batch' && i.seq >= expected) i.sent = 0;
        item.sent = 0;
        setTimeout(() => this.pump(), 20);
        return;
      }
      case 'RATE_LIMITED':
      case 'STORE_UNAVAILABLE':
        item.sent = 0;
        // The server says how long when it knows (a samples budget refills within a second).
        setTimeout(() => this.pump(), Math.min(5000, Math.max(20, r.retryAfterMs ?? 500)));
        return;
      case 'UNKNOWN_RUN':
        // The server lost the session (restart, store failure): start again, which resumes.
        item.sent = 0;
        void this.resume().catch(() => {});
        return;
      case 'INTERNAL':
        // The server dropped the session after a failure of its own: resume a little later and resend.
        item.sent = 0;
        setTimeout(() => void this.resume().catch(() => {}), 500);
        return;
      default:
        // Refused for good (bad data): drop it so the rest can go on, and say so.
        this.opts.onRejected?.(item.kind === 'batch' ? `batch ${item.seq}` : `event ${item.id}`, r.error);
        this.remove(item);
        if (item.kind === 'batch') {
          // A refused seq stays free on the server, and no later batch can have been accepted (they would be
          // gaps): number the later ones down by one and send them again.
          for (const i of this.outbox) {
            if (i.kind === 'batch' && i.seq > item.seq) {
              i.seq--;
              i.sent = 0;
            }
          }
          this.nextSeq--;
          this.opts.onPendingChange?.();
        }
        this.pump();
    }
  }

  private remove(item: Item): void {
    const i = this.outbox.indexOf(item);
    if (i >= 0) this.outbox.splice(i, 1);
    this.opts.onPendingChange?.();
    if (this.outbox.length === 0) this.wakeIdle();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wire form of a normalised sample: missing (NaN) values left out. */
export function toWireSample(s: Readonly<Sample>): WireSample {
  const w: WireSample = { t: s.t };
  if (Number.isFinite(s.timestamp)) w.timestamp = s.timestamp;
  if (!Number.isNaN(s.hr)) w.hr = s.hr;
  if (!Number.isNaN(s.cadence)) w.cadence = s.cadence;
  if (!Number.isNaN(s.speed)) w.speed = s.speed;
  if (!Number.isNaN(s.distance)) w.distance = s.distance;
  if (!Number.isNaN(s.altitude)) w.altitude = s.altitude;
  if (!Number.isNaN(s.temperature)) w.temperature = s.temperature;
  if (!Number.isNaN(s.respiration)) w.respiration = s.respiration;
  if (!Number.isNaN(s.power)) w.power = s.power;
  return w;
}
