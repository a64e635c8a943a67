/**
 * How the live core refuses: a {@link LiveError} carries a code of the watch protocol's closed union, and the
 * transport turns it into an error ack as it is.
 * @module
 */
import type { WatchErrorCode } from '../wire/events.js';

/** A refusal the transport turns into an error ack. */
export class LiveError extends Error {
  constructor(
    readonly code: WatchErrorCode,
    message: string,
    /** With SEQ_GAP: the seq expected next. */
    readonly expectedSeq?: number,
    /** How long to wait before sending again, ms (refusals that know it). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** What a live operation answers: never a throw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: LiveError };
