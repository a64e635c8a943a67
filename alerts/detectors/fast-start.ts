/**
 * Too-fast start: effort in the first minutes above an easy ceiling.
 * Method: over moving time [fromS, untilS], the last minute's mean HR above `hrrCeiling` of HR reserve
 * (Karvonen: rest + share × (max − rest)), sustained for `sustainS` → slow_down, cause `fast_start`. When the
 * athlete's easy pace is known (and the session is not a race), the last minute's grade-adjusted speed must also
 * be above `paceFactor` × easy pace: high HR at an easy flat-equivalent pace is the terrain or the weather, not
 * a fast start. Without HR, the pace test alone decides.
 * Reference: fast starters hit the wall more and finish slower (Smyth, > 400k Chicago finishers); a faster first
 * half predicted cramps in a 56 km race (Schwellnus 2011); ACSM warm-up at light-to-moderate effort
 * (science.md §5). The 80 % HRR ceiling is the top of the ACSM 60–80 % HRR training range (§2.5).
 * Messy data: HR stuck at the cadence (optical lock) or missing does not count; the first `fromS` are skipped
 * because optical HR often overshoots at the start. Race sessions use a higher ceiling; intervals turn it off.
 * Limits: no HR kinetics model, so a very fast start is seen only once HR has risen (about a minute).
 * @module
 */
import { clamp01, defineDetector, F } from '../detector.js';

export interface FastStartConfig {
  /** Start of the watched window, s of moving time. @default 120 */
  fromS: number;
  /** End of the watched window, s of moving time. @default 900 */
  untilS: number;
  /** Easy ceiling as a share of HR reserve. @default 0.8 */
  hrrCeiling: number;
  /** Ceiling for race sessions, share of HR reserve. @default 0.9 */
  raceHrrCeiling: number;
  /**
   * Added to the ceiling when HRmax is estimated rather than known: age formulas miss by 7–11 bpm, and a
   * false "too fast" on an easy start is the nag we most want to avoid. @default 0.05
   */
  estimatedHrMaxMargin: number;
  /** Pace ceiling as a multiple of easy-pace speed. @default 1.15 */
  paceFactor: number;
  /** How long the effort must stay above the ceiling, s. @default 60 */
  sustainS: number;
}

export const FAST_START_DEFAULTS: FastStartConfig = {
  fromS: 120,
  untilS: 900,
  hrrCeiling: 0.8,
  raceHrrCeiling: 0.9,
  estimatedHrMaxMargin: 0.05,
  paceFactor: 1.15,
  sustainS: 60,
};

interface FastStartState {
  overS: number;
  /** Largest excess seen in the window (0–1): a fast start still weighs on the risk later. */
  excess: number;
}

export const fastStart = defineDetector<FastStartState>({
  id: 'fast-start',
  causes: ['fast_start'],
  needs: [],
  inputs: 'HR vs HR reserve; speed vs easy pace when the profile has one',
  off(ctx, channels) {
    if (ctx.session === 'intervals') return 'off for interval sessions';
    if (!channels.has('hr') && !(channels.has('speed') && ctx.profile.easyPaceMps > 0)) return 'needs HR, or speed and an easy pace';
    return null;
  },
  init: () => ({ overS: 0, excess: 0 }),
  step(s, tick, ctx) {
    const c = ctx.cfg.fastStart;
    const sh = ctx.shared;
    const ceiling = (ctx.session === 'race' ? c.raceHrrCeiling : c.hrrCeiling) + (ctx.profile.hrMaxKnown ? 0 : c.estimatedHrMaxMargin);
    const inWindow = sh.movingS >= c.fromS && sh.movingS <= c.untilS;
    const easy = ctx.profile.easyPaceMps;
    const hrOver = sh.hrrFrac > ceiling;
    const paceKnown = easy > 0 && ctx.session !== 'race' && sh.gas1m === sh.gas1m;
    const paceOver = paceKnown && sh.gas1m > easy * c.paceFactor;
    const over = paceKnown ? paceOver && (hrOver || !(sh.hrrFrac === sh.hrrFrac)) : hrOver;
    if (inWindow && tick.moving && over) s.overS += tick.dt;
    else if (tick.moving || !inWindow) s.overS = 0;
    const level = clamp01((sh.hrrFrac - (ceiling - 0.1)) / 0.2);
    if (inWindow && level > s.excess) s.excess = level;
    ctx.factors[F.fast_start] = inWindow ? level : 0.5 * s.excess;
    const sig = ctx.signals.fast_start;
    sig.active = inWindow && s.overS >= c.sustainS;
    sig.value = hrOver ? sh.hrrFrac * 100 : easy > 0 ? (100 * sh.gas1m) / easy : 0;
    // a: ceiling in bpm (HR case) or the easy speed (pace case, negative to tell them apart); b: minutes in.
    sig.a = hrOver ? ctx.profile.hrRest + ceiling * (ctx.profile.hrMax - ctx.profile.hrRest) : -easy;
    sig.b = sh.movingS / 60;
  },
});
