// A LiveClock for the live core's unit tests: time moves only when a test advances it, firing the timers due
// on the way in order (and letting the promises they settle run), so outages, back-off and idle time take ms.
import type { LiveClock } from '../../src/live/clock.js';

/** One turn of the event loop: every promise already settled runs its callbacks. */
export const turn = () => new Promise((r) => setImmediate(r));

export class FakeClock implements LiveClock {
  t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void }> = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  /** Timers waiting to fire. */
  get waiting(): number {
    return this.timers.length;
  }
  /** Moves time on by `ms`, firing each timer due on the way (and letting the promises it settles run). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await turn();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await turn();
  }
}
