/**
 * Time as the live core sees it: the wall clock in the server, a fake one in unit tests, so that outages,
 * back-off, the waits for writes and idle eviction are simulated in milliseconds (tests/live/fake-clock.ts).
 * @module
 */

export interface LiveClock {
  /** ms since the epoch. */
  now(): number;
  /**
   * Calls `fn` once `ms` have passed; returns the cancel. `background`: the timer alone does not keep the
   * process alive (a sweeper; a write's retry does keep it alive).
   */
  after(ms: number, fn: () => void, background?: boolean): () => void;
}

export const SYSTEM_CLOCK: LiveClock = {
  now: () => Date.now(),
  after(ms, fn, background = false) {
    const timer = setTimeout(fn, ms);
    if (background) timer.unref();
    return () => clearTimeout(timer);
  },
};
