/**
 * Breathing: respiration rate rising fast while pace and HR hold.
 * Method: the mean respiration rate of the last `widthS` against the same-length window `lagS` earlier; a rise
 * of `risePct` (÷ sensitivity) or more while grade-adjusted speed and HR stay within ±`holdPct`, sustained
 * `sustainS` → breathe, cause `respiration`. The prompt is effort control ("ease effort"), not cramp prevention.
 * Reference: respiratory frequency tracks perceived effort better than HR (Nicolò 2016/2017); no evidence that
 * fast shallow breathing causes cramps (science.md §2.8, §4.2).
 * Messy data: running ticks only; needs `minValidShare` of both windows.
 * Limits: uses the FIT respiration channel (enhanced_respiration_rate); estimating it from RR intervals is not
 * implemented, so runs with only RR intervals have this detector off.
 * @module
 */
import { clamp01, defineDetector } from '../detector.js';
import { createLagRing, lagOlderMean, lagPush, lagRecentMean, type LagRing } from '../ring.js';

export interface RespirationConfig {
  /** Width of each compared window, s. @default 120 */
  widthS: number;
  /** Distance between the windows, s. @default 480 */
  lagS: number;
  /** Rise in respiration rate that prompts, %. @default 25 */
  risePct: number;
  /** Largest change of speed and of HR still "holding", %. @default 5 */
  holdPct: number;
  /** Time the condition must last, s. @default 60 */
  sustainS: number;
  /** Share of valid ticks each window needs. @default 0.7 */
  minValidShare: number;
}

export const RESPIRATION_DEFAULTS: RespirationConfig = {
  widthS: 120,
  lagS: 480,
  risePct: 25,
  holdPct: 5,
  sustainS: 60,
  minValidShare: 0.7,
};

interface RespirationState {
  resp: LagRing;
  speed: LagRing;
  hr: LagRing;
  overS: number;
}

export const respiration = defineDetector<RespirationState>({
  id: 'respiration',
  causes: ['respiration'],
  needs: ['respiration', 'speed'],
  inputs: 'respiration rate, speed, HR when present',
  init(ctx) {
    const c = ctx.cfg.respiration;
    const w = c.widthS / ctx.cfg.engine.tickS;
    const l = c.lagS / ctx.cfg.engine.tickS;
    return { resp: createLagRing(w, l), speed: createLagRing(w, l), hr: createLagRing(w, l), overS: 0 };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.respiration;
    const ok = tick.running;
    lagPush(s.resp, ok ? tick.resp : NaN);
    lagPush(s.speed, ok ? tick.gas : NaN);
    lagPush(s.hr, ok && tick.hrOk ? tick.hr : NaN);
    const r1 = lagRecentMean(s.resp, c.minValidShare);
    const r0 = lagOlderMean(s.resp, c.minValidShare);
    const v1 = lagRecentMean(s.speed, c.minValidShare);
    const v0 = lagOlderMean(s.speed, c.minValidShare);
    const h1 = lagRecentMean(s.hr, c.minValidShare);
    const h0 = lagOlderMean(s.hr, c.minValidShare);
    const rise = 100 * (r1 / r0 - 1);
    const speedHolds = Math.abs(100 * (v1 / v0 - 1)) <= c.holdPct;
    const hrHolds = !(h1 === h1 && h0 === h0) || Math.abs(100 * (h1 / h0 - 1)) <= c.holdPct;
    if (rise >= c.risePct / ctx.shared.sens && speedHolds && hrHolds) s.overS += tick.dt;
    else s.overS = 0;
    ctx.factors.respiration = clamp01(rise / (2 * c.risePct));
    const sig = ctx.signals.respiration;
    sig.active = s.overS >= c.sustainS;
    sig.value = rise;
    sig.a = r1;
    sig.b = r0;
  },
});
