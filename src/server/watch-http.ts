/**
 * The watch protocol over plain HTTP, for watches that cannot hold a websocket (Garmin Connect IQ's
 * `makeWebRequest`, watchOS): `POST /api/watch/{start,samples,event,end}` with the socket messages' bodies and
 * their acks as answers. The messages go through the same handlers as the socket's (`WatchService.message`):
 * the same validation, seq and `contiguousSeq` acks, dedupe of resends, sessions and budgets.
 *
 * What HTTP adds, since nothing can be pushed: every answer carries the run's alerts raised so far after the
 * position the watch says it has (`?alertsAfter=N`, from the previous answer's `alertPos`), and the latest risk.
 * Error acks keep the socket's body and get an HTTP status that says the same (docs/watch-protocol.md).
 * @module
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import type { Ack, WatchErrorCode } from '../wire/events.js';
import { athleteOf, requireAthlete } from './auth.js';
import { ApiError } from './errors.js';
import { TokenBuckets } from './rate-limit.js';
import { FLOOD_BURST, FLOOD_RATE_PER_S, type WatchConn, type WatchMessage, type WatchService } from './watch.js';

export interface WatchHttpDeps {
  store: Store;
  log: Logger;
  /** The live-run registry (created after the app, hence a getter). */
  watch: () => WatchService | null;
  /** The socket's message budget (SOCKET_MESSAGES_PER_S), per athlete and run here. @default {@link FLOOD_RATE_PER_S} */
  messagesPerS?: number;
}

const MESSAGES: ReadonlySet<string> = new Set<WatchMessage>(['start', 'samples', 'event', 'end']);

/** The HTTP status of an error ack (its body is the socket's error ack). */
export const WATCH_ERROR_STATUS: Record<WatchErrorCode, number> = {
  BAD_MESSAGE: 400,
  SAMPLE_INVALID: 400,
  SAMPLE_BATCH_TOO_LARGE: 413,
  UNKNOWN_RUN: 404,
  RUN_ENDED: 409,
  SEQ_GAP: 409,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
  RUN_ELSEWHERE: 503,
  TOO_MANY_RUNS: 429,
  INTERNAL: 500,
};

/** A socket's frame limit (engine.io maxHttpBufferSize): a full 600-sample batch is ~60 KB. */
const BODY_LIMIT = '1mb';

function alertsAfter(req: Request): number {
  const raw = req.query.alertsAfter;
  if (raw === undefined) return 0;
  const n = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ApiError(400, 'BAD_REQUEST', 'alertsAfter: a whole number >= 0 (the alertPos of the last answer)');
  return n;
}

export function watchHttpRouter(deps: WatchHttpDeps): Router {
  const { store, log } = deps;
  const router = express.Router();
  const auth = requireAthlete(store);
  const json = express.json({ limit: BODY_LIMIT, type: () => true });
  // The socket's per-connection message budget (bursts of 4 s worth), per athlete and run here: HTTP has no
  // connection to hang it on, and a watch streams one run (the run caps bound how many one athlete has open).
  const rate = deps.messagesPerS ?? FLOOD_RATE_PER_S;
  const burst = rate * (FLOOD_BURST / FLOOD_RATE_PER_S);
  const flood = rate > 0 ? new TokenBuckets(burst, burst / rate) : null;

  router.post('/:message', auth, json, async (req: Request, res: Response) => {
    const name = String(req.params.message);
    if (!MESSAGES.has(name)) throw new ApiError(404, 'NOT_FOUND', 'watch messages: POST /api/watch/{start,samples,event,end}');
    const after = alertsAfter(req);
    const athlete = athleteOf(res);
    const watch = deps.watch();
    if (!watch) throw new ApiError(503, 'STORE_UNAVAILABLE', 'the live service is starting: retry');
    const runKey = (req.body as { runId?: unknown } | null)?.runId;
    const budget = flood?.take(`${athlete.id}\u0000${typeof runKey === 'string' ? runKey.slice(0, 64) : ''}`);
    let ack: Ack<object>;
    if (budget && !budget.ok) {
      ack = { ok: false, error: { code: 'RATE_LIMITED', message: 'too many messages: slow down and resend' }, retryAfterMs: budget.retryAfterMs };
    } else {
      const conn: WatchConn = { id: `http:${athlete.id}`, athleteId: athlete.id, recovered: false };
      ack = await watch.message(conn, name as WatchMessage, req.body);
    }
    const body: Record<string, unknown> = { ...ack };
    if (ack.ok) {
      const runId = (req.body as { runId?: unknown }).runId as string;
      // The server's run id: in the start and end acks, else from the open session.
      const session = watch.openSession(athlete.id, runId);
      const serverId = session?.id ?? (ack as { id?: string }).id;
      if (serverId) {
        // The message is stored and acked already: a store that fails to list the log now costs this answer its
        // alerts (the next answer has them), not the ack.
        const log = await store.listAlerts(athlete.id, serverId, { afterPos: after }).then(
          (l) => l ?? [],
          () => null,
        );
        if (log) {
          // start lists the whole log already (as on the socket); the others what came after `alertsAfter`.
          if (name !== 'start') body.alerts = log.map((a) => ({ ...a.alert, runId }));
          body.alertPos = log.at(-1)?.pos ?? after;
        }
      }
      body.risk = session?.latestRisk ? { ...session.latestRisk, runId } : null;
      return void res.json(body);
    }
    const status = WATCH_ERROR_STATUS[ack.error.code] ?? 400;
    if (ack.retryAfterMs !== undefined) res.set('Retry-After', String(Math.max(1, Math.ceil(ack.retryAfterMs / 1000))));
    else if (status === 503) res.set('Retry-After', '1');
    if (status >= 500) log.debug({ code: ack.error.code, message: name }, 'watch http message refused');
    res.status(status).json(body);
  });
  return router;
}
