/**
 * Cadence fatigue: cadence falling at comparable speed, or stride rhythm becoming less steady.
 * Method: a post-warm-up baseline of cadence, speed and within-tick cadence SD; over a trailing window the cadence
 * expected at the window's speed is baseline + `spmPerMps` × (speed − baseline speed). A drop beyond `dropPct`
 * (÷ sensitivity), with speed within ±`maxSpeedChangePct` of baseline, sustained `sustainS` → slow_down, cause
 * `cadence_fatigue`, on steady ground and pace (window speed CV ≤ 0.1, |grade| ≤ 6 %). The SD of cadence rising to
 * `sdRise` × baseline feeds the risk gauge only: from 1 Hz watch cadence and with stop-and-go it read as fatigue on
 * real runs that were not fatigued. Structured sessions (surges, reps) are not judged.
 * Reference: speed, step length and cadence fall with fatigue late in marathons (Hanley 2020); cadence change is
 * largely explained by speed, so correct for speed first (Zandbergen 2023); stride-rate variance rose from 30 km
 * in a debut marathon (Norris 2016) (science.md §2.4).
 * Messy data: only running ticks with a plausible running cadence (≥ `minCadence`) count; a window needs
 * `minValidShare` valid ticks. Walking breaks and stops are skipped, not read as a cadence drop.
 * Limits: the speed slope is a population figure; within-tick SD from 1 Hz cadence is a coarse proxy for
 * stride-time variability (research uses stride-by-stride times).
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { createRing, ringPush, type Ring } from '../ring.js';

export interface CadenceConfig {
  /** Moving time ignored before the baseline, s. @default 600 */
  warmupS: number;
  /** Baseline length, s of moving time. @default 900 */
  baselineS: number;
  /** Trailing window, s. @default 180 */
  windowS: number;
  /** Speed-corrected drop that prompts, %. @default 4 */
  dropPct: number;
  /** Drop below which the condition clears (hysteresis), %. @default 2.5 */
  offPct: number;
  /** Time above the threshold before prompting, s. @default 300 */
  sustainS: number;
  /** Cadence change per m/s of speed, steps/min per m/s. @default 8 */
  spmPerMps: number;
  /** Largest speed change from baseline still "comparable", %. @default 8 */
  maxSpeedChangePct: number;
  /** Cadence SD ratio (window ÷ baseline) that counts as rhythm breaking down. @default 2 */
  sdRise: number;
  /** Smallest baseline cadence SD for the variability check to be trusted, steps/min. @default 1 */
  minBaseSd: number;
  /** Lowest cadence read as running, steps/min. @default 120 */
  minCadence: number;
  /** Share of valid ticks a window or the baseline needs. @default 0.6 */
  minValidShare: number;
}

export const CADENCE_DEFAULTS: CadenceConfig = {
  warmupS: 600,
  baselineS: 900,
  windowS: 180,
  dropPct: 4,
  offPct: 2.5,
  sustainS: 300,
  spmPerMps: 8,
  maxSpeedChangePct: 8,
  sdRise: 2,
  minBaseSd: 1,
  minCadence: 120,
  minValidShare: 0.6,
};

interface CadenceState {
  baseCadSum: number;
  baseSpeedSum: number;
  baseN: number;
  baseSdSum: number;
  baseSdN: number;
  cad: Ring;
  speed: Ring;
  sd: Ring;
  overS: number;
}

const cadenceCause = defineCause({
  cause: 'cadence_fatigue',
  kind: 'slow_down',
  priority: 40,
  escalates: true,
  words: ({ sig, escalated }) => ({
    message: escalated ? 'Slow down more: legs tiring' : 'Slow down: your legs are tiring',
    why: `Cadence down ${sig.value.toFixed(1)}% at a similar pace (${sig.a >= 0 ? '+' : ''}${sig.a.toFixed(1)}%), a sign of tiring legs.`,
  }),
});

export const cadence = defineDetector<CadenceState>({
  id: 'cadence-fatigue',
  causes: [cadenceCause],
  needs: ['cadence', 'speed'],
  inputs: 'cadence and speed',
  off: (ctx) => (ctx.session === 'intervals' ? 'off for interval sessions' : null),
  init(ctx) {
    const n = ctx.cfg.cadence.windowS / ctx.cfg.engine.tickS;
    return {
      baseCadSum: 0,
      baseSpeedSum: 0,
      baseN: 0,
      baseSdSum: 0,
      baseSdN: 0,
      cad: createRing(n),
      speed: createRing(n),
      sd: createRing(n),
      overS: 0,
    };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.cadence;
    const sh = ctx.shared;
    const valid = tick.running && tick.cadence >= c.minCadence && tick.sinceResumeS >= 60 && sh.structured === 0 && !(Math.abs(tick.grade) > 0.06);
    const baseEnd = c.warmupS + c.baselineS;
    if (valid && sh.movingS > c.warmupS && sh.movingS <= baseEnd) {
      s.baseCadSum += tick.cadence;
      s.baseSpeedSum += tick.speed;
      s.baseN++;
      if (tick.cadenceSd === tick.cadenceSd) {
        s.baseSdSum += tick.cadenceSd;
        s.baseSdN++;
      }
    }
    s.cad.next = NaN;
    if (valid) s.cad.next = tick.cadence;
    ringPush(s.cad);
    s.speed.next = NaN;
    if (valid) s.speed.next = tick.speed;
    ringPush(s.speed);
    s.sd.next = NaN;
    if (valid) s.sd.next = tick.cadenceSd;
    ringPush(s.sd);
    let change = NaN;
    let speedChange = NaN;
    let sdRatio = NaN;
    const baseReady = sh.movingS > baseEnd && s.baseN >= (c.minValidShare * c.baselineS) / ctx.cfg.engine.tickS;
    if (baseReady && s.cad.validShare >= c.minValidShare) {
      const baseCad = s.baseCadSum / s.baseN;
      const baseSpeed = s.baseSpeedSum / s.baseN;
      const winSpeed = s.speed.mean;
      speedChange = 100 * (winSpeed / baseSpeed - 1);
      if (Math.abs(speedChange) <= c.maxSpeedChangePct) {
        change = 100 * (s.cad.mean / (baseCad + c.spmPerMps * (winSpeed - baseSpeed)) - 1);
      }
      const baseSd = s.baseSdN > 0 ? s.baseSdSum / s.baseSdN : NaN;
      if (baseSd >= c.minBaseSd) sdRatio = s.sd.mean / baseSd;
    }
    const thr = ctx.limits.cadenceDropPct / sh.sens;
    const drop = -change;
    // Rhythm breaking down (cadence SD rising) is research-grade (science.md §2.4: its direction depends on the
    // protocol) and stop-and-go inflates it: it weighs on the risk score but never prompts on its own.
    if (drop > thr && s.speed.cv <= 0.1) s.overS += tick.dt;
    else if (!(drop > c.offPct / sh.sens)) s.overS = 0;
    sh.cadenceChangePct = change;
    ctx.factors[F.cadence_fatigue] = Math.max(clamp01(drop / (2 * thr)), clamp01((sdRatio - 1) / (2 * (c.sdRise - 1))));
    const sig = ctx.signals.cadence_fatigue;
    sig.active = s.overS >= c.sustainS;
    sig.value = drop;
    // a: the speed change (%); b: unused (NaN).
    sig.a = speedChange;
    sig.b = NaN;
  },
});
