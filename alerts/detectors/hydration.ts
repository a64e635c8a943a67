/**
 * Hydration gap: sweat lost since the last drink that no drink has covered.
 * Method: per tick, sweat rate from the athlete's measured rate (while moving) or from the Gonzalez et al. 2009
 * piecewise equation with metabolic heat from the ACSM running equation (alerts/physiology.ts); cumulative loss
 * minus logged drinks is the deficit. When the loss since the last drink, capped at the deficit, passes
 * `gapPctMass` % of body mass → hydrate, cause `fluid_gap`, advising at most `sipMaxMl` and never more than the
 * deficit, and never once logged intake reaches `maxAdviceMlPerH` × elapsed hours (hyponatraemia guard).
 * Reference: > 2 % body-mass loss is the consensus limit; do not drink beyond sweat losses; IMMDA 400–800 mL/h
 * (ACSM 2007, IMMDA 2003, EAH consensus 2015; science.md §3.1); sweat equations §3.4; safety note §1.5.
 * Messy data: no speed → resting metabolic rate; no air temperature → the watch sensor, else 20 °C (stated).
 * Limits: ±~100 g·m⁻²·h⁻¹ model error; ignores sun, wind and clothing saturation; drinks are only what is logged.
 * @module
 */
import { clamp01, defineDetector, F } from '../detector.js';
import { bodySurfaceArea, sweatRateMlPerH } from '../physiology.js';

export interface HydrationConfig {
  /**
   * Uncovered loss since the last drink that prompts, % of body mass. 1 % keeps runs under an hour in mild weather
   * quiet (no drinking needed) while hot runs hear it within ~40 min. @default 1
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
  /** Most the engine will ever suggest per hour of run, mL/h. @default 800 */
  maxAdviceMlPerH: number;
  /** Most it suggests at once, mL. @default 250 */
  sipMaxMl: number;
  /** Least it suggests at once (below this it stays quiet), mL. @default 100 */
  sipMinMl: number;
  /** Share of a measured sweat rate assumed while stopped. @default 0.25 */
  stoppedShare: number;
  /** Body-mass loss counted as a full fluid risk factor, %. @default 2 */
  fullRiskPctMass: number;
}

export const HYDRATION_DEFAULTS: HydrationConfig = {
  gapPctMass: 1,
  hotGapPctMass: 0.7,
  mildC: 20,
  hotC: 28,
  maxAdviceMlPerH: 800,
  sipMaxMl: 250,
  sipMinMl: 100,
  stoppedShare: 0.25,
  fullRiskPctMass: 2,
};

interface HydrationState {
  bsa: number;
}

export const hydration = defineDetector<HydrationState>({
  id: 'hydration-gap',
  causes: ['fluid_gap'],
  needs: [],
  inputs: 'sweat model (speed, grade, mass, air temperature, humidity) or measured sweat rate, minus logged drinks',
  off: (ctx, channels) =>
    channels.has('speed') || ctx.profile.sweatRateMlPerH > 0 ? null : 'needs speed or a measured sweat rate',
  init: (ctx) => ({ bsa: bodySurfaceArea(ctx.profile.massKg) }),
  step(s, tick, ctx) {
    const c = ctx.cfg.hydration;
    const sh = ctx.shared;
    const p = ctx.profile;
    const humidity = ctx.conditionsHumidity === ctx.conditionsHumidity ? ctx.conditionsHumidity : ctx.cfg.engine.defaultHumidityPct;
    const rate =
      p.sweatRateMlPerH > 0
        ? tick.moving
          ? p.sweatRateMlPerH
          : p.sweatRateMlPerH * c.stoppedShare
        : sweatRateMlPerH(tick.moving ? tick.speed : 0, tick.grade, p.massKg, s.bsa, tick.airTempC, humidity, ctx.cfg.sweat);
    const ml = (rate * tick.dt) / 3600;
    sh.sweatMl += ml;
    sh.sweatSinceDrinkMl += ml;
    const deficit = sh.sweatMl - sh.drankMl;
    const uncovered = deficit < sh.sweatSinceDrinkMl ? deficit : sh.sweatSinceDrinkMl;
    const intakeCap = (c.maxAdviceMlPerH * tick.t) / 3600;
    let advice = Math.min(c.sipMaxMl, deficit, intakeCap - sh.drankMl);
    advice = Math.floor(advice / 50) * 50;
    ctx.factors[F.fluid_deficit] = clamp01(deficit / (c.fullRiskPctMass * 10 * p.massKg));
    const sig = ctx.signals.fluid_gap;
    const heat = clamp01((tick.airTempC - c.mildC) / (c.hotC - c.mildC));
    const gapPct = c.gapPctMass + heat * (c.hotGapPctMass - c.gapPctMass);
    sig.active = uncovered >= gapPct * 10 * p.massKg && advice >= c.sipMinMl;
    sig.value = uncovered;
    sig.a = advice;
    sig.b = ((sh.lastDrinkT === sh.lastDrinkT ? tick.t - sh.lastDrinkT : tick.t) / 60);
  },
});
