/**
 * Effort spike: HR surging without a change of pace.
 * Method: mean HR of the last `widthS` against the same-length window `lagS` earlier; a rise of `risePct` and
 * `minRiseBpm` or more while grade-adjusted speed stays within ±`holdPct` on flat ground, sustained `sustainS`
 * → breathe, cause `effort_spike`: ease the effort and settle the breathing.
 * Reference: HR at constant pace rises with heat, dehydration (~3 bpm per 1 % mass loss) and fatigue (science.md
 * §2.2); a sudden surge at the same pace is an effort-control cue, not evidence of an imminent cramp.
 * Messy data: only trusted HR (not locked to the cadence), running, on grades within ±`maxAbsGrade`, after the
 * warm-up, and only when both windows lie in one continuous stretch of running at least `settleS` old: HR
 * climbing back after a stop or a walk break is kinetics, not a surge.
 * Limits: optical HR jumps that are not cadence lock can still fool it; the sustain time and bpm floor limit that.
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { createLagRing, lagPush, type LagRing } from '../ring.js';

export interface EffortSpikeConfig {
  /** Width of each compared window, s. @default 60 */
  widthS: number;
  /** Distance between the windows, s. @default 120 */
  lagS: number;
  /** HR rise that prompts, %. @default 10 */
  risePct: number;
  /** HR rise that prompts, bpm (both must hold). @default 12 */
  minRiseBpm: number;
  /** Largest speed change still "the same pace", %. @default 4 */
  holdPct: number;
  /** Steepest grade still judged, fraction. @default 0.04 */
  maxAbsGrade: number;
  /** Moving time before it starts, s (HR rises at the start of any run). @default 600 */
  warmupS: number;
  /** Moving time after a pause before it judges again, s. @default 300 */
  afterResumeS: number;
  /** Moving time after a climb before it judges again (HR lags the climb), s. @default 180 */
  afterClimbS: number;
  /** Continuous running needed before the older window starts, s. @default 60 */
  settleS: number;
  /** Time the condition must last, s. @default 30 */
  sustainS: number;
  /** Share of valid ticks each window needs. @default 0.8 */
  minValidShare: number;
}

export const EFFORT_SPIKE_DEFAULTS: EffortSpikeConfig = {
  widthS: 60,
  lagS: 120,
  risePct: 10,
  minRiseBpm: 12,
  holdPct: 4,
  maxAbsGrade: 0.04,
  warmupS: 600,
  afterResumeS: 300,
  afterClimbS: 180,
  settleS: 60,
  sustainS: 30,
  minValidShare: 0.8,
};

interface EffortSpikeState {
  runStreakS: number;
  hr: LagRing;
  speed: LagRing;
  overS: number;
}

const effortSpikeCause = defineCause({
  cause: 'effort_spike',
  kind: 'breathe',
  priority: 80,
  escalates: true,
  words: ({ sig, escalated }) => ({
    message: escalated ? 'Ease off now: HR surging' : 'Ease effort: relax and breathe',
    why: `HR up ${Math.round(sig.a)} bpm within ${Math.round(sig.b)} min at the same pace.`,
  }),
});

export const effortSpike = defineDetector<EffortSpikeState>({
  id: 'effort-spike',
  causes: [effortSpikeCause],
  needs: ['hr', 'speed'],
  inputs: 'HR and speed',
  off: (ctx) => (ctx.session === 'intervals' ? 'off for interval sessions' : null),
  init(ctx) {
    const c = ctx.cfg.effortSpike;
    const w = c.widthS / ctx.cfg.engine.tickS;
    const l = c.lagS / ctx.cfg.engine.tickS;
    return { runStreakS: 0, hr: createLagRing(w, l, c.minValidShare), speed: createLagRing(w, l, c.minValidShare), overS: 0 };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.effortSpike;
    s.runStreakS = tick.running ? s.runStreakS + tick.dt : 0;
    const ok =
      tick.running &&
      tick.hrOk &&
      ctx.shared.structured === 0 &&
      !(Math.abs(tick.grade) > c.maxAbsGrade) &&
      tick.sinceResumeS >= c.afterResumeS &&
      tick.sinceClimbS >= c.afterClimbS;
    s.hr.next = NaN;
    if (ok) s.hr.next = tick.hr;
    lagPush(s.hr);
    s.speed.next = NaN;
    if (ok) s.speed.next = tick.gas;
    lagPush(s.speed);
    const h1 = s.hr.recentMean;
    const h0 = s.hr.olderMean;
    const v1 = s.speed.recentMean;
    const v0 = s.speed.olderMean;
    const rise = 100 * (h1 / h0 - 1);
    const cond =
      ctx.shared.movingS >= c.warmupS &&
      s.runStreakS >= c.widthS + c.lagS + c.settleS &&
      rise >= c.risePct &&
      h1 - h0 >= c.minRiseBpm &&
      Math.abs(100 * (v1 / v0 - 1)) <= c.holdPct;
    if (cond) s.overS += tick.dt;
    else s.overS = 0;
    ctx.factors[F.effort_spike] = clamp01(rise / (2 * c.risePct));
    const sig = ctx.signals.effort_spike;
    sig.active = s.overS >= c.sustainS;
    sig.value = rise;
    sig.a = h1 - h0;
    sig.b = (c.widthS + c.lagS) / 60;
  },
});
