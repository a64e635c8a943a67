/**
 * Cardiac drift / aerobic decoupling, streaming.
 * Method: after a warm-up, a baseline of grade-adjusted speed and HR over `baselineS` of valid moving time gives
 * the athlete's net efficiency for the day, EFnet = speed ÷ (HR − HRrest). Over a trailing window the HR expected
 * at the window's speed is HRrest + speed ÷ EFnet; decoupling = 100 × (1 − expected ÷ actual HR), i.e. "HR up x %
 * at the same pace". At constant pace this equals the classic (EF1 − EF2) ÷ EF1; using HR above rest keeps it from
 * moving when the runner merely changes pace (HR does not scale with speed through zero). Sustained above
 * `thresholdPct` (÷ sensitivity) for `sustainS` → slow_down, cause `cardiac_drift`.
 * Reference: Friel's 5 % decoupling convention (science.md §2.1 [S31][S33]); a real-time design with warm-up,
 * baseline and rolling window [S43]; drift begins after ~10 min [S45]; GoldenCheetah compares halves — halves are
 * unknown live, so this compares a post-warm-up baseline with a trailing window; the report gives both.
 * Messy data: a tick counts only when running, with trusted HR (not missing, not locked to the cadence), on a grade
 * within ±`maxAbsGrade`, and not just after a pause; a window needs `minValidShare` valid ticks and a speed CV
 * ≤ `maxSpeedCv` (EF is a steady-state measure: intervals and surges are not judged). GPS speed spikes average out
 * in 10-min windows; speed dropouts make a tick invalid rather than slow. Interval sessions turn it off.
 * Limits: grade adjustment is ACSM uphill and an approximation downhill; HR lags hills by a minute or two.
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { createRing, ringPush, type Ring } from '../ring.js';

export interface DriftConfig {
  /** Moving time ignored before the baseline, s. @default 600 */
  warmupS: number;
  /** Length of the baseline, s of valid running. @default 900 */
  baselineS: number;
  /** Moving time after the warm-up within which the baseline must be complete, s. @default 2700 */
  baselineWithinS: number;
  /** Trailing window, s. @default 600 */
  windowS: number;
  /** Decoupling that prompts, %. @default 5 */
  thresholdPct: number;
  /** Decoupling below which the condition clears (hysteresis), %. @default 3.5 */
  offPct: number;
  /** Time above the threshold before prompting, s. @default 300 */
  sustainS: number;
  /** Largest coefficient of variation of speed in a window still judged as steady. @default 0.1 */
  maxSpeedCv: number;
  /** Steepest grade still used (|grade|, fraction). @default 0.1 */
  maxAbsGrade: number;
  /** Largest difference between the window's pace and the baseline's still "the same pace", % (HR does not fall through rest in proportion to speed, so a slower window reads as drift). @default 4 */
  maxPaceChangePct: number;
  /** Least HR above the expected HR that prompts, bpm (5 % of a low HR is within optical noise). @default 7 */
  minRiseBpm: number;
  /** Moving time after a climb before ticks count again (HR lags the climb), s. @default 180 */
  skipAfterClimbS: number;
  /** Decoupling that prompts in a race, % (drift at race effort is expected). @default 8 */
  raceThresholdPct: number;
  /** Moving time after a pause before ticks count again (HR catches up after a stop for minutes), s. @default 300 */
  skipAfterResumeS: number;
  /** Share of valid ticks a window or the baseline needs. @default 0.8 */
  minValidShare: number;
}

export const DRIFT_DEFAULTS: DriftConfig = {
  warmupS: 600,
  baselineS: 900,
  baselineWithinS: 2700,
  windowS: 600,
  thresholdPct: 5,
  offPct: 3.5,
  sustainS: 300,
  maxSpeedCv: 0.1,
  maxAbsGrade: 0.1,
  maxPaceChangePct: 4,
  minRiseBpm: 7,
  skipAfterClimbS: 180,
  raceThresholdPct: 8,
  skipAfterResumeS: 300,
  minValidShare: 0.8,
};

interface DriftState {
  baseSpeedSum: number;
  baseHrSum: number;
  baseN: number;
  speed: Ring;
  hr: Ring;
  overS: number;
}

const driftCause = defineCause({
  cause: 'cardiac_drift',
  kind: 'slow_down',
  priority: 50,
  escalates: true,
  words: ({ sig, escalated }) => ({
    message: escalated ? 'Slow down more: HR still drifting' : 'Slow down: HR drifting up',
    why: `HR ${Math.round(sig.a)} bpm (${Math.round(sig.value)}%) above what this pace took early in the run, for ${Math.max(1, Math.round(sig.b))} min.`,
  }),
});

export const drift = defineDetector<DriftState>({
  id: 'cardiac-drift',
  causes: [driftCause],
  needs: ['hr', 'speed'],
  inputs: 'HR and speed (grade-adjusted where altitude exists)',
  off: (ctx) => (ctx.session === 'intervals' ? 'off for interval sessions' : null),
  init(ctx) {
    const n = ctx.cfg.drift.windowS / ctx.cfg.engine.tickS;
    return { baseSpeedSum: 0, baseHrSum: 0, baseN: 0, speed: createRing(n), hr: createRing(n), overS: 0 };
  },
  step(s, tick, ctx) {
    const c = ctx.cfg.drift;
    const sh = ctx.shared;
    const valid =
      tick.running &&
      tick.hrOk &&
      sh.structured === 0 &&
      tick.sinceResumeS >= c.skipAfterResumeS &&
      tick.sinceClimbS >= c.skipAfterClimbS &&
      !(Math.abs(tick.grade) > c.maxAbsGrade);
    // The baseline is the first `baselineS` of valid running after the warm-up, however long stops and climbs
    // make it take (up to `baselineWithinS` of moving time).
    const baseTicks = c.baselineS / ctx.cfg.engine.tickS;
    if (valid && sh.movingS > c.warmupS && sh.movingS <= c.warmupS + c.baselineWithinS && s.baseN < baseTicks) {
      s.baseSpeedSum += tick.gas;
      s.baseHrSum += tick.hr;
      s.baseN++;
    }
    s.speed.next = NaN;
    if (valid) s.speed.next = tick.gas;
    ringPush(s.speed);
    s.hr.next = NaN;
    if (valid) s.hr.next = tick.hr;
    ringPush(s.hr);
    let dec = NaN;
    let hrExpected = NaN;
    const baseReady = s.baseN >= baseTicks;
    if (baseReady && s.hr.validShare >= c.minValidShare && s.speed.cv <= c.maxSpeedCv) {
      const baseNetHr = s.baseHrSum / s.baseN - ctx.profile.hrRest;
      const baseSpeed = s.baseSpeedSum / s.baseN;
      // Decoupling compares like with like: at a different pace the HR–speed line is not that of the baseline.
      if (baseNetHr > 10 && Math.abs(100 * (s.speed.mean / baseSpeed - 1)) <= c.maxPaceChangePct) {
        const efNet = baseSpeed / baseNetHr;
        hrExpected = ctx.profile.hrRest + s.speed.mean / efNet;
        dec = 100 * (1 - hrExpected / s.hr.mean);
        if (s.hr.mean - hrExpected < c.minRiseBpm) dec = Math.min(dec, c.offPct);
      }
    }
    const thr = (ctx.session === 'race' ? Math.max(ctx.limits.driftPct, c.raceThresholdPct) : ctx.limits.driftPct) / sh.sens;
    if (dec > thr) s.overS += tick.dt;
    else if (!(dec > c.offPct / sh.sens)) s.overS = 0;
    sh.decouplingPct = dec;
    if (dec === dec && !(dec <= sh.maxDecouplingPct)) sh.maxDecouplingPct = dec;
    ctx.factors[F.cardiac_drift] = clamp01(dec / (2 * thr));
    const sig = ctx.signals.cardiac_drift;
    sig.active = s.overS >= c.sustainS && sh.structured === 0;
    sig.value = dec;
    sig.a = s.hr.mean - hrExpected;
    sig.b = s.overS / 60;
  },
});
