/**
 * The /watch socket.io namespace: handshake auth, per-message validation with coded error acks, flood
 * control, and cluster coordination (run leases, follower announcements). The live runs themselves are the
 * transport-free core's (src/live/: the registry of open runs, one session per run); this adapter turns its
 * output into room broadcasts and its refusals into error acks.
 *
 * Rooms: `run:<id>` gets `alert` and `risk` (the watch and any following dashboard); `follow:<id>` also gets
 * `samples` and `ended`. Alerts and risk are emitted without acks so that connection state recovery can replay
 * them after a short gap; after a long one the watch's `start` (resume) returns the alert log.
 * @module
 */
import type { Logger } from 'pino';
import type { Namespace, Server, Socket } from 'socket.io';
import type { Alert, Profile } from '../../alerts/types.js';
import { MAX_BATCH_SAMPLES, parseWireBatch, type WireSample } from '../../ingest/live.js';
import type { RunEvent } from '../../ingest/sample.js';
import type {
  Ack,
  BatchAck,
  ClientToServerEvents,
  EndAck,
  EventAck,
  HandshakeErrorCode,
  HandshakeErrorData,
  ServerToClientEvents,
  StartAck,
  WatchError,
  WatchErrorCode,
} from '../wire/events.js';
import { EndRunMsg, EventMsgSchema, FollowByIdMsg, isPlainSampleBatchMsg, SampleBatchMsgSchema, StartRunMsg, type SampleBatchMsg } from '../wire/schemas.js';
import { bearerToken } from './auth.js';
import { describeZodError } from './errors.js';
import { LiveBacklog } from '../live/backlog.js';
import { LiveError, type Outcome } from '../live/errors.js';
import { GroupCommit } from '../live/group-commit.js';
import { LiveRegistry, type LiveRunLimits } from '../live/registry.js';
import type { BatchAnswer, LiveSession } from '../live/session.js';
import type { Store } from '../store/types.js';
import type { Analyzer } from './analyzer.js';
import { summarizeRun } from '../athlete/summary.js';
import { AthleteService, stampReport, type ServerEngineOptions } from './athlete.js';
import type { RunLeases } from './lease.js';
import type { Metrics } from './metrics.js';
import { clientAddress, type TrustProxy } from './client-address.js';
import { TokenBuckets, type Bucket, type HandshakeLimiter } from './rate-limit.js';
import { hashToken } from '../store/shared.js';
import { timingSafeEqual } from 'node:crypto';

interface SocketData {
  athleteId: string;
  /** Digest of the token this connection was authenticated with (kept through connection state recovery). */
  tokenHash: string;
}

export { DEFAULT_LIVE_RUN_LIMITS, type LiveRunLimits } from '../live/registry.js';
/** Broadcasts socket.io keeps for recovering connections, at most (SOCKET_RECOVERY_MAX_PACKETS). */
export const DEFAULT_RECOVERY_MAX_PACKETS = 50_000;
/** How long packets held for a recovering handshake wait for it to be authenticated, ms. */
const HELD_PACKETS_MS = 30_000;
/** A packet socket.io buffered for a recovering connection: the event name, its arguments, the offset last. */
type MissedPacket = unknown[];
type WatchSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type WatchNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Token bucket per socket: a steady 50 messages/s with bursts of 200 (a watch sends one batch every few s). */
export const FLOOD_RATE_PER_S = 50;
export const FLOOD_BURST = 200;
/** The events a watch or dashboard may send; anything else is answered BAD_MESSAGE. */
const KNOWN_EVENTS: ReadonlySet<string> = new Set(['start', 'samples', 'event', 'end', 'follow', 'unfollow']);
/** Server-side event (through the adapter) asking a run's lease owner to let it go: its watch moved here. */
const RELEASE_RUN = 'crampguard:release-run';
/**
 * Server-side event: "a dashboard here follows this run". With several processes the owner cannot see other
 * processes' rooms, so followers are announced (and re-announced while they stay); the owner publishes a run's
 * samples through Redis only while an announcement is fresh, instead of every batch of every run.
 */
const FOLLOWED_RUN = 'crampguard:followed-run';
const FOLLOW_ANNOUNCE_MS = 10_000;
/** An announcement counts for this long; a newly opened session publishes for this long before it has heard any. */
const FOLLOW_FRESH_MS = 3 * FOLLOW_ANNOUNCE_MS;

export interface WatchDeps {
  /**
   * Samples a second per connection and per live run, counted before a batch is parsed (each RR value counts
   * as a sample too); 0 = no limit. @default 0
   */
  samplesPerS?: number;
  /** The same budget per athlete, over all its connections and runs (this process); 0 = no limit. @default 0 */
  athleteSamplesPerS?: number;
  /** Messages a second per connection (bursts of 4 s worth). @default {@link FLOOD_RATE_PER_S} */
  messagesPerS?: number;
  /** Messages a second per athlete over all its connections (bursts of 4 s worth); 0 = no limit. @default 0 */
  athleteMessagesPerS?: number;
  /** Broadcasts kept for connection state recovery, at most (in-memory adapter). @default 50 000 */
  recoveryMaxPackets?: number;
  /** Caps on the live runs in memory. @default DEFAULT_LIVE_RUN_LIMITS (src/live/registry.ts) */
  runLimits?: Partial<LiveRunLimits>;
  /** Whose address a handshake comes from behind proxies (TRUST_PROXY). @default the TCP peer's */
  trustProxy?: TrustProxy;
  /** Handshake budgets per client address, checked before a token is looked up. @default none */
  handshakes?: HandshakeLimiter;
  /** True when a cross-process adapter (Redis) is in use. @default false */
  clustered?: boolean;
  /** One owner per live run across processes (set with Redis); without it every start opens the run here. */
  leases?: RunLeases;
  store: Store;
  analyzer: Analyzer;
  metrics: Metrics;
  log: Logger;
  /** Unstored live samples and the store's write health, shared with /healthz. @default default caps */
  backlog?: LiveBacklog;
}

/**
 * A watch's connection as the message handlers see it: a socket here, or a watch speaking HTTP
 * (src/server/watch-http.ts). The four watch messages mean the same on both.
 */
export interface WatchConn {
  /** Key of the connection's samples budget: the socket id, or one per athlete over HTTP. */
  readonly id: string;
  readonly athleteId: string;
  /** socket.io restored this connection's state after a short gap (always false over HTTP). */
  readonly recovered: boolean;
  /** The keys of the run this connection sent samples for last: see {@link RunKeys}. Kept by the watch service. */
  runKeys?: RunKeys;
  /** Socket only: joins the room of the run it started (pushes `alert` and `risk`), and keeps the run here. */
  joinRun?(runId: string): Promise<void>;
}

/**
 * What a connection's samples messages need besides the message: the keys of its budgets and of its run in the
 * registry. A watch sends one run's samples message after message, so they are built once per run, not per message
 * (each built anew was a string to allocate, flatten and hash at every lookup; keeping them saved ~2 % of the
 * server's CPU per message at saturation).
 */
interface RunKeys {
  /** The connection's samples budget. */
  readonly conn: string;
  readonly clientRunId: string;
  /** The run's samples budget. */
  readonly run: string;
  /** The run in the live registry. */
  readonly registry: string;
  /** The buckets of the three samples budgets (connection, run, athlete) as last used: no map lookup while they hold. */
  held: { conn: Bucket | undefined; run: Bucket | undefined; athlete: Bucket | undefined };
}

/** The messages a watch sends, on either transport. */
export type WatchMessage = 'start' | 'samples' | 'event' | 'end';

function fail(code: WatchErrorCode, message: string, expectedSeq?: number, retryAfterMs?: number) {
  return {
    ok: false as const,
    error: { code, message },
    ...(expectedSeq !== undefined ? { expectedSeq } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** How many samples a raw `samples` message claims to carry (before anything is parsed). */
function claimedSamples(raw: unknown): number {
  const samples = (raw as { samples?: unknown } | null)?.samples;
  return Array.isArray(samples) ? Math.max(1, samples.length) : 1;
}

/**
 * What a raw batch costs the samples budget: its samples plus the RR values they claim to carry (a sample may
 * carry 256: counting samples only let a batch of 600 carry 153,600 values for the price of 600).
 */
function claimedCost(raw: unknown, samples: number): number {
  const list = (raw as { samples?: unknown } | null)?.samples;
  if (!Array.isArray(list)) return samples;
  let rr = 0;
  for (const s of list) {
    const r = (s as { rr?: unknown } | null)?.rr;
    if (Array.isArray(r)) rr += r.length;
  }
  return samples + rr;
}

function unwrap<T>(o: Outcome<T>): T {
  if (!o.ok) throw o.error;
  return o.value;
}

/** A stored batch's ack, field by field (not spread: every batch's ack is built here). */
function batchAck(msg: SampleBatchMsg, r: BatchAnswer): { ok: true } & BatchAck {
  const ack: { ok: true } & BatchAck = { ok: true, runId: msg.runId, seq: msg.seq, contiguousSeq: r.contiguousSeq, duplicate: r.duplicate };
  if (r.alerts) ack.alerts = r.alerts;
  return ack;
}

function mergeProfile(stored: Profile, overrides: Profile | undefined): Profile {
  return overrides ? { ...stored, ...overrides } : stored;
}

export class WatchService {
  /** The open live runs of this process (src/live/registry.ts). */
  private readonly runs: LiveRegistry;
  private readonly nsp: WatchNamespace;
  /** The profile a live run's engine gets: typed (and the watch's overrides) > learned > default, with the journal. */
  private readonly athletes: AthleteService;

  /** With a cross-process adapter the local room list is not the whole picture. */
  private readonly clustered: boolean;
  /** Server run id → the socket that last started it here: the owner keeps a run whose watch is still here. */
  private readonly watchSockets = new Map<string, string>();
  /** Server run id → when another process last said a dashboard there follows it. */
  private readonly followedAt = new Map<string, number>();
  private announcer: NodeJS.Timeout | null = null;
  /** Samples budget: keys `c:<socket id>` (per connection) and `r:<athlete>\0<run id>` (per live run). */
  private readonly sampleBudget: TokenBuckets | null;
  /** Samples budget per athlete, keyed by athlete id. */
  private readonly athleteSampleBudget: TokenBuckets | null;
  /** Messages budget per athlete, keyed by athlete id. */
  private readonly athleteMessages: TokenBuckets | null;
  /** Messages budget per connection, keyed `m:<socket id>`. */
  private readonly connMessages: TokenBuckets;
  /** Packets socket.io kept for a recovering connection, by recovery id: sent once its token checks out. */
  private readonly heldPackets = new Map<string, MissedPacket[]>();
  /** Sessions whose first risk push was kept for recovery (see boundRecoveryBuffer). */
  private readonly riskKept = new WeakSet<LiveSession>();
  /** Each session's `follow:<id>` room name (see followRoom). */
  private readonly followRooms = new WeakMap<LiveSession, string>();
  /** Set while the risk push being broadcast is to be kept. */
  private keepRisk = false;
  /**
   * `follow:` rooms in this process's adapter: while none exists, a batch's samples go to no one here without a
   * lookup of its room (the rooms map holds every socket's own room too: one lookup a message in a map of 10,000+).
   */
  private followRoomsHere = 0;

  constructor(
    io: Server,
    private readonly deps: WatchDeps,
  ) {
    this.clustered = deps.clustered ?? false;
    this.nsp = io.of('/watch') as unknown as WatchNamespace;
    this.athletes = new AthleteService(deps.store, deps.analyzer);
    const { store, analyzer } = deps;
    this.runs = new LiveRegistry({
      store,
      commit: new GroupCommit(store),
      backlog: deps.backlog ?? new LiveBacklog(),
      finisher: {
        analyze: async (run, options) => stampReport(await analyzer.analyzeRun(run, options), options),
        // O(n) on the event loop: a few ms for a live run of some hours (an upload's is summarised in its worker).
        learn: async (athleteId, runId, run) => {
          await store.saveRunSummary(athleteId, runId, summarizeRun(run));
        },
      },
      metrics: deps.metrics,
      log: deps.log,
      ...(deps.runLimits ? { limits: deps.runLimits } : {}),
      claim: (runId, open) => this.lease(runId, open),
      released: (runId) => {
        this.watchSockets.delete(runId);
        deps.leases?.release(runId).catch((err: unknown) => deps.log.warn({ err, runId }, 'run lease not released'));
      },
      output: {
        alerts: (s, alerts) => {
          for (const a of alerts) this.nsp.to(`run:${s.id}`).emit('alert', { ...a, runId: s.clientRunId });
        },
        // Not kept for connection state recovery (see boundRecoveryBuffer): a risk point is superseded by the next.
        risk: (s, p) => {
          // A run's first push is kept, though: socket.io recovers a connection only from a kept packet's
          // offset, and a watch has no other before its first alert (its drop in a store outage then needed
          // the store to reconnect).
          this.keepRisk = !this.riskKept.has(s);
          if (this.keepRisk) this.riskKept.add(s);
          try {
            this.nsp.to(`run:${s.id}`).emit('risk', { ...p, runId: s.clientRunId });
          } finally {
            this.keepRisk = false;
          }
        },
        // Asked for every batch: the room's name is built once per run (followRoom).
        wantsSamples: (s) =>
          (this.followRoomsHere > 0 && (this.nsp.adapter.rooms.get(this.followRoom(s))?.size ?? 0) > 0) || this.followedElsewhere(s),
        samples: (s, seq, samples) => {
          this.nsp.to(this.followRoom(s)).emit('samples', {
            id: s.id,
            runId: s.clientRunId,
            seq,
            samples: samples as unknown as Array<Record<string, number | null>>,
          });
        },
        ended: (s) => {
          this.nsp.to(this.followRoom(s)).emit('ended', { id: s.id, runId: s.clientRunId });
        },
      },
    });
    const rate = deps.samplesPerS ?? 0;
    // A bucket holds a quarter second's worth, and at least one full batch (else a full batch could never pass):
    // a burst of big batches, all stepped through the engine in one go, would hold up every other run meanwhile.
    const capacity = Math.max(Math.ceil(rate / 4), MAX_BATCH_SAMPLES);
    this.sampleBudget = rate > 0 ? new TokenBuckets(capacity, capacity / rate) : null;
    const athleteRate = deps.athleteSamplesPerS ?? 0;
    const athleteCapacity = Math.max(Math.ceil(athleteRate / 4), MAX_BATCH_SAMPLES);
    this.athleteSampleBudget = athleteRate > 0 ? new TokenBuckets(athleteCapacity, athleteCapacity / athleteRate) : null;
    const athleteMessages = deps.athleteMessagesPerS ?? 0;
    this.athleteMessages = athleteMessages > 0 ? new TokenBuckets(athleteMessages * 4, 4) : null;
    const messagesPerS = deps.messagesPerS ?? FLOOD_RATE_PER_S;
    const burstS = FLOOD_BURST / FLOOD_RATE_PER_S;
    this.connMessages = new TokenBuckets(messagesPerS * burstS, burstS);
    this.nsp.adapter.on('create-room', (room: string) => {
      if (room.startsWith('follow:')) this.followRoomsHere++;
    });
    this.nsp.adapter.on('delete-room', (room: string) => {
      if (room.startsWith('follow:')) this.followRoomsHere--;
    });
    this.holdMissedPackets();
    this.boundRecoveryBuffer(deps.recoveryMaxPackets ?? DEFAULT_RECOVERY_MAX_PACKETS);
    const handshakes = deps.handshakes?.enabled ? deps.handshakes : null;
    const trust = deps.trustProxy ?? (() => false);
    this.nsp.use((socket, next) => {
      const refuse = (code: HandshakeErrorCode, message: string, retryAfterMs?: number) => {
        const err = new Error(message) as Error & { data: HandshakeErrorData };
        err.data = retryAfterMs === undefined ? { code } : { code, retryAfterMs };
        next(err);
      };
      // Every handshake is authenticated, a recovered one too (socket.io's recovery id alone let a socket in with
      // no token, a bogus one or another athlete's). Budgets per client address (as TRUST_PROXY says) and per
      // presented token come first; a good token is never locked out by other clients' failures.
      const address = clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], trust);
      const token = bearerToken(`Bearer ${String((socket.handshake.auth as { token?: unknown })?.token ?? '')}`);
      const pid = (socket.handshake.auth as { pid?: unknown })?.pid;
      const recoveryId = socket.recovered && typeof pid === 'string' ? pid : null;
      const refusal = handshakes?.admit(address, token);
      if (refusal) return this.refuseRecovery(recoveryId, () => refuse('RATE_LIMITED', refusal.message, refusal.retryAfterMs));
      const failed = (code: HandshakeErrorCode, message: string) => {
        const limited = handshakes?.failed(address, token);
        this.refuseRecovery(recoveryId, () => (limited ? refuse('RATE_LIMITED', limited.message, limited.retryAfterMs) : refuse(code, message)));
      };
      if (!token) return failed('UNAUTHENTICATED', 'send auth: { token }');
      deps.store.authenticate(token).then(
        (athlete) => {
          if (!athlete) return failed('BAD_TOKEN', 'unknown token');
          handshakes?.succeeded(address, token);
          if (recoveryId !== null) {
            // A recovery id is the athlete's it was issued to, and one socket's: another athlete's token, or a
            // second socket while the first holds it, is refused (the watch connects again, afresh).
            const restored = (socket.data as Partial<SocketData>).athleteId;
            if (restored !== athlete.id || this.nsp.sockets.has(socket.id)) {
              return this.refuseRecovery(recoveryId, () => refuse('RECOVERY_REFUSED', 'this connection cannot be recovered: connect again'));
            }
          }
          socket.data.athleteId = athlete.id;
          socket.data.tokenHash = hashToken(token);
          next();
        },
        (err: unknown) => {
          // The store does not answer (an outage): a recovering connection that presents the very token its
          // connection was authenticated with is let back in, so that its prompts go on from memory
          // (docs/guarantees.md). Anything else waits for the store: a new connection, another token, or a
          // recovery id a connected socket holds. (A rotation needs the store, so none can happen meanwhile.)
          if (recoveryId !== null && (err as { code?: string })?.code === 'STORE_UNAVAILABLE' && this.sameToken(socket.data, token)) {
            if (!this.nsp.sockets.has(socket.id)) {
              this.deps.log.info({ athleteId: socket.data.athleteId }, 'store unavailable: connection recovered on the token it was authenticated with');
              return next();
            }
          }
          this.refuseRecovery(recoveryId, () => refuse('STORE_UNAVAILABLE', 'the store does not answer: retry'));
        },
      );
    });
    this.nsp.on('connection', (socket) => this.onConnection(socket));
    if (deps.leases) {
      // Another process got this run's watch: hand the run over unless the watch is (still) connected here.
      (this.nsp as unknown as { on(ev: string, fn: (runId: unknown) => void): void }).on(RELEASE_RUN, (runId) => {
        if (typeof runId === 'string') this.handOver(runId);
      });
    }
    if (this.clustered) {
      (this.nsp as unknown as { on(ev: string, fn: (runId: unknown) => void): void }).on(FOLLOWED_RUN, (runId) => {
        if (typeof runId === 'string') this.followedAt.set(runId, Date.now());
      });
      this.announcer = setInterval(() => this.announceFollows(), FOLLOW_ANNOUNCE_MS);
      this.announcer.unref();
    }
  }

  /** Whether a restored connection's data says it was authenticated with `token`, for an athlete. */
  private sameToken(data: Partial<SocketData>, token: string): boolean {
    if (typeof data.athleteId !== 'string' || typeof data.tokenHash !== 'string') return false;
    const a = Buffer.from(data.tokenHash, 'hex');
    const b = Buffer.from(hashToken(token), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Live runs in memory in this process. */
  get liveCount(): number {
    return this.runs.size;
  }

  /**
   * socket.io sends a recovering connection the packets it missed while building its socket, before any
   * middleware runs: the rooms' alerts would reach a socket whose token is not checked yet. The missed packets
   * are held here instead and sent once the handshake is authenticated (see onConnection), and a recovery id
   * is used once (the in-memory adapter kept it for any number of sockets; the Redis one deletes it on use).
   */
  private holdMissedPackets(): void {
    const adapter = this.nsp.adapter as unknown as {
      restoreSession?: (pid: string, offset: string) => Promise<{ missedPackets: MissedPacket[] } | null>;
      sessions?: Map<string, unknown>;
    };
    const restore = adapter.restoreSession?.bind(adapter);
    if (!restore) return;
    adapter.restoreSession = async (pid: string, offset: string) => {
      const session = await restore(pid, offset);
      adapter.sessions?.delete(pid);
      if (!session) return session;
      const held = session.missedPackets;
      this.heldPackets.set(pid, held);
      // A handshake whose client went away before the middleware answered never reaches either end.
      setTimeout(() => this.heldPackets.get(pid) === held && this.heldPackets.delete(pid), HELD_PACKETS_MS).unref();
      return { ...session, missedPackets: [] };
    };
  }

  /**
   * socket.io's in-memory adapter keeps every broadcast for connection state recovery, for the whole
   * SOCKET_RECOVERY_S whether anyone is disconnected or not: a flood of risk pushes grew it to 4.3 GB. Risk
   * pushes are not kept (the next one supersedes a missed one; `follow` answers the latest), but for a run
   * session's first (its watch's offset to recover from before any alert), and the buffer
   * keeps at most `maxPackets` (the oldest go first: a connection older than those is not recovered, its watch
   * sends start and gets the alert log). With Redis the stream is bounded by REDIS_STREAM_MAXLEN instead.
   */
  private boundRecoveryBuffer(maxPackets: number): void {
    type Broadcast = (packet: { data?: unknown[] }, opts: unknown) => void;
    const adapter = this.nsp.adapter as unknown as { broadcast: Broadcast; packets?: unknown[] };
    const packets = adapter.packets;
    if (!Array.isArray(packets)) return;
    const keep = adapter.broadcast.bind(adapter);
    // The base adapter's broadcast: sends without keeping.
    const send = (Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as { broadcast?: Broadcast }).broadcast;
    const slack = Math.max(1, Math.ceil(maxPackets / 10));
    adapter.broadcast = (packet, opts) => {
      if (send && packet.data?.[0] === 'risk' && !this.keepRisk) return send.call(adapter, packet, opts);
      keep(packet, opts);
      if (packets.length > maxPackets + slack) packets.splice(0, packets.length - maxPackets);
    };
  }

  /** A recovering handshake refused: its held packets are dropped with it. */
  private refuseRecovery(recoveryId: string | null, refuse: () => void): void {
    if (recoveryId !== null) this.heldPackets.delete(recoveryId);
    refuse();
  }

  /**
   * With leases: takes (or confirms) this process's lease on a run before its engine opens or goes on here.
   * Held by another process: asks it to hand over and refuses with RUN_ELSEWHERE (the watch retries its start).
   */
  private async lease(runId: string, open: LiveSession | null): Promise<void> {
    const leases = this.deps.leases;
    if (!leases) return;
    const got = await leases.acquire(runId);
    if (got.ok) return;
    open?.discard();
    this.deps.log.info({ runId, retryInMs: got.retryInMs }, 'run leased by another process: asked it to hand over');
    this.nsp.serverSideEmit(RELEASE_RUN as never, runId as never);
    throw new LiveError(
      'RUN_ELSEWHERE',
      `this run is open on another server process: send start again in ${Math.min(got.retryInMs, 1000)} ms`,
    );
  }

  /** The lease of a run was lost (taken after a Redis outage): this engine may be behind, drop it. */
  leaseLost(runId: string, reason: string): void {
    for (const s of this.runs.byRunId(runId)) {
      this.deps.log.warn({ runId, reason }, 'run lease lost: session dropped, the watch will resume where the lease is');
      s.discard();
    }
  }

  /** Another process has the run's watch now: checkpoint and let the run go, unless its watch is still here. */
  private handOver(runId: string): void {
    const sid = this.watchSockets.get(runId);
    if (sid !== undefined && this.nsp.sockets.has(sid)) return;
    let open = false;
    for (const s of this.runs.byRunId(runId)) {
      open = true;
      this.deps.log.info({ runId }, 'run handed over to another process');
      void s.close();
    }
    // A lease without a session (its load failed): nothing to save, just let it go.
    if (!open && !this.runs.isLoading(runId)) void this.deps.leases?.release(runId).catch(() => {});
  }

  private onConnection(socket: WatchSocket): void {
    const { metrics, log } = this.deps;
    metrics.watchSockets++;
    const athleteId = socket.data.athleteId;
    log.debug({ sid: socket.id, athleteId, recovered: socket.recovered }, 'watch connected');
    socket.on('disconnect', (reason) => {
      metrics.watchSockets--;
      this.sampleBudget?.delete(`c:${socket.id}`);
      this.connMessages.delete(`m:${socket.id}`);
      // Its runs stay open (the watch resumes them), counted per athlete; they are evictable once quiet.
      this.runs.forgetConnection(socket.id);
      log.debug({ sid: socket.id, reason }, 'watch disconnected');
    });
    // A recovered connection gets what it missed now that its token checked out (see holdMissedPackets).
    const pid = (socket.handshake.auth as { pid?: unknown })?.pid;
    const held = socket.recovered && typeof pid === 'string' ? this.heldPackets.get(pid) : undefined;
    if (held) {
      this.heldPackets.delete(pid as string);
      const raw = socket as unknown as { emit(...args: unknown[]): boolean };
      for (const packet of held) raw.emit(...packet);
    }

    /** The connection's messages budget, then the athlete's over all its connections: null, or the refusal. */
    const connKey = `m:${socket.id}`;
    let ownBucket: Bucket | undefined;
    let athleteBucket: Bucket | undefined;
    const refused = () => {
      const now = performance.now();
      const own = (ownBucket = this.connMessages.bucket(connKey, now, ownBucket));
      const athletes = this.athleteMessages;
      const theirs = athletes ? (athleteBucket = athletes.bucket(athleteId, now, athleteBucket)) : undefined;
      const waitMs = this.connMessages.waitMs(own, now, 1) || (theirs ? athletes!.waitMs(theirs, now, 1) : 0);
      if (waitMs > 0) return fail('RATE_LIMITED', 'too many messages: slow down and resend', undefined, Math.max(20, waitMs));
      this.connMessages.takeNow(own, now, 1);
      if (theirs) athletes!.takeNow(theirs, now, 1);
      return null;
    };

    /** Wraps a handler: requires an ack callback, applies flood control, maps any throw to an error ack. */
    const handle = <T>(name: keyof ClientToServerEvents, fn: (msg: unknown) => Promise<Ack<T>>) =>
      handleWith<T>(name, (msg, reply) => {
        fn(msg).then(reply, (err: unknown) => reply(this.errorAck(err, name)));
      });
    /** {@link handle} for a handler that calls `reply` itself (once). */
    const handleWith = <T>(name: keyof ClientToServerEvents, fn: (msg: unknown, reply: (r: Ack<T>) => void) => void) => {
      socket.on(name, (msg: unknown, ack: unknown) => {
        if (typeof ack !== 'function') {
          log.debug({ sid: socket.id, event: name }, 'message without ack callback ignored');
          return;
        }
        const reply = ack as (r: Ack<T>) => void;
        const no = refused();
        if (no) return reply(no);
        fn(msg, reply);
      });
    };

    // An event this namespace does not know still gets an answer when it asks for one (a client bug should
    // see why nothing happened); it counts against the flood budget like any message.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && KNOWN_EVENTS.has(event)) return;
      const ack = args.at(-1);
      if (typeof ack !== 'function') return;
      const reply = ack as (r: unknown) => void;
      const no = refused();
      if (no) return reply(no);
      reply(fail('BAD_MESSAGE', `unknown event: ${String(event).slice(0, 40)}`));
    });

    const conn: WatchConn = {
      id: socket.id,
      athleteId,
      get recovered() {
        return socket.recovered;
      },
      joinRun: async (runId) => {
        await socket.join(`run:${runId}`);
        this.watchSockets.set(runId, socket.id);
      },
    };
    // `handle` maps a rejection to its error ack already: the handlers directly, not through message()'s catch.
    for (const name of ['start', 'event', 'end'] as const) handle(name, (raw) => this.answer(conn, name, raw));
    // A watch's every message: no promise of its own between the socket and its ack.
    handleWith<BatchAck>('samples', (raw, reply) => this.samples(conn, raw, reply));

    handle('follow', async (raw) => {
      const parsed = FollowByIdMsg.safeParse(raw);
      if (!parsed.success) return fail('BAD_MESSAGE', `follow: ${describeZodError(parsed.error)}`);
      const run = await this.deps.store.getRun(athleteId, parsed.data.runId);
      if (!run) return fail('UNKNOWN_RUN', 'no such run');
      await socket.join([`run:${run.id}`, `follow:${run.id}`]);
      if (this.clustered) this.nsp.serverSideEmit(FOLLOWED_RUN as never, run.id as never);
      const session = run.clientRunId ? this.runs.peek(athleteId, run.clientRunId) : undefined;
      const alerts: Alert[] = ((await this.deps.store.listAlerts(athleteId, run.id)) ?? []).map((a) => a.alert);
      return {
        ok: true,
        id: run.id,
        runId: run.clientRunId ?? run.id,
        status: run.status,
        alerts,
        risk: session?.latestRisk ?? null,
        riskHistory: session ? session.riskTrail.points() : [],
      };
    });

    handle('unfollow', async (raw) => {
      const parsed = FollowByIdMsg.safeParse(raw);
      if (!parsed.success) return fail('BAD_MESSAGE', `unfollow: ${describeZodError(parsed.error)}`);
      await socket.leave(`follow:${parsed.data.runId}`);
      await socket.leave(`run:${parsed.data.runId}`);
      return { ok: true, id: parsed.data.runId };
    });
  }

  /**
   * One watch message (start, samples, event, end) from a socket or over HTTP: validated, applied to the run's
   * session, answered with its ack or a coded error ack (never a throw).
   */
  message(conn: WatchConn, name: WatchMessage, raw: unknown): Promise<Ack<StartAck | BatchAck | EventAck | EndAck>> {
    return this.answer(conn, name, raw).catch((err: unknown) => this.errorAck(err, name));
  }

  /** The handler of a watch message; rejects where {@link message} answers an error ack. */
  private answer(conn: WatchConn, name: WatchMessage, raw: unknown): Promise<Ack<StartAck | BatchAck | EventAck | EndAck>> {
    if (name === 'samples') return new Promise((resolve) => this.samples(conn, raw, resolve));
    // The handlers are async (a throw is a rejection).
    return name === 'start' ? this.start(conn, raw) : name === 'event' ? this.event(conn, raw) : this.end(conn, raw);
  }

  /** The error ack for a handler's throw: a LiveError's code, STORE_UNAVAILABLE, or INTERNAL (logged). */
  private errorAck(err: unknown, event: string): WatchError {
    if (err instanceof LiveError) return fail(err.code, err.message, err.expectedSeq, err.retryAfterMs);
    const code = (err as { code?: string })?.code === 'STORE_UNAVAILABLE' ? 'STORE_UNAVAILABLE' : 'INTERNAL';
    this.deps.log.error({ err, event }, 'watch message failed');
    return fail(code, code === 'INTERNAL' ? 'internal error' : 'the store does not answer: resend later');
  }

  /** The open session of a watch's run in this process, if any (its latest risk, for answers over HTTP). */
  openSession(athleteId: string, clientRunId: string): LiveSession | undefined {
    return this.runs.get(athleteId, clientRunId);
  }

  /**
   * A live run that starts at the same instant as a stored run is a replay of it (the store's rule, `replayOf`):
   * it is analysed with the settings that run's report used (profile and athlete-model version, conditions, session
   * kind), so a replay gives the report's prompts even after the model has learned from the run itself. Null when
   * no stored run starts then (a new run, analysed with the profile as it is now).
   */
  private async replayedOptions(athleteId: string, startTime: string): Promise<ServerEngineOptions | null> {
    const candidates = await this.deps.store.findRunsStartingNear(athleteId, startTime, 0);
    const replayed = candidates.filter((c) => c.replayOf === null && c.status !== 'live').sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
    if (!replayed) return null;
    const record = await this.deps.store.getRun(athleteId, replayed.id);
    return record?.options ? { ...(record.options as ServerEngineOptions) } : null;
  }

  /** The engine settings of a new live run: the replayed run's, or the athlete's as they are now; the start's own on top. */
  private async newRunOptions(athleteId: string, stored: Profile, msg: ReturnType<typeof StartRunMsg.parse>, startTime: string): Promise<ServerEngineOptions> {
    const options = (!msg.profile && (await this.replayedOptions(athleteId, startTime))) ||
      (await this.athletes.engineOptions(athleteId, mergeProfile(stored, msg.profile))).options;
    if (msg.conditions) options.conditions = msg.conditions;
    if (msg.sessionKind) options.sessionKind = msg.sessionKind;
    if (msg.sport) options.sport = msg.sport;
    return options;
  }

  private async start(conn: WatchConn, raw: unknown): Promise<Ack<StartAck>> {
    const athleteId = conn.athleteId;
    const parsed = StartRunMsg.safeParse(raw);
    if (!parsed.success) return fail('BAD_MESSAGE', `start: ${describeZodError(parsed.error)}`);
    const msg = parsed.data;
    const athlete = await this.deps.store.getAthlete(athleteId);
    if (!athlete) return fail('UNKNOWN_RUN', 'the athlete no longer exists');
    const startTime = new Date(msg.startTime).toISOString();
    // Settings matter only to a run the store does not have yet: a resume of a run open here skips working them out
    // (a reconnect storm would otherwise redo the athlete model and the replay lookup for every watch).
    const open = this.runs.get(athleteId, msg.runId);
    const options = open ? open.options : await this.newRunOptions(athleteId, athlete.profile, msg, startTime);
    const session = await this.runs.session(athleteId, msg.runId, { clientRunId: msg.runId, options, startTime }, conn.id);
    if (!session) {
      // The run exists and has ended: hand back its report so a watch that missed the end ack can finish.
      const { run } = await this.deps.store.startLiveRun(athleteId, { clientRunId: msg.runId, options, startTime });
      const alerts = ((await this.deps.store.listAlerts(athleteId, run.id)) ?? []).map((a) => a.alert);
      return {
        ok: true,
        runId: msg.runId,
        id: run.id,
        status: 'ended',
        resumed: true,
        contiguousSeq: run.contiguousSeq,
        settings: run.options ?? options,
        alerts,
        ...(run.report ? { report: run.report } : {}),
      };
    }
    await conn.joinRun?.(session.id);
    const log = (await this.deps.store.listAlerts(athleteId, session.id)) ?? [];
    const last = log.at(-1);
    if (last) await this.deps.store.markAlertsDelivered(athleteId, session.id, last.pos);
    const resumed = session.contiguousSeq > 0 || log.length > 0 || conn.recovered;
    return {
      ok: true,
      runId: msg.runId,
      id: session.id,
      status: 'live',
      resumed,
      contiguousSeq: session.contiguousSeq,
      settings: session.options,
      alerts: log.map((a) => a.alert),
    };
  }

  /**
   * A batch; `reply` gets its ack or error ack, once: at once for a refusal, else once the batch is stored. A callback
   * all the way down to the run's write queue, where promises and an async function's suspended frame were about
   * 1 KB of garbage per message (docs/benchmarks.md, eighth pass). A throw in the checks is answered as an error ack.
   */
  private samples(conn: WatchConn, raw: unknown, reply: (r: Ack<BatchAck>) => void): void {
    let refusal: WatchError | null;
    try {
      refusal = this.takeBatch(conn, raw, reply);
    } catch (err) {
      refusal = this.errorAck(err, 'samples');
    }
    if (refusal) reply(refusal);
  }

  /** {@link samples}: the refusal to answer, or null when the batch went on (its session replies). */
  private takeBatch(conn: WatchConn, raw: unknown, reply: (r: Ack<BatchAck>) => void): WatchError | null {
    // Size and budget first, from the raw message: a refused batch costs no parsing.
    const claimed = claimedSamples(raw);
    if (claimed > MAX_BATCH_SAMPLES) {
      return fail('SAMPLE_BATCH_TOO_LARGE', `batch has ${claimed} samples; at most ${MAX_BATCH_SAMPLES} are accepted, split it`);
    }
    const cost = claimedCost(raw, claimed);
    const runId = (raw as { runId?: unknown } | null)?.runId;
    const keys = typeof runId === 'string' ? this.runKeys(conn, runId) : null;
    const overBudget = this.takeSamples(conn, keys, cost);
    if (overBudget) return overBudget;
    let msg: SampleBatchMsg;
    if (isPlainSampleBatchMsg(raw)) msg = raw;
    else {
      const parsed = SampleBatchMsgSchema.safeParse(raw);
      if (!parsed.success) return fail('BAD_MESSAGE', `samples: ${describeZodError(parsed.error)}`);
      msg = parsed.data;
    }
    const batch = parseWireBatch(msg.samples);
    if (!batch.ok) return fail(batch.error.code, batch.error.message);
    const kept = keys?.clientRunId === msg.runId ? this.runs.getByKey(keys.registry) : undefined;
    if (kept) kept.stepBatch(msg.seq, batch.batch, (outcome) => reply(outcome.ok ? batchAck(msg, outcome.value) : this.errorAck(outcome.error, 'samples')));
    else this.samplesToLoad(conn, msg, batch.batch).then(reply, (err: unknown) => reply(this.errorAck(err, 'samples')));
    return null;
  }

  /** A batch for a run whose session is not in memory here (yet): loaded, or UNKNOWN_RUN. */
  private async samplesToLoad(conn: WatchConn, msg: SampleBatchMsg, batch: readonly WireSample[]): Promise<Ack<BatchAck>> {
    const session = await this.runs.session(conn.athleteId, msg.runId);
    if (!session) return fail('UNKNOWN_RUN', 'no open run with that id: send start first (it also resumes)');
    return batchAck(msg, unwrap(await session.submitBatch(msg.seq, batch)));
  }

  private async event(conn: WatchConn, raw: unknown): Promise<Ack<EventAck>> {
    const parsed = EventMsgSchema.safeParse(raw);
    if (!parsed.success) return fail('BAD_MESSAGE', `event: ${describeZodError(parsed.error)}`);
    const session = await this.runs.session(conn.athleteId, parsed.data.runId);
    if (!session) return fail('UNKNOWN_RUN', 'no open run with that id: send start first (it also resumes)');
    const r = unwrap(await session.submitEvent(`ev:${parsed.data.id}`, parsed.data.event as RunEvent));
    return { ok: true, runId: parsed.data.runId, id: parsed.data.id, ...r };
  }

  private async end(conn: WatchConn, raw: unknown): Promise<Ack<EndAck>> {
    const parsed = EndRunMsg.safeParse(raw);
    if (!parsed.success) return fail('BAD_MESSAGE', `end: ${describeZodError(parsed.error)}`);
    const session = await this.runs.session(conn.athleteId, parsed.data.runId);
    if (!session) return fail('UNKNOWN_RUN', 'no open run with that id: send start first (it also resumes)');
    const report = unwrap(await session.end());
    return { ok: true, runId: parsed.data.runId, id: session.id, report };
  }

  /**
   * Takes a batch's samples from its connection's and its run's budgets, or answers RATE_LIMITED (taking
   * nothing: the seq stays free) with the wait until the batch would fit.
   */
  private takeSamples(conn: WatchConn, keys: RunKeys | null, cost: number) {
    const budget = this.sampleBudget;
    const byAthlete = this.athleteSampleBudget;
    if (!budget && !byAthlete) return null;
    const most = Math.min(budget?.capacity ?? Infinity, byAthlete?.capacity ?? Infinity);
    if (cost > most) {
      // Only reachable with RR values: a batch this large would never fit the budget, so say split it.
      return fail('SAMPLE_BATCH_TOO_LARGE', `batch costs ${cost} (samples + RR values); at most ${most} are accepted at once, split it`);
    }
    // Every message passes here: no arrays, no result objects.
    const now = performance.now();
    const athleteId = conn.athleteId;
    const held = keys?.held;
    const own = budget?.bucket(keys?.conn ?? `c:${conn.id}`, now, held?.conn);
    const run = keys && budget ? budget.bucket(keys.run, now, held?.run) : undefined;
    const athlete = byAthlete?.bucket(athleteId, now, held?.athlete);
    if (held) {
      held.conn = own;
      held.run = run;
      held.athlete = athlete;
    }
    let waitMs = 0;
    if (own) waitMs = budget!.waitMs(own, now, cost);
    if (run) waitMs = Math.max(waitMs, budget!.waitMs(run, now, cost));
    if (athlete) waitMs = Math.max(waitMs, byAthlete!.waitMs(athlete, now, cost));
    if (waitMs > 0) return fail('RATE_LIMITED', `over the samples budget: resend in ${waitMs} ms (the seq stays free)`, undefined, waitMs);
    if (own) budget!.takeNow(own, now, cost);
    if (run) budget!.takeNow(run, now, cost);
    if (athlete) byAthlete!.takeNow(athlete, now, cost);
    return null;
  }

  /** The connection's {@link RunKeys} for `clientRunId`: kept from its last message when that was the same run. */
  private runKeys(conn: WatchConn, clientRunId: string): RunKeys {
    const kept = conn.runKeys;
    if (kept?.clientRunId === clientRunId) return kept;
    const keys: RunKeys = {
      conn: kept?.conn ?? `c:${conn.id}`,
      clientRunId,
      run: `r:${conn.athleteId}\u0000${clientRunId.slice(0, 64)}`,
      registry: this.runs.key(conn.athleteId, clientRunId),
      // The connection's and the athlete's buckets carry over to the connection's next run.
      held: { conn: kept?.held.conn, run: undefined, athlete: kept?.held.athlete },
    };
    if (clientRunId.length <= 64) conn.runKeys = keys; // a longer one is refused once parsed: not kept
    return keys;
  }

  /** `follow:<id>`, built once per session. */
  private followRoom(s: LiveSession): string {
    let room = this.followRooms.get(s);
    if (room === undefined) this.followRooms.set(s, (room = `follow:${s.id}`));
    return room;
  }

  /** Whether a dashboard on another process follows the session's run (or may: the session is new here). */
  private followedElsewhere(s: LiveSession): boolean {
    if (!this.clustered) return false;
    const now = Date.now();
    if (now - s.openedAt < FOLLOW_FRESH_MS) return true;
    const at = this.followedAt.get(s.id);
    if (at === undefined) return false;
    if (now - at < FOLLOW_FRESH_MS) return true;
    this.followedAt.delete(s.id);
    return false;
  }

  /** Re-announces the runs followed here, so that their owners (wherever they are now) keep publishing. */
  private announceFollows(): void {
    const stale = Date.now() - FOLLOW_FRESH_MS;
    for (const [runId, at] of this.followedAt) if (at < stale) this.followedAt.delete(runId);
    for (const [room, sockets] of this.nsp.adapter.rooms) {
      if (sockets.size > 0 && room.startsWith('follow:')) this.nsp.serverSideEmit(FOLLOWED_RUN as never, room.slice(7) as never);
    }
  }

  /**
   * Takes a watch's run out of memory now: `checkpoint` saves the engine and closes (as idle eviction does),
   * `discard` drops it without saving (as a lost lease does). Its next message rebuilds it from the store.
   * Returns whether a session was open. (The drift stress test's rebuilds.)
   */
  evict(athleteId: string, clientRunId: string, how: 'checkpoint' | 'discard' = 'checkpoint'): Promise<boolean> {
    return this.runs.evict(athleteId, clientRunId, how);
  }

  /** A run deleted over REST: forget its session. */
  forget(athleteId: string, runId: string): void {
    this.runs.forget(athleteId, runId);
  }

  /** Checkpoints every open session (graceful shutdown). */
  async close(): Promise<void> {
    if (this.announcer) clearInterval(this.announcer);
    await this.runs.close();
    await this.deps.leases?.close();
  }
}
