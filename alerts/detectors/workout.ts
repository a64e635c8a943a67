/**
 * Workout structure: recognises a structured session (intervals, fartlek, repeated surges) from the run itself,
 * when the runner did not say, so that reps, recoveries and the jog-down are not read as fatigue.
 * Method: a surge is a stretch where the 30-s mean of speed, and of grade-adjusted speed, is at least
 * `surgeFactor` × its mean over the last 10 minutes of moving time, lasting `minSurgeS`–`maxSurgeS`, ended by a return below `endFactor` × that
 * mean. `minSurges` surges within `windowS` make the run structured (`shared.structured = 1`) until `holdS` after
 * the last surge (the jog-down). Stops do not count: only moving ticks enter either mean. Causal, so a live run and
 * its file are recognised alike.
 * Reference: decoupling and drift are only meaningful over steady efforts (science.md §2.1: "only a valid metric for
 * aerobic, steady-state workouts"; Athlytics' steady-state CV gate); the issue's coach review found fartlek surges
 * and post-interval jog-downs read as fatigue.
 * Messy data: GPS speed spikes last seconds and do not make a 30-s surge; no speed → never structured.
 * Limits: a long tempo inside an easy run is not a surge (the 10-min mean catches up); hill repeats show as surges
 * only where grade adjustment cannot explain them.
 * @module
 */
import { defineDetector } from '../detector.js';
import { createRing, ringPush, type Ring } from '../ring.js';

export interface WorkoutConfig {
  /** 30-s speed over the 10-min mean that starts a surge. @default 1.2 */
  surgeFactor: number;
  /** 30-s speed over the 10-min mean below which a surge ends. @default 1.05 */
  endFactor: number;
  /** Shortest surge counted, s. @default 20 */
  minSurgeS: number;
  /** Longest surge counted (longer is a change of pace, not a rep), s. @default 600 */
  maxSurgeS: number;
  /** Surges within `windowS` that make a structured session. @default 3 */
  minSurges: number;
  /** @default 1800 */
  windowS: number;
  /** How long the session stays structured after its last surge, s. @default 900 */
  holdS: number;
}

export const WORKOUT_DEFAULTS: WorkoutConfig = {
  surgeFactor: 1.2,
  endFactor: 1.05,
  minSurgeS: 20,
  maxSurgeS: 600,
  minSurges: 3,
  windowS: 1800,
  holdS: 900,
};

interface WorkoutState {
  short: Ring;
  long: Ring;
  shortRaw: Ring;
  longRaw: Ring;
  inSurgeS: number;
  /** End times of the last three surges, s (NaN when none). */
  e1: number;
  e2: number;
  e3: number;
}

export const workout = defineDetector<WorkoutState>({
  id: 'workout-structure',
  causes: [],
  needs: ['speed'],
  inputs: 'speed: repeated surges and recoveries',
  init(ctx) {
    const tickS = ctx.cfg.engine.tickS;
    return {
      short: createRing(30 / tickS),
      long: createRing(600 / tickS),
      shortRaw: createRing(30 / tickS),
      longRaw: createRing(600 / tickS),
      inSurgeS: 0,
      e1: NaN,
      e2: NaN,
      e3: NaN,
    };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.workout;
    const sh = ctx.shared;
    const moving = tick.moving && !tick.paused;
    s.short.next = NaN;
    if (moving) s.short.next = tick.gas;
    ringPush(s.short);
    s.long.next = s.short.next;
    ringPush(s.long);
    s.shortRaw.next = NaN;
    if (moving) s.shortRaw.next = tick.speed;
    ringPush(s.shortRaw);
    s.longRaw.next = s.shortRaw.next;
    ringPush(s.longRaw);
    // Both the speed and the grade-adjusted speed must surge: a descent raises the one, altitude noise the other.
    const ratio = Math.min(s.short.mean / s.long.mean, s.shortRaw.mean / s.longRaw.mean);
    const ready = s.long.validShare >= 0.5 && s.short.validShare >= 0.6;
    if (ready && s.inSurgeS === 0 && ratio >= c.surgeFactor) s.inSurgeS = tick.dt;
    else if (s.inSurgeS > 0 && ready && ratio >= c.endFactor) s.inSurgeS += tick.dt;
    else if (s.inSurgeS > 0) {
      if (s.inSurgeS >= c.minSurgeS && s.inSurgeS <= c.maxSurgeS) {
        s.e3 = s.e2;
        s.e2 = s.e1;
        s.e1 = tick.t;
        sh.surges++;
      }
      s.inSurgeS = 0;
    }
    const oldest = c.minSurges >= 3 ? s.e3 : c.minSurges === 2 ? s.e2 : s.e1;
    // Structured once `minSurges` fall within `windowS`; unstructured `holdS` after the last one; else unchanged.
    if (oldest === oldest && s.e1 - oldest <= c.windowS && tick.t - s.e1 <= c.holdS) sh.structured = 1;
    else if (!(s.e1 === s.e1) || tick.t - s.e1 > c.holdS) sh.structured = 0;
  },
});
