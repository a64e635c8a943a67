/**
 * Fading (the wall): late in a long effort, pace and HR falling together.
 * Method: after `minMovingS` of moving time (and past `lateShare` of the usual long run when it is known), the last
 * `recentS` of running is compared with a cruise reference (as long a stretch, ended `lagS` before the recent one): grade-adjusted
 * speed down at least `dropPct` % AND HR down at least `hrDropBpm` → slow_down, cause `fading`, sustained `sustainS`.
 * Falling HR is what tells a glycogen collapse from drift (HR up at the same pace) and from a climb (HR up, pace
 * down): the runner cannot hold the effort any more. The prompt says what helps: an easier, even pace, carbohydrate
 * and water.
 * Reference: hitting the wall = pace > 125 % of the 5–20 km average for > 5 km after km 25, 28 % of men, 17 % of
 * women; 1-km splits ≥ 11 % slower than the rest (Smyth 2021, JAT 2020; science.md §5); cramps cluster in the last
 * quarter (§1.4). The precursors (pace above capability early, rising decoupling, cadence fade, past the usual
 * long run) are the other detectors' job.
 * Messy data: only running ticks with trusted HR; structured sessions and walk breaks shorter than the window
 * do not count; grade-adjusted speed keeps hills out.
 * Limits: a planned slow finish (a cool-down) looks the same; past `holdS` it re-arms.
 * @module
 */
import { defineCause, defineDetector } from '../detector.js';
import { createLagRing, lagPush, type LagRing } from '../ring.js';

export interface FadingConfig {
  /** Moving time before it judges, s. @default 3600 */
  minMovingS: number;
  /** Share of a known usual long run before it judges. @default 0.6 */
  lateShare: number;
  /** Recent window, s. @default 600 */
  recentS: number;
  /** Distance from the reference's end to now, s. @default 1200 */
  lagS: number;
  /** Grade-adjusted speed drop that counts, %. @default 10 */
  dropPct: number;
  /** HR drop that counts, bpm. @default 4 */
  hrDropBpm: number;
  /** Time the condition must last, s. @default 120 */
  sustainS: number;
  /** Share of valid ticks each window needs. @default 0.6 */
  minValidShare: number;
}

export const FADING_DEFAULTS: FadingConfig = {
  minMovingS: 3600,
  lateShare: 0.6,
  recentS: 600,
  lagS: 1200,
  dropPct: 10,
  hrDropBpm: 4,
  sustainS: 120,
  minValidShare: 0.6,
};

interface FadingState {
  speed: LagRing;
  hr: LagRing;
  overS: number;
}

const fadingCause = defineCause({
  cause: 'fading',
  kind: 'slow_down',
  priority: 60,
  escalates: true,
  words: ({ sig, escalated }) => ({
    message: escalated ? 'Ease off: still fading, fuel now' : 'Fading: ease off, take carbs & water',
    why: `Pace down ${Math.round(sig.value)}% and HR down ${Math.round(sig.a)} bpm together since ${Math.round(sig.b)} min ago: energy running low (the wall); an easier pace and carbohydrate help.`,
  }),
});

export const fading = defineDetector<FadingState>({
  id: 'fading',
  causes: [fadingCause],
  needs: ['hr', 'speed'],
  inputs: 'grade-adjusted speed and HR late in long runs',
  off: (ctx) => (ctx.session === 'intervals' ? 'off for interval sessions' : null),
  init(ctx) {
    const c = ctx.cfg.fading;
    const t = ctx.cfg.engine.tickS;
    // The lag ring compares its newest `width` ticks with the `width` ticks that ended `lag` ticks ago.
    return {
      speed: createLagRing(c.recentS / t, (c.recentS + c.lagS) / t, c.minValidShare),
      hr: createLagRing(c.recentS / t, (c.recentS + c.lagS) / t, c.minValidShare),
      overS: 0,
    };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.fading;
    const sh = ctx.shared;
    const ok = tick.running && tick.hrOk && sh.structured === 0;
    s.speed.next = NaN;
    if (ok) s.speed.next = tick.gas;
    lagPush(s.speed);
    s.hr.next = NaN;
    if (ok) s.hr.next = tick.hr;
    lagPush(s.hr);
    const p = ctx.profile;
    const late = sh.movingS >= c.minMovingS && (!p.usualLongRunKnown || sh.movingS >= c.lateShare * p.usualLongRunS);
    const v1 = s.speed.recentMean;
    const v0 = s.speed.olderMean;
    const h1 = s.hr.recentMean;
    const h0 = s.hr.olderMean;
    const drop = 100 * (1 - v1 / v0);
    const hrDrop = h0 - h1;
    const cond = late && drop >= c.dropPct && hrDrop >= c.hrDropBpm;
    if (cond) s.overS += tick.dt;
    else s.overS = 0;
    const sig = ctx.signals.fading;
    sig.active = s.overS >= c.sustainS;
    sig.value = drop;
    sig.a = hrDrop;
    sig.b = (c.recentS + c.lagS) / 60;
  },
});
