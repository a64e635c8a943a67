/**
 * The /watch socket.io protocol as TypeScript types, for companion-app developers and our own client.
 * Messages are validated on the server with the zod schemas in `schemas.ts` (types alone validate nothing).
 *
 * Use on a client: `io(url + '/watch', { transports: ['websocket'], auth: { token } })` typed as
 * `Socket<ServerToClientEvents, ClientToServerEvents>`. See docs/watch-protocol.md for the sequence.
 * @module
 */
import type { z } from 'zod';
import type { Alert, EngineOptions, Report, RiskPoint } from '../../alerts/types.js';
import type { WireSample } from '../../ingest/live.js';
import type { EndRunMsg, FollowByIdMsg, StartRunMsg, WireEventSchema } from './schemas.js';

export type { WireSample };
export type StartRun = z.input<typeof StartRunMsg>;
export type WireEvent = z.input<typeof WireEventSchema>;
export type EndRun = z.input<typeof EndRunMsg>;
/** `runId` here is the server's run id (from GET /api/runs?status=live). */
export type Follow = z.input<typeof FollowByIdMsg>;

/** A batch of samples. `seq` counts batches per run from 1 with no gaps; a resent batch keeps its seq. */
export interface SampleBatchMsg {
  runId: string;
  seq: number;
  /** 1–600 samples in increasing time (ingest/live.ts WireSampleSchema). */
  samples: WireSample[];
}

/** Something the runner did. `id` is chosen by the watch (unique per run): a resent event changes nothing. */
export interface EventMsg {
  runId: string;
  id: string;
  event: WireEvent;
}

/** Stable error codes of an error ack. */
export type WatchErrorCode =
  /** The message does not match its schema (message says which field). */
  | 'BAD_MESSAGE'
  /** A sample batch is malformed (ingest/live.ts codes). */
  | 'SAMPLE_INVALID'
  | 'SAMPLE_BATCH_TOO_LARGE'
  /** No live run with that id for this athlete (never started, deleted, or another athlete's). */
  | 'UNKNOWN_RUN'
  /** The run has ended: no more samples or events. */
  | 'RUN_ENDED'
  /** `seq` is beyond the next expected one: resend from `expectedSeq`. */
  | 'SEQ_GAP'
  /** Too many messages: slow down and resend later (nothing was stored). */
  | 'RATE_LIMITED'
  /** The store did not answer: resend later. */
  | 'STORE_UNAVAILABLE'
  /** Several processes: another process holds this run's lease (its engine is there): send start again shortly. */
  | 'RUN_ELSEWHERE'
  /**
   * `start`: the athlete (or this connection, or the server) has as many live runs open as allowed and none has
   * been quiet long enough to be set aside: end one, or send start again after `retryAfterMs`.
   */
  | 'TOO_MANY_RUNS'
  | 'INTERNAL';

export interface WatchError {
  ok: false;
  error: { code: WatchErrorCode; message: string };
  /** With SEQ_GAP: the seq the server expects next. */
  expectedSeq?: number;
  /** With RATE_LIMITED: how long to wait before resending, ms. */
  retryAfterMs?: number;
}

export type Ack<T> = ({ ok: true } & T) | WatchError;

export interface StartAck {
  /** The watch's run id (as sent). */
  runId: string;
  /** The server's run id (REST: /api/runs/:id). */
  id: string;
  status: 'live' | 'ended';
  /** True when the run already existed (a resume after a disconnect or a server restart). */
  resumed: boolean;
  /** Highest batch seq stored without gaps: resend every batch after it. */
  contiguousSeq: number;
  /** The settings the engine runs with: stored profile merged with the overrides, conditions, session kind. */
  settings: EngineOptions;
  /** Every alert raised so far in this run (deliver the ones you have not shown: dedupe by id). */
  alerts: Alert[];
  /** When status is `ended`: the report. */
  report?: Report;
}

export interface BatchAck {
  runId: string;
  seq: number;
  /** Highest seq stored without gaps: every batch up to it is durable. */
  contiguousSeq: number;
  /** The batch had been stored before: nothing changed. */
  duplicate: boolean;
  /**
   * Alerts this batch raised (also pushed as `alert` events). In the ack too because with several processes a
   * push goes through Redis and may come late or, when Redis times out, not at all; an ack does not. Dedupe by id.
   */
  alerts?: WireAlert[];
}

export interface EventAck {
  runId: string;
  id: string;
  /** The time the event took effect (later than sent when samples after it had already arrived). */
  t: number;
  duplicate: boolean;
}

export interface EndAck {
  runId: string;
  id: string;
  report: Report;
}

export interface FollowAck {
  /** Server run id. */
  id: string;
  /** The watch's run id, as used in `alert` and `risk` payloads. */
  runId: string;
  status: 'live' | 'ended';
  alerts: Alert[];
  /** Latest risk point, if any. */
  risk: RiskPoint | null;
  /**
   * The risk points before this follow, oldest first (each with its fluid-deficit estimate), as far as the
   * process holding the run has them; empty for an ended run (its report has them) or one held elsewhere.
   */
  riskHistory?: RiskPoint[];
}

/** A prompt for the runner. `id` is stable: the same alert sent again has the same id. */
export type WireAlert = Alert & { runId: string };
export type WireRisk = RiskPoint & { runId: string };
/** To dashboards following a run: the samples as stored (missing values are null). */
export interface FollowSamples {
  id: string;
  runId: string;
  seq: number;
  samples: Array<Record<string, number | null>>;
}
export interface RunEnded {
  id: string;
  runId: string;
}

export interface ClientToServerEvents {
  start: (msg: StartRun, ack: (r: Ack<StartAck>) => void) => void;
  samples: (msg: SampleBatchMsg, ack: (r: Ack<BatchAck>) => void) => void;
  event: (msg: EventMsg, ack: (r: Ack<EventAck>) => void) => void;
  end: (msg: EndRun, ack: (r: Ack<EndAck>) => void) => void;
  /** Dashboards: follow one of your live runs by its server id. */
  follow: (msg: Follow, ack: (r: Ack<FollowAck>) => void) => void;
  unfollow: (msg: Follow, ack: (r: Ack<{ id: string }>) => void) => void;
}

export interface ServerToClientEvents {
  alert: (alert: WireAlert) => void;
  risk: (risk: WireRisk) => void;
  /** Only to followers. */
  samples: (batch: FollowSamples) => void;
  /** Only to followers. */
  ended: (info: RunEnded) => void;
}

/**
 * The connect_error `data` when the handshake is refused. RATE_LIMITED comes with `retryAfterMs`;
 * RECOVERY_REFUSED: the connection state socket.io would recover belongs to another athlete or socket, connect
 * again (it is forgotten: the next attempt is a fresh connection, then send start).
 */
export interface HandshakeErrorData {
  code: HandshakeErrorCode;
  retryAfterMs?: number;
}

/** Stable codes of a refused handshake (connect_error `data.code`). */
export type HandshakeErrorCode = 'UNAUTHENTICATED' | 'BAD_TOKEN' | 'STORE_UNAVAILABLE' | 'RATE_LIMITED' | 'RECOVERY_REFUSED';

/**
 * Every {@link WatchErrorCode} and {@link HandshakeErrorCode}, as values (for tests, docs and clients that check
 * a code they received). The checks below fail to compile when a list and its union disagree.
 */
export const WATCH_ERROR_CODES = [
  'BAD_MESSAGE', 'SAMPLE_INVALID', 'SAMPLE_BATCH_TOO_LARGE', 'UNKNOWN_RUN', 'RUN_ENDED', 'SEQ_GAP', 'RATE_LIMITED',
  'STORE_UNAVAILABLE', 'RUN_ELSEWHERE', 'TOO_MANY_RUNS', 'INTERNAL',
] as const satisfies readonly WatchErrorCode[];
export const HANDSHAKE_ERROR_CODES = [
  'UNAUTHENTICATED', 'BAD_TOKEN', 'STORE_UNAVAILABLE', 'RATE_LIMITED', 'RECOVERY_REFUSED',
] as const satisfies readonly HandshakeErrorCode[];
type Exhaustive<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : never;
const watchCodesListed: Exhaustive<WatchErrorCode, (typeof WATCH_ERROR_CODES)[number]> = true;
const handshakeCodesListed: Exhaustive<HandshakeErrorCode, (typeof HANDSHAKE_ERROR_CODES)[number]> = true;
void watchCodesListed;
void handshakeCodesListed;
