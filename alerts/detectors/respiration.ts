/**
 * Breathing: respiration rate rising fast while pace and HR hold.
 * Method: the mean respiration rate of the last `widthS` against (a) a post-warm-up baseline (`warmupS`, then
 * `baselineS` of running) and (b) the same-length window `lagS` earlier. A rise of `baselineRisePct` over the
 * baseline, or of `risePct` within `lagS` (both ÷ sensitivity), while grade-adjusted speed and HR stay within
 * ±`holdPct` of the compared window, sustained `sustainS` → breathe, cause `respiration`. The prompt is effort
 * control ("ease effort"), not cramp prevention.
 * Reference: respiratory frequency tracks perceived effort better than HR (Nicolò 2016/2017); no evidence that
 * fast shallow breathing causes cramps (science.md §2.8, §4.2).
 * Messy data: running ticks only; needs `minValidShare` of both windows.
 * Limits: uses the FIT respiration channel (enhanced_respiration_rate); estimating it from RR intervals is not
 * implemented, so runs with only RR intervals have this detector off.
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { createLagRing, lagPush, type LagRing } from '../ring.js';

export interface RespirationConfig {
  /** Moving time before the baseline, s. @default 600 */
  warmupS: number;
  /** Baseline length, s of moving time. @default 900 */
  baselineS: number;
  /** Rise over the baseline that prompts, %. @default 15 */
  baselineRisePct: number;
  /** Largest HR change from the baseline still "holding", % (HR drifts a little over a long run). @default 7 */
  baselineHrHoldPct: number;
  /** Width of each compared window, s. @default 120 */
  widthS: number;
  /** Distance between the windows, s. @default 480 */
  lagS: number;
  /** Rise in respiration rate that prompts, %. @default 25 */
  risePct: number;
  /** Largest change of speed and of HR still "holding", %. @default 5 */
  holdPct: number;
  /** Least rise that prompts, breaths/min (30 → 35 is within a watch's reading noise). @default 6 */
  minRiseBpm: number;
  /** Time the condition must last, s. @default 60 */
  sustainS: number;
  /** Share of valid ticks each window needs. @default 0.7 */
  minValidShare: number;
}

export const RESPIRATION_DEFAULTS: RespirationConfig = {
  warmupS: 600,
  baselineS: 900,
  baselineRisePct: 15,
  baselineHrHoldPct: 7,
  widthS: 120,
  lagS: 480,
  risePct: 25,
  holdPct: 5,
  minRiseBpm: 6,
  sustainS: 60,
  minValidShare: 0.7,
};

interface RespirationState {
  baseResp: number;
  baseSpeed: number;
  baseHr: number;
  baseN: number;
  baseHrN: number;
  resp: LagRing;
  speed: LagRing;
  hr: LagRing;
  overS: number;
}

const respirationCause = defineCause({
  cause: 'respiration',
  kind: 'breathe',
  priority: 90,
  escalates: true,
  // "Breathe" is effort control: breathing rate tracks effort (science.md §2.8, §4).
  words: ({ sig, escalated }) => ({
    message: escalated ? 'Ease off: breathing still rising' : 'Ease effort: slow your breathing',
    why: `Breathing up ${Math.round(sig.value)}% (${Math.round(sig.b)} to ${Math.round(sig.a)}/min) while pace and HR held: effort is creeping up.`,
  }),
});

export const respiration = defineDetector<RespirationState>({
  id: 'respiration',
  causes: [respirationCause],
  needs: ['respiration', 'speed'],
  inputs: 'respiration rate, speed, HR when present',
  off: (ctx) => (ctx.session === 'intervals' ? 'off for interval sessions' : null),
  init(ctx) {
    const c = ctx.cfg.respiration;
    const w = c.widthS / ctx.cfg.engine.tickS;
    const l = c.lagS / ctx.cfg.engine.tickS;
    return { baseResp: 0, baseSpeed: 0, baseHr: 0, baseN: 0, baseHrN: 0, resp: createLagRing(w, l, c.minValidShare), speed: createLagRing(w, l, c.minValidShare), hr: createLagRing(w, l, c.minValidShare), overS: 0 };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.respiration;
    const ok = tick.running && ctx.shared.structured === 0;
    const ms = ctx.shared.movingS;
    if (ok && tick.resp === tick.resp && tick.gas === tick.gas && ms > c.warmupS && ms <= c.warmupS + c.baselineS) {
      s.baseResp += tick.resp;
      s.baseSpeed += tick.gas;
      s.baseN++;
      if (tick.hrOk) {
        s.baseHr += tick.hr;
        s.baseHrN++;
      }
    }
    s.resp.next = NaN;
    if (ok) s.resp.next = tick.resp;
    lagPush(s.resp);
    s.speed.next = NaN;
    if (ok) s.speed.next = tick.gas;
    lagPush(s.speed);
    s.hr.next = NaN;
    if (ok && tick.hrOk) s.hr.next = tick.hr;
    lagPush(s.hr);
    const r1 = s.resp.recentMean;
    const r0 = s.resp.olderMean;
    const v1 = s.speed.recentMean;
    const v0 = s.speed.olderMean;
    const h1 = s.hr.recentMean;
    const h0 = s.hr.olderMean;
    const sens = ctx.shared.sens;
    // (b) fast rise within lagS
    const rise = 100 * (r1 / r0 - 1);
    const fast =
      rise >= c.risePct / sens &&
      r1 - r0 >= c.minRiseBpm &&
      Math.abs(100 * (v1 / v0 - 1)) <= c.holdPct &&
      (!(h1 === h1 && h0 === h0) || Math.abs(100 * (h1 / h0 - 1)) <= c.holdPct);
    // (a) rise over the post-warm-up baseline
    const baseReady = ms > c.warmupS + c.baselineS && s.baseN >= (c.minValidShare * c.baselineS) / ctx.cfg.engine.tickS;
    const b0 = baseReady ? s.baseResp / s.baseN : NaN;
    const baseRise = 100 * (r1 / b0 - 1);
    const bh = s.baseHrN > 0 ? s.baseHr / s.baseHrN : NaN;
    const vs = baseReady ? s.baseSpeed / s.baseN : NaN;
    const slow =
      baseRise >= c.baselineRisePct / sens &&
      r1 - b0 >= c.minRiseBpm &&
      Math.abs(100 * (v1 / vs - 1)) <= c.holdPct &&
      (!(h1 === h1 && bh === bh) || Math.abs(100 * (h1 / bh - 1)) <= c.baselineHrHoldPct);
    if (fast || slow) s.overS += tick.dt;
    else s.overS = 0;
    const useBase = slow && !(fast && rise > baseRise);
    const shown = useBase ? baseRise : rise;
    ctx.factors[F.respiration] = Math.max(clamp01(rise / (2 * c.risePct)), clamp01(baseRise / (2 * c.baselineRisePct)));
    const sig = ctx.signals.respiration;
    sig.active = s.overS >= c.sustainS;
    sig.value = shown;
    sig.a = r1;
    sig.b = useBase ? b0 : r0;
  },
});
