/**
 * Physiology formulas shared by the live detectors and the post-run metrics (one place each):
 * ACSM metabolic equations, body surface area, and the Gonzalez et al. 2009 sweat-rate equation.
 * Sources: ../shared/docs/science.md §3.4 [S97][S98][S101]; every constant below is quoted there.
 * All functions are pure, allocation-free and take SI-ish units stated per argument.
 * @module
 */

/** Oxygen per kcal: 1 L O₂ ≈ 5 kcal [S101]; 1 kcal/min = 69.78 W. */
const W_PER_ML_O2_PER_MIN = (5 * 69.78) / 1000;

/**
 * ACSM gross oxygen cost, mL·kg⁻¹·min⁻¹. Running equation `0.2·v + 0.9·v·grade + 3.5` (v in m/min) above
 * `walkRunMps`; the walking equation `0.1·v + 1.8·v·grade + 3.5` below it. Downhill grades count as flat: the
 * ACSM equations are not valid for negative grades [S101].
 */
export function acsmVo2(speedMps: number, grade: number, walkRunMps: number): number {
  if (!(speedMps > 0)) return 3.5;
  const v = speedMps * 60;
  const g = grade > 0 ? grade : 0;
  return speedMps >= walkRunMps ? 0.2 * v + 0.9 * v * g + 3.5 : 0.1 * v + 1.8 * v * g + 3.5;
}

/**
 * Energy cost of running on a gradient relative to the flat (Minetti et al. 2002: C(i) = 155.4i⁵ − 30.4i⁴ −
 * 43.3i³ + 46.3i² + 19.5i + 3.6 J·kg⁻¹·m⁻¹, measured for −0.45 ≤ i ≤ 0.45; science.md §3.6). Downhill costs less
 * down to about −0.2, then more again. NaN grade (no altitude) counts as flat.
 */
export function minettiFactor(grade: number): number {
  if (!(grade === grade)) return 1;
  const i = grade > 0.45 ? 0.45 : grade < -0.45 ? -0.45 : grade;
  const i2 = i * i;
  const c = 155.4 * i2 * i2 * i - 30.4 * i2 * i2 - 43.3 * i2 * i + 46.3 * i2 + 19.5 * i + 3.6;
  return c / 3.6;
}

/**
 * Metabolic rate while moving on a gradient, W: the ACSM flat cost (the level the sweat model was checked at)
 * scaled by Minetti's gradient cost. Below `walkRunMps` the ACSM walking equation with its own grade term is used.
 */
export function movingMetabolicWatts(speedMps: number, grade: number, massKg: number, walkRunMps: number): number {
  // In oxygen cost, then once to watts: one call layer less keeps the sweat model inside TurboFan's inlining budget
  // for the hydration step (with the extra layer, ~13 B a sample of boxed doubles came back across the calls).
  const wattsPerVo2 = massKg * W_PER_ML_O2_PER_MIN;
  if (!(speedMps >= walkRunMps)) return acsmVo2(speedMps, grade, walkRunMps) * wattsPerVo2;
  return (3.5 + (acsmVo2(speedMps, 0, walkRunMps) - 3.5) * minettiFactor(grade)) * wattsPerVo2;
}

/**
 * Energy expenditure from heart rate, W (Keytel et al. 2005, kJ/min = −55.0969 + 0.6309·HR + 0.1988·mass +
 * 0.2017·age for men, −20.4022 + 0.4472·HR − 0.1263·mass + 0.074·age for women; the mean of the two when sex
 * is unknown; age 35 when unknown). Derived at 57–90 % of HRmax; individual error is large, so the engine uses it
 * only where speed is missing or clearly under-explains the effort (science.md §3.6).
 */
export function keytelWatts(hr: number, massKg: number, age: number | null, sex: 'male' | 'female' | null): number {
  const a = age ?? 35;
  const men = -55.0969 + 0.6309 * hr + 0.1988 * massKg + 0.2017 * a;
  const women = -20.4022 + 0.4472 * hr - 0.1263 * massKg + 0.074 * a;
  const kjPerMin = sex === 'male' ? men : sex === 'female' ? women : (men + women) / 2;
  return kjPerMin > 0 ? (kjPerMin * 1000) / 60 : 0;
}

/** Body surface area, m², from mass alone (Livingston & Scott 2005: 0.1173·m^0.6466), for when height is unknown. */
export function bodySurfaceArea(massKg: number): number {
  return 0.1173 * Math.pow(massKg, 0.6466);
}

/** Saturated water-vapour pressure, mmHg (Antoine form used with the heat-strain model, science.md §3.4). */
export function saturationVapourMmHg(tempC: number): number {
  return Math.pow(10, 8.1076 - 1750.286 / (tempC + 235));
}

// Two-entry memo for the sweat model (air and skin temperature rarely change between ticks; Math.pow is the
// costliest step). Referentially transparent: same input, same output.
const memoT = new Float64Array([NaN, NaN]);
const memoP = new Float64Array([NaN, NaN]);
function vapourMemo(slot: number, tempC: number): number {
  if (memoT[slot] !== tempC) {
    memoT[slot] = tempC;
    memoP[slot] = saturationVapourMmHg(tempC);
  }
  return memoP[slot]!;
}

export interface SweatModelConfig {
  /** Share of metabolic energy released as heat. @default 0.8 (science.md §3.4: about 80 %) */
  heatShare: number;
  /** Effective clothing insulation while running, clo. @default 0.5 */
  clo: number;
  /** Clothing moisture permeability index (im), dimensionless. @default 0.4 */
  im: number;
  /** Mean skin temperature, °C. @default 33 */
  skinTempC: number;
  /** Floor of the predicted sweat rate, g·m⁻²·h⁻¹ (the equation goes negative in cold dry air). @default 100 */
  floorGPerM2H: number;
  /** Ceiling of the whole-body sweat rate, mL/h (top of the range reported for athletes [S89]). @default 2600 */
  ceilingMlPerH: number;
  /** Below this air temperature the cool-air form (intercept 350) is used [S98]. @default 20 */
  coolBelowC: number;
  /**
   * Half-width of a linear blend between the two intercepts around `coolBelowC`, °C. The published step would
   * make 19 °C air predict ~50 % more sweat than 21 °C; blending over ±2 °C removes that artefact. @default 2
   */
  coolBlendC: number;
  /** Speed from which the ACSM running equation applies, m/s. @default 1.4 */
  walkRunMps: number;
}

export const SWEAT_DEFAULTS: SweatModelConfig = {
  heatShare: 0.8,
  clo: 0.5,
  im: 0.4,
  skinTempC: 33,
  floorGPerM2H: 100,
  ceilingMlPerH: 2600,
  coolBelowC: 20,
  coolBlendC: 2,
  walkRunMps: 1.4,
};

/**
 * Whole-body sweat rate, mL/h, from the Gonzalez et al. 2009 piecewise equation
 * `ṁsw = 147 + 1.527·Ereq − 0.87·Emax` (g·m⁻²·h⁻¹), with the 2012 cool-air intercept 350 below 20 °C (blended
 * linearly over 18–22 °C, see `coolBlendC`).
 * Ereq = metabolic heat + dry heat exchange `6.45·(Ta − Tsk)/clo`; Emax = `14.21·(im/clo)·(Psk − Pa)` (mmHg).
 * Limits: the equations were derived for 15–46 °C and ≤ 450 W/m² metabolic rate; wind and sun are ignored.
 */
export function sweatRateMlPerH(
  speedMps: number,
  grade: number,
  massKg: number,
  bsaM2: number,
  tempC: number,
  humidityPct: number,
  c: SweatModelConfig,
): number {
  return sweatRateFromWatts(movingMetabolicWatts(speedMps, grade, massKg, c.walkRunMps), bsaM2, tempC, humidityPct, c);
}

/** The same sweat equation from a metabolic rate in W (from speed and grade, or from HR). */
export function sweatRateFromWatts(
  metabolicW: number,
  bsaM2: number,
  tempC: number,
  humidityPct: number,
  c: SweatModelConfig,
): number {
  const heatWPerM2 = (c.heatShare * metabolicW) / bsaM2;
  const dryWPerM2 = (6.45 * (tempC - c.skinTempC)) / c.clo;
  const eReq = heatWPerM2 + dryWPerM2;
  const pa = (humidityPct / 100) * vapourMemo(0, tempC);
  const eMax = 14.21 * (c.im / c.clo) * (vapourMemo(1, c.skinTempC) - pa);
  const cool = c.coolBlendC > 0 ? (c.coolBelowC + c.coolBlendC - tempC) / (2 * c.coolBlendC) : tempC < c.coolBelowC ? 1 : 0;
  const intercept = 147 + (350 - 147) * (cool > 1 ? 1 : cool > 0 ? cool : 0);
  let perM2 = intercept + 1.527 * eReq - 0.87 * eMax;
  if (perM2 < c.floorGPerM2H) perM2 = c.floorGPerM2H;
  const mlPerH = perM2 * bsaM2; // 1 g of sweat ≈ 1 mL
  return mlPerH > c.ceilingMlPerH ? c.ceilingMlPerH : mlPerH;
}

/** Sodium, mg, in `sweatMl` of sweat at `mmolPerL` (1 mmol Na = 23 mg). */
export function sodiumMg(sweatMl: number, mmolPerL: number): number {
  return (sweatMl / 1000) * mmolPerL * 23;
}

/** Sets `tick.gas` from `tick.speed` and `tick.grade` (fields, not arguments: see ring.ts on boxing). */
export function gradeAdjust(
  tick: { speed: number; grade: number; gas: number },
  c: { downhillFactor: number; maxDownhillSaving: number },
): void {
  tick.gas = gradeAdjustedSpeed(tick.speed, tick.grade, c.downhillFactor, c.maxDownhillSaving);
}

/**
 * Grade-adjusted ("flat-equivalent") speed. Uphill from the ACSM running equation's grade term (0.9/0.2 = 4.5 per
 * unit grade); downhill a milder saving (`downhillFactor` per unit grade, at most `maxSaving`) because the ACSM
 * equation is not valid downhill — an approximation, stated as such.
 */
export function gradeAdjustedSpeed(speedMps: number, grade: number, downhillFactor: number, maxSaving: number): number {
  if (!(grade === grade)) return speedMps;
  if (grade >= 0) return speedMps * (1 + 4.5 * grade);
  const saving = -grade * downhillFactor;
  return speedMps * (1 - (saving > maxSaving ? maxSaving : saving));
}
