/**
 * Hydration gap: sweat lost that neither logged drinks nor earlier advice has covered.
 * Method: per tick, sweat rate from the athlete's measured rate (while moving) or from the Gonzalez et al. 2009
 * piecewise equation (alerts/physiology.ts) with the metabolic rate from speed and grade (ACSM flat cost scaled by
 * Minetti 2002's gradient cost), or from heart rate (Keytel 2005) where speed is missing or explains less than
 * `hrExplainShare` of the HR-based rate (slow steep climbs, treadmills without speed). Cumulative loss minus logged
 * drinks is the deficit (the report's fluid series). Advice counts as offered: what was advised and not yet
 * matched by a logged drink is covered too, so the advised total never exceeds the estimated loss, nor
 * `maxAdviceMlPerH` from the first advice on (a first sip of up to `sipMaxMl`, then that rate). When the uncovered
 * loss passes `gapPctMass` % of body mass after `minMovingS` → hydrate, cause `fluid_gap`, with the amount as data
 * (`amountMl`): between `sipMinMl` and `sipMaxMl`, in steps of 50 mL, never more than what is uncovered.
 * Reference: > 2 % body-mass loss is the consensus limit; do not drink beyond sweat losses; IMMDA 400–800 mL/h;
 * fluid during exercise matters from about an hour (ACSM 2007, IMMDA 2003, EAH consensus 2015; science.md §3.1);
 * sweat equations §3.4; metabolic rate on climbs and from HR §3.6; safety note §1.5 (hyponatraemia).
 * Messy data: no speed → HR-based; no air temperature → the watch sensor, else 20 °C (stated in the report).
 * Limits: ±~100 g·m⁻²·h⁻¹ model error; Keytel's individual error is large; drinks are only what is logged.
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';
import { bodySurfaceArea, keytelWatts, movingMetabolicWatts, sweatRateFromWatts } from '../physiology.js';

export interface HydrationConfig {
  /**
   * Uncovered loss that prompts, % of body mass. 1 % keeps runs under an hour in mild weather quiet (no drinking
   * needed) while hot runs hear it within ~40 min. @default 1
   */
  gapPctMass: number;
  /**
   * The threshold in the heat, % of body mass: reached linearly from `gapPctMass` at `mildC` to this at `hotC`,
   * because hypohydration costs more once skin is warm (> 27 °C skin; Sawka 2015, science.md §2.2). @default 0.7
   */
  hotGapPctMass: number;
  /** Air temperature up to which the mild threshold applies, °C. @default 20 */
  mildC: number;
  /** Air temperature from which the hot threshold applies, °C. @default 28 */
  hotC: number;
  /** Moving time before any drink advice (runs under ~45 min need none in most weather), s. @default 2700 */
  minMovingS: number;
  /** The same when the given air temperature is at least `hotFloorC`, s. @default 1800 */
  hotMinMovingS: number;
  /** Air temperature (from the run's conditions) from which `hotMinMovingS` applies, °C. @default 25 */
  hotFloorC: number;
  /** Most the engine will ever suggest per hour, from its first advice on, mL/h. @default 800 */
  maxAdviceMlPerH: number;
  /** Most it suggests at once, mL. @default 250 */
  sipMaxMl: number;
  /** Least it suggests at once (below this it stays quiet), mL. @default 100 */
  sipMinMl: number;
  /** Share of a measured sweat rate assumed while stopped. @default 0.25 */
  stoppedShare: number;
  /** Body-mass loss counted as a full fluid risk factor, %. @default 2 */
  fullRiskPctMass: number;
  /**
   * Speed explains the effort when its metabolic rate is at least this share of the HR-based one; below it (a slow
   * steep climb, a treadmill without speed), the HR-based rate is used. @default 0.6
   */
  hrExplainShare: number;
}

export const HYDRATION_DEFAULTS: HydrationConfig = {
  gapPctMass: 1,
  hotGapPctMass: 0.7,
  mildC: 20,
  hotC: 28,
  minMovingS: 2700,
  hotMinMovingS: 1800,
  hotFloorC: 25,
  maxAdviceMlPerH: 800,
  sipMaxMl: 250,
  sipMinMl: 100,
  stoppedShare: 0.25,
  fullRiskPctMass: 2,
  hrExplainShare: 0.6,
};

interface HydrationState {
  bsa: number;
}

const fluidGapCause = defineCause({
  cause: 'fluid_gap',
  kind: 'hydrate',
  priority: 20,
  escalates: false,
  // Never more than the estimated loss: drinking beyond sweat losses is the danger (science.md §3.1).
  words: ({ sig, shared }) => ({
    message: `Drink ~${Math.round(sig.a)} ml`,
    why: `About ${Math.round(sig.value / 10) * 10} ml of sweat not yet replaced (estimated; ${Math.round(sig.b)} min since ${shared.lastDrinkT === shared.lastDrinkT ? 'your last drink' : 'the start'}); no more than that in all.`,
  }),
  // Advice counts as offered: what was advised is not advised again.
  fired(alert, sig, sh, t) {
    alert.amountMl = sig.a;
    sh.advisedMl += sig.a;
    sh.advisedTotalMl += sig.a;
    if (!(sh.firstAdviceT === sh.firstAdviceT)) sh.firstAdviceT = t;
  },
});

export const hydration = defineDetector<HydrationState>({
  id: 'hydration-gap',
  causes: [fluidGapCause],
  needs: [],
  needsOneOf: ['speed', 'hr'],
  inputs: 'sweat model (speed and grade, or HR where speed is missing or does not explain the effort; mass, air temperature, humidity) or measured sweat rate, minus logged drinks and advice already given',
  init: (ctx) => ({ bsa: bodySurfaceArea(ctx.profile.massKg) }),
  step(s, tick, ctx) {
    const c = ctx.cfg.hydration;
    const sh = ctx.shared;
    const p = ctx.profile;
    const humidity = ctx.conditionsHumidity === ctx.conditionsHumidity ? ctx.conditionsHumidity : ctx.cfg.engine.defaultHumidityPct;
    let rate: number;
    if (p.sweatRateMlPerH > 0) {
      rate = tick.moving ? p.sweatRateMlPerH : p.sweatRateMlPerH * c.stoppedShare;
    } else {
      const moving = tick.moving && !tick.paused;
      let watts = movingMetabolicWatts(moving && tick.speed === tick.speed ? tick.speed : 0, tick.grade, p.massKg, ctx.cfg.sweat.walkRunMps);
      if (moving && tick.hrOk) {
        const hrWatts = keytelWatts(tick.hr, p.massKg, p.age, p.sex);
        if (watts < c.hrExplainShare * hrWatts) {
          watts = hrWatts;
          sh.sweatFromHrTicks++;
        } else sh.sweatFromSpeedTicks++;
      } else if (moving) sh.sweatFromSpeedTicks++;
      rate = sweatRateFromWatts(watts, s.bsa, tick.airTempC, humidity, ctx.cfg.sweat);
    }
    const ml = (rate * tick.dt) / 3600;
    sh.sweatMl += ml;
    const deficit = sh.sweatMl - sh.drankMl;
    const uncovered = deficit - sh.advisedMl;
    const sinceFirst = sh.firstAdviceT === sh.firstAdviceT ? tick.t - sh.firstAdviceT : 0;
    const rateRoom = c.sipMaxMl + (c.maxAdviceMlPerH * sinceFirst) / 3600 - sh.advisedTotalMl;
    let advice = Math.min(c.sipMaxMl, uncovered, rateRoom);
    advice = Math.floor(advice / 50) * 50;
    ctx.factors[F.fluid_deficit] = clamp01(deficit / (c.fullRiskPctMass * 10 * p.massKg));
    const sig = ctx.signals.fluid_gap;
    const heat = clamp01((tick.airTempC - c.mildC) / (c.hotC - c.mildC));
    const gapPct = c.gapPctMass + heat * (c.hotGapPctMass - c.gapPctMass);
    const hotGiven = ctx.conditionsTempC >= c.hotFloorC;
    const longEnough = sh.movingS >= (hotGiven ? c.hotMinMovingS : c.minMovingS);
    sig.active = longEnough && uncovered >= gapPct * 10 * p.massKg && advice >= c.sipMinMl;
    sig.value = uncovered;
    sig.a = advice;
    // b: minutes since the last drink, or since the start of what is analysed.
    sig.b = (tick.t - (sh.lastDrinkT === sh.lastDrinkT ? sh.lastDrinkT : sh.startT)) / 60;
  },
});
