/**
 * Electrolytes: estimated sodium lost in sweat, minus logged intake, on long or hot runs.
 * Method: sodium loss = sweat (from the hydration detector, which runs first) × sweat sodium (measured, else
 * 40 mmol/L) × 23 mg/mmol. Advice counts as offered: sodium advised and not yet matched by logged electrolytes is
 * covered too, so the advised total never exceeds the estimated loss. When the uncovered loss passes `thresholdMg`
 * and the run is long (≥ `minMovingS`) or hot (air ≥ `hotC` and ≥ `hotMinMovingS`) → electrolytes, cause
 * `sodium_loss`, suggesting up to `adviceMg` (as data: `sodiumMg`), never more than what is uncovered.
 * Reference: sweat sodium 36–43 mmol/L on average, 7–96 range (Baker 2016, Lara 2016; science.md §3.3);
 * whether sodium loss causes cramps is contested (§1.5): most cohorts find no link, but salty sweaters in heat may
 * get whole-body sodium-deficit cramps (Bergeron) and water without electrolytes after ~2 % loss made muscles more
 * cramp-prone (Lau 2019/2021). So it is a late, modest prompt, not a cramp cure, and the message says so.
 * Messy data: inherits the sweat model's inputs; gels count with their sodium when logged.
 * Limits: sweat sodium varies 3-fold between athletes; without a measured value the estimate is rough.
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { sodiumMg } from '../physiology.js';

export interface SodiumConfig {
  /** Uncovered sodium loss that prompts, mg. @default 1000 */
  thresholdMg: number;
  /**
   * Moving time from which a run counts as long, s: sodium replacement matters in efforts of about two hours and
   * more, or in the heat (ACSM 2007; science.md §3.1), and an electrolyte prompt in a mild 75-min run is noise.
   * @default 5400
   */
  minMovingS: number;
  /** Air temperature from which a run counts as hot, °C. @default 25 */
  hotC: number;
  /** Moving time from which a hot run may prompt, s. @default 3600 */
  hotMinMovingS: number;
  /** Sodium suggested per prompt, mg. @default 300 */
  adviceMg: number;
}

export const SODIUM_DEFAULTS: SodiumConfig = {
  thresholdMg: 1000,
  minMovingS: 5400,
  hotC: 25,
  hotMinMovingS: 3600,
  adviceMg: 300,
};

const sodiumCause = defineCause({
  cause: 'sodium_loss',
  kind: 'electrolytes',
  priority: 10,
  escalates: false,
  // A modest hedge, said as one: the electrolyte theory of cramps is disputed (science.md §1.5).
  words: ({ sig }) => ({
    message: `Electrolytes: ~${Math.round(sig.a)} mg sodium`,
    why: `About ${Math.round(sig.value / 10) * 10} mg of sodium lost in sweat and not yet replaced (estimated); it may help salty sweaters, it is no cramp cure.`,
  }),
  fired(alert, sig, sh) {
    alert.sodiumMg = sig.a;
    sh.sodiumAdvisedMg += sig.a;
    sh.sodiumAdvisedTotalMg += sig.a;
  },
});

export const sodium = defineDetector<Record<string, never>>({
  id: 'sodium-loss',
  causes: [sodiumCause],
  needs: [],
  inputs: 'estimated sweat loss × sweat sodium, minus logged electrolytes and gels',
  needsOneOf: ['speed', 'hr'],
  init: () => ({}),
  step(_s, tick, ctx) {
    const c = ctx.cfg.sodium;
    const sh = ctx.shared;
    sh.sodiumLossMg = sodiumMg(sh.sweatMl, ctx.profile.sweatSodiumMmolPerL);
    const deficit = sh.sodiumLossMg - sh.sodiumIntakeMg;
    const uncovered = deficit - sh.sodiumAdvisedMg;
    const thr = ctx.limits.sodiumMg;
    const longEnough = sh.movingS >= c.minMovingS || (tick.airTempC >= c.hotC && sh.movingS >= c.hotMinMovingS);
    ctx.factors[F.sodium_deficit] = clamp01(deficit / (2 * thr));
    const advice = Math.floor(Math.min(c.adviceMg, uncovered) / 50) * 50;
    const sig = ctx.signals.sodium_loss;
    sig.active = longEnough && uncovered >= thr && advice >= 100;
    sig.value = uncovered;
    sig.a = advice;
    sig.b = sh.sodiumIntakeMg;
  },
});
