/**
 * Overload: time above threshold and elapsed time beyond the athlete's usual long run.
 * Method: accumulates moving time with HR at or above LTHR; expresses moving time as a share of the usual long
 * run. Both raise `shared.sens`, which divides the fatigue detectors' thresholds, so they speak earlier late in
 * long or hard efforts. It prompts on its own (slow_down, cause `overload`) when the run is past the usual long
 * run (or past `maxAboveThresholdS` above threshold) AND the runner is above threshold right now; or, when the
 * athlete gave their usual long run, once the run reaches `promptShare` of it whatever the effort (the default
 * usual long run is a guess, so it never prompts by duration alone).
 * Reference: cramps cluster in the last quarter of long efforts (56.5 % Ironman, 46.4 % Two Oceans) and rise with
 * distance (20 % at 56 km vs 8.5 % at 21 km) (science.md §1.2, §1.4); threshold efforts last ~40–60 min (§2.7).
 * Messy data: ticks without trusted HR add nothing to time above threshold; pauses stop the clock.
 * Limits: the usual long run defaults to 90 min when unknown (stated in the report); no notion of planned duration.
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { formatDuration } from '../journal.js';

export interface OverloadConfig {
  /** Share of the usual long run from which sensitivity starts to rise. @default 0.75 */
  lateShare: number;
  /** Sensitivity added at 100 % of the usual long run. @default 0.3 */
  lateBoost: number;
  /** Time above threshold that counts as a full load, s. @default 2400 */
  maxAboveThresholdS: number;
  /** Sensitivity added at a full load above threshold. @default 0.2 */
  aboveBoost: number;
  /** Sensitivity added when the athlete has cramped before. @default 0.1 */
  historyBoost: number;
  /** Cap on the sensitivity multiplier. @default 1.5 */
  maxSens: number;
  /** Continuous time above threshold, once overloaded, before prompting, s. @default 180 */
  promptAboveS: number;
  /** Share of a known usual long run at which it prompts whatever the effort. @default 1.2 */
  promptShare: number;
}

export const OVERLOAD_DEFAULTS: OverloadConfig = {
  lateShare: 0.75,
  lateBoost: 0.3,
  maxAboveThresholdS: 2400,
  aboveBoost: 0.2,
  historyBoost: 0.1,
  maxSens: 1.5,
  promptAboveS: 180,
  promptShare: 1.2,
};

interface OverloadState {
  consecutiveAboveS: number;
}

const overloadCause = defineCause({
  cause: 'overload',
  kind: 'slow_down',
  priority: 30,
  escalates: true,
  words: ({ sig, escalated, profile }) => ({
    message: escalated ? 'Slow down now: well past your usual' : 'Slow down: longer than usual today',
    why:
      sig.value >= 100
        ? `${Math.round(sig.value)}% of your usual ${formatDuration(sig.b * 60)} long run${sig.a >= 1 ? ` with ${Math.round(sig.a)} min above your threshold HR` : ''}: cramps cluster late in long efforts.`
        : `${Math.round(sig.a)} min above your threshold HR (${Math.round(profile.lthr)} bpm) so far and still above it: cramps follow overreaching.`,
  }),
});

export const overload = defineDetector<OverloadState>({
  id: 'overload',
  causes: [overloadCause],
  needs: [],
  inputs: 'moving time vs usual long run; HR vs threshold HR when HR exists',
  init: () => ({ consecutiveAboveS: 0 }),
  step(s, tick, ctx) {
    const c = ctx.cfg.overload;
    const sh = ctx.shared;
    if (tick.moving && tick.hrOk && tick.hr >= ctx.profile.lthr) {
      sh.aboveThresholdS += tick.dt;
      s.consecutiveAboveS += tick.dt;
    } else if (tick.moving) {
      s.consecutiveAboveS = 0;
    }
    const share = sh.movingS / ctx.profile.usualLongRunS;
    const late = ctx.limits.lateShare;
    const lateLevel = clamp01((share - late) / (1 - late));
    const aboveLevel = clamp01(sh.aboveThresholdS / c.maxAboveThresholdS);
    let sens = 1 + c.lateBoost * lateLevel + c.aboveBoost * aboveLevel + (ctx.profile.priorCramps > 0 ? c.historyBoost : 0);
    if (sens > c.maxSens) sens = c.maxSens;
    sh.sens = sens;
    ctx.factors[F.duration] = clamp01((share - 0.5) / 0.75);
    ctx.factors[F.time_above_threshold] = aboveLevel;
    const sig = ctx.signals.overload;
    // "Above threshold" is only said against a threshold the athlete's own numbers give (typed or learned).
    const thresholdKnown = ctx.profile.lthrKnown || ctx.profile.hrMaxKnown;
    const hardNow =
      thresholdKnown &&
      ctx.session !== 'race' &&
      (share >= 1 || sh.aboveThresholdS >= c.maxAboveThresholdS) &&
      s.consecutiveAboveS >= c.promptAboveS;
    const tooLong = ctx.profile.usualLongRunKnown && share >= c.promptShare;
    sig.active = ctx.session !== 'intervals' && sh.structured === 0 && tick.moving && (hardNow || tooLong);
    // value: the share of the usual long run, % (escalation = a further 20 % of it without easing off).
    sig.value = share * 100;
    sig.a = sh.aboveThresholdS / 60;
    sig.b = ctx.profile.usualLongRunS / 60;
  },
});
