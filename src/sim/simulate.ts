/**
 * A deterministic 1 Hz running simulator: the source of the labelled scenario runs in
 * fixtures/scenarios/. One seed gives one run, identical on every machine. What it models, per second:
 *
 * Pace plan. A list of segments (warm-up ramps, steady running, interval reps and recoveries, hills with a
 * grade, pauses). The runner's true speed follows the plan's target with a 4 s lag and a slow AR(1) wobble
 * of ~1.5 % (nobody runs a perfectly even pace).
 *
 * Oxygen cost. ACSM running equation (ACSM's Guidelines for Exercise Testing and Prescription; science.md
 * [S101]): VO2 = 0.2·v + 0.9·v·grade + 3.5 mL·kg⁻¹·min⁻¹, v in m/min, grade as a fraction. The equation is
 * for level and uphill running; downhill saves less than uphill costs (Minetti et al., J Appl Physiol 2002),
 * so a negative grade counts half, and the cost never falls below 0.1·v + 3.5.
 *
 * Heart rate. Effort r = %VO2 reserve = (VO2 − 3.5) / (VO2max − 3.5), which maps one-to-one onto %HR
 * reserve (Swain & Leutholtz, MSSE 1997; ACSM): HR_ss = HRrest + r·(HRmax − HRrest). On top of it:
 * - cardiac drift, a growing fraction d(t) of HR at constant effort: in heat d grows from minute 15
 *   (drift starts after 10–20 min, Coyle & González-Alonso 2001 [S45]) at 0.8 %/h per °C above 18 °C
 *   (≈ 14 %/h at 35 °C, tamer than the lab's +19 % in 30 min at 35 °C without fluid [S47], because wind
 *   and drinking blunt it outdoors); an injected drift adds `drift.pctPerHour` after `drift.onsetS`;
 * - dehydration: +3 bpm per 1 % body mass lost (Adams et al., JSCR 2014 [S49]); sweat rate defaults to
 *   0.4 L/h at 10 °C rising 0.045 L/h per °C, scaled by speed/3 m/s (Baker 2016 mean 1.2 L/h [S90]);
 * - surges: extra bpm in a window at unchanged pace (stress, an optical artefact that is real HR to the
 *   watch, the start of illness);
 * then HR approaches the target with first-order kinetics, time constant 40 s rising and 60 s falling
 * (on-kinetics of HR at moderate intensity are ~30–60 s; recovery is slower), never above HRmax. While
 * paused the target is 30 % of HR reserve: the first minute drops ~30 bpm, as heart-rate recovery does.
 *
 * Cadence (steps/min, both legs) rises slowly with speed, cad = cad3 + 8·(v − 3) (Cavanagh & Kram, MSSE
 * 1989: runners go faster mostly by longer strides), with an optional late fade (%/h after an onset) and
 * rising step-to-step variability (Hanley et al. 2020 [S54]; Meardon et al. 2011 [S60]).
 *
 * Walk breaks (run-walk) use the ACSM walking equation, VO2 = 0.1·v + 1.8·v·grade + 3.5, and a walking
 * cadence of 60 + 35·v steps/min (≈ 113 at 1.5 m/s; walkers step at ~100–125/min).
 *
 * Respiration (breaths/min) tracks effort, f = 10 + 45·r^1.5 (about 30/min easy, 55/min at VO2max; the
 * range 8–70 is from Prigent et al. 2021 [S122]), with a 20 s lag and an optional rise at constant pace
 * (rising effort, Nicolò et al. 2016/2017 [S76][S77]).
 *
 * Sensors and defects. HR reads the true HR plus AR(1) noise (σ ≈ 1.2 bpm); GPS speed reads the true
 * speed with 2 % + 0.05 m/s noise; altitude is barometric (σ 0.2 m). Defects are switched on per run:
 * HR dropouts (missing values, never 0), optical "cadence lock" (the wrist sensor locks onto the arm swing
 * and reads the step rate as HR for minutes), GPS speed spikes (2 s of +5–7 m/s that also add to distance,
 * as a jumping GPS track does), pauses (timer stop/start, no records while stopped; HR recovers meanwhile),
 * and channels the device lacks (treadmill: no speed, distance or altitude; HR-only).
 *
 * Every second draws the same number of random values whatever the configuration, so switching one
 * feature on does not reshuffle the noise of the rest of the run.
 * @module
 */
import { allocColumns, type Lap, type RunEvent, type SampleColumns } from '../../ingest/sample.js';
import { createRandom } from './random.js';

/** One piece of the pace plan. */
export interface PlanSegment {
  /** `pause` stops the timer: no records, HR recovers. */
  kind: 'run' | 'pause';
  durationS: number;
  /** Target speed at the start of the segment, m/s (run segments). */
  speedMps?: number;
  /** Target speed at the end, for a linear ramp (warm-ups, progressions). Default: `speedMps`. */
  endSpeedMps?: number;
  /** Road grade as a fraction: 0.05 = 5 % uphill. */
  grade?: number;
  /** Start a new lap with this segment (the first segment always starts one). */
  lap?: boolean;
  /** Walking (a run-walk break): ACSM walking equation and walking cadence; the timer keeps running. */
  walk?: boolean;
}

export interface Athlete {
  massKg: number;
  hrRest: number;
  hrMax: number;
  /** mL·kg⁻¹·min⁻¹. */
  vo2max: number;
  /** Cadence at 3 m/s, steps/min. */
  cadenceAt3Mps: number;
}

export const DEFAULT_ATHLETE: Readonly<Athlete> = { massKg: 68, hrRest: 50, hrMax: 188, vo2max: 56, cadenceAt3Mps: 168 };

export type SimChannel = 'hr' | 'cadence' | 'speed' | 'distance' | 'altitude' | 'temperature' | 'respiration';

export interface SimConfig {
  seed: number;
  /** ISO 8601 start of the run (UTC). */
  startTime: string;
  athlete?: Partial<Athlete>;
  tempC: number;
  humidity: number;
  plan: PlanSegment[];
  /** Channels the device records. Default: everything but respiration. */
  channels?: Partial<Record<SimChannel, boolean>>;
  subSport?: 'generic' | 'treadmill' | 'street' | 'trail';
  startAltitudeM?: number;
  /** Injected cardiac drift on top of the heat drift. */
  drift?: { onsetS: number; pctPerHour: number };
  /** Whether heat drives drift (default true). */
  heatDrift?: boolean;
  hydration?: { sweatRateLPerH?: number; drinkMlPerH?: number };
  surges?: { fromS: number; toS: number; bpm: number }[];
  cadenceFade?: { onsetS: number; pctPerHour: number; variabilityRisePerHour?: number };
  respiration?: { riseOnsetS: number; risePerHour: number };
  defects?: {
    /** [fromS, toS) windows of elapsed time with no HR. */
    hrDropouts?: [number, number][];
    /** [fromS, toS) windows where the optical sensor reads the step rate as HR. */
    cadenceLock?: [number, number][];
    /** Elapsed seconds at which a 2 s GPS speed spike starts. */
    speedSpikes?: number[];
  };
}

export interface SimulatedRun {
  /** Unix ms of the first record. */
  startMs: number;
  subSport: NonNullable<SimConfig['subSport']>;
  /** The recorded channels, one row per record; `t` is elapsed seconds (pauses included). */
  samples: SampleColumns;
  /** What the sensors could not see, row by row, for tests and documentation. */
  truth: { hr: Float64Array; effort: Float64Array; driftFraction: Float64Array; speed: Float64Array };
  /** Pause, resume and lap events (a lap event marks each lap boundary inside the run). */
  events: RunEvent[];
  laps: Lap[];
  pauses: { startT: number; endT: number }[];
  /** Wall time from start to the end of the last record, s. */
  elapsedS: number;
  /** Elapsed minus pauses, s. */
  timerS: number;
  channels: SimChannel[];
}

const DEFAULT_CHANNELS: Record<SimChannel, boolean> = {
  hr: true,
  cadence: true,
  speed: true,
  distance: true,
  altitude: true,
  temperature: true,
  respiration: false,
};

const SPEED_TAU_S = 4;
const HR_TAU_UP_S = 40;
const HR_TAU_DOWN_S = 60;
const RESPIRATION_TAU_S = 20;
const HEAT_DRIFT_ONSET_S = 900;
const HEAT_DRIFT_PCT_PER_HOUR_PER_C = 0.8;
const HEAT_DRIFT_FROM_C = 18;
const BPM_PER_PCT_MASS_LOSS = 3;
const SPIKE_DURATION_S = 2;

/** ACSM running equation, mL·kg⁻¹·min⁻¹, with the downhill correction described in the header. */
export function runningVo2(speedMps: number, grade: number): number {
  const v = speedMps * 60;
  const effectiveGrade = grade >= 0 ? grade : grade / 2;
  return Math.max(0.2 * v + 0.9 * v * effectiveGrade + 3.5, 0.1 * v + 3.5);
}

/** ACSM walking equation, mL·kg⁻¹·min⁻¹: VO2 = 0.1·v + 1.8·v·grade + 3.5 (v in m/min). */
export function walkingVo2(speedMps: number, grade: number): number {
  const v = speedMps * 60;
  return Math.max(0.1 * v + 1.8 * v * Math.max(grade, 0) + 3.5, 3.5);
}

/** Default whole-body sweat rate, L/h, from air temperature and speed (see header). */
export function defaultSweatRateLPerH(tempC: number, speedMps: number): number {
  return Math.max(0.2, 0.4 + 0.045 * (tempC - 10)) * (speedMps / 3);
}

function inWindow(windows: readonly (readonly [number, number])[] | undefined, t: number): boolean {
  if (!windows) return false;
  for (const [from, to] of windows) if (t >= from && t < to) return true;
  return false;
}

export function simulate(config: SimConfig): SimulatedRun {
  const athlete: Athlete = { ...DEFAULT_ATHLETE, ...config.athlete };
  const channels = { ...DEFAULT_CHANNELS, ...config.channels };
  const rng = createRandom(config.seed);
  const startMs = Date.parse(config.startTime);
  if (Number.isNaN(startMs)) throw new RangeError(`simulate: startTime '${config.startTime}' is not a date`);
  const hrReserve = athlete.hrMax - athlete.hrRest;

  if (config.plan[0]?.kind !== 'run' || config.plan.at(-1)?.kind !== 'run') {
    throw new RangeError('simulate: a plan starts and ends with a run segment');
  }
  let rows = 0;
  for (const seg of config.plan) {
    if (!(seg.durationS > 0) || !Number.isInteger(seg.durationS)) {
      throw new RangeError(`simulate: segment duration ${seg.durationS} is not a positive whole number of seconds`);
    }
    if (seg.kind === 'run') {
      if (!(seg.speedMps !== undefined && seg.speedMps > 0)) throw new RangeError('simulate: a run segment needs speedMps > 0');
      rows += seg.durationS;
    }
  }
  const samples = allocColumns(rows);
  const truth = {
    hr: new Float64Array(rows),
    effort: new Float64Array(rows),
    driftFraction: new Float64Array(rows),
    speed: new Float64Array(rows),
  };
  const events: RunEvent[] = [];
  const laps: Lap[] = [];
  const pauses: { startT: number; endT: number }[] = [];

  // State carried from second to second.
  let hr = athlete.hrRest + 0.2 * hrReserve;
  let speed = 0;
  let wobble = 0;
  let hrNoise = 0;
  let respiration = 12;
  let distance = 0;
  let altitude = config.startAltitudeM ?? 100;
  let heatDriftS = 0;
  let injectedDriftS = 0;
  let sweatL = 0;
  let drunkL = 0;
  let fadeS = 0;
  let riseS = 0;
  let spikeExtra = 0;
  let spikeLeft = 0;
  let row = 0;
  let t = 0;
  let lapStartT = 0;
  let lapStartDistance = 0;

  const heatPctPerHour =
    config.heatDrift === false ? 0 : Math.max(0, config.tempC - HEAT_DRIFT_FROM_C) * HEAT_DRIFT_PCT_PER_HOUR_PER_C;
  const spikes = new Set(config.defects?.speedSpikes ?? []);
  const decayUp = 1 - Math.exp(-1 / HR_TAU_UP_S);
  const decayDown = 1 - Math.exp(-1 / HR_TAU_DOWN_S);
  const decaySpeed = 1 - Math.exp(-1 / SPEED_TAU_S);
  const decayResp = 1 - Math.exp(-1 / RESPIRATION_TAU_S);

  config.plan.forEach((seg, segIndex) => {
    if (seg.kind === 'run' && seg.lap && segIndex > 0 && row > 0) {
      laps.push({ startT: lapStartT, endT: t, distanceM: distance - lapStartDistance });
      events.push({ t, type: 'lap' });
      lapStartT = t;
      lapStartDistance = distance;
    }
    if (seg.kind === 'pause') {
      events.push({ t, type: 'pause' });
      pauses.push({ startT: t, endT: t + seg.durationS });
    }
    for (let s = 0; s < seg.durationS; s++, t++) {
      // Fixed draws per second (see header).
      const zWobble = rng.normal();
      const zHr = rng.normal();
      const zCadence = rng.normal();
      const zResp = rng.normal();
      const zSpeed = rng.normal();
      const zSpeedAbs = rng.normal();
      const zAlt = rng.normal();
      const zTemp = rng.normal();
      const zLock = rng.normal();
      const uSpike = rng.uniform();

      const running = seg.kind === 'run';
      const grade = running ? (seg.grade ?? 0) : 0;
      let effort: number;
      if (running) {
        const from = seg.speedMps!;
        const to = seg.endSpeedMps ?? from;
        const target = from + ((to - from) * s) / seg.durationS;
        wobble = 0.98 * wobble + Math.sqrt(1 - 0.98 * 0.98) * 0.015 * zWobble;
        speed += (target * (1 + wobble) - speed) * decaySpeed;
        const vo2 = seg.walk ? walkingVo2(speed, grade) : runningVo2(speed, grade);
        effort = Math.min(1.05, Math.max(0, (vo2 - 3.5) / (athlete.vo2max - 3.5)));
        heatDriftS += t >= HEAT_DRIFT_ONSET_S ? 1 : 0;
        if (config.drift && t >= config.drift.onsetS) injectedDriftS++;
        if (config.cadenceFade && t >= config.cadenceFade.onsetS) fadeS++;
        if (config.respiration && t >= config.respiration.riseOnsetS) riseS++;
        const sweatRate = config.hydration?.sweatRateLPerH ?? defaultSweatRateLPerH(config.tempC, speed);
        sweatL += sweatRate / 3600;
        drunkL += (config.hydration?.drinkMlPerH ?? 0) / 3_600_000;
      } else {
        speed = 0;
        // Standing after running: HR first falls fast, then slowly; aiming at 30 % of reserve gives the usual
        // first-minute drop of ~30 bpm (HRR1) with the 60 s time constant.
        effort = 0.3;
      }

      const driftFraction = (heatPctPerHour * heatDriftS + (config.drift?.pctPerHour ?? 0) * injectedDriftS) / 360_000;
      const massLossPct = (Math.max(0, sweatL - drunkL) / athlete.massKg) * 100;
      let surge = 0;
      for (const x of config.surges ?? []) if (t >= x.fromS && t < x.toS) surge += x.bpm;
      const hrSteady = athlete.hrRest + effort * hrReserve;
      const hrTarget = Math.min(
        athlete.hrMax,
        hrSteady * (running ? 1 + driftFraction : 1) + BPM_PER_PCT_MASS_LOSS * massLossPct + (running ? surge : 0),
      );
      hr += (hrTarget - hr) * (hrTarget > hr ? decayUp : decayDown);
      respiration += (10 + 45 * Math.pow(effort, 1.5) + (config.respiration?.risePerHour ?? 0) * (riseS / 3600) - respiration) * decayResp;
      hrNoise = 0.9 * hrNoise + Math.sqrt(1 - 0.81) * 1.2 * zHr;

      if (!running) continue;

      if (spikes.has(t)) {
        spikeLeft = SPIKE_DURATION_S;
        spikeExtra = 5 + 2 * uSpike;
      }
      const extra = spikeLeft > 0 ? spikeExtra : 0;
      if (spikeLeft > 0) spikeLeft--;
      distance += speed + extra;
      altitude += speed * grade;

      const fadeHours = fadeS / 3600;
      const gaitCadence = seg.walk ? 60 + 35 * speed : athlete.cadenceAt3Mps + 8 * (speed - 3);
      const cadenceTrue = gaitCadence * (1 - ((config.cadenceFade?.pctPerHour ?? 0) / 100) * fadeHours);
      const cadenceSd = 1.2 + (config.cadenceFade?.variabilityRisePerHour ?? 0) * fadeHours;
      const cadence = cadenceTrue + cadenceSd * zCadence;

      let hrRead = Math.round(Math.min(athlete.hrMax + 3, hr + hrNoise));
      if (inWindow(config.defects?.cadenceLock, t)) hrRead = Math.round(cadence + zLock);
      if (inWindow(config.defects?.hrDropouts, t)) hrRead = NaN;

      samples.t[row] = t;
      samples.timestamp[row] = startMs + t * 1000;
      samples.hr[row] = channels.hr ? hrRead : NaN;
      samples.cadence[row] = channels.cadence ? cadence : NaN;
      samples.speed[row] = channels.speed ? Math.max(0, speed * (1 + 0.02 * zSpeed) + 0.05 * zSpeedAbs + extra) : NaN;
      samples.distance[row] = channels.distance ? distance : NaN;
      samples.altitude[row] = channels.altitude ? altitude + 0.2 * zAlt : NaN;
      samples.temperature[row] = channels.temperature ? config.tempC + 0.3 * zTemp : NaN;
      samples.respiration[row] = channels.respiration ? respiration + 1.2 * zResp : NaN;
      truth.hr[row] = hr;
      truth.effort[row] = effort;
      truth.driftFraction[row] = driftFraction;
      truth.speed[row] = speed;
      row++;
    }
    if (seg.kind === 'pause') events.push({ t, type: 'resume' });
  });

  laps.push({ startT: lapStartT, endT: t, distanceM: distance - lapStartDistance });
  const pausedS = pauses.reduce((sum, p) => sum + p.endT - p.startT, 0);
  return {
    startMs,
    subSport: config.subSport ?? 'generic',
    samples,
    truth,
    events,
    laps,
    pauses,
    elapsedS: t,
    timerS: t - pausedS,
    channels: (Object.keys(channels) as SimChannel[]).filter((c) => channels[c]),
  };
}

// Plan builders: keep scenario definitions short and readable.

export function run(minutes: number, speedMps: number, extra: Omit<PlanSegment, 'kind' | 'durationS' | 'speedMps'> = {}): PlanSegment {
  return { kind: 'run', durationS: Math.round(minutes * 60), speedMps, ...extra };
}

export function pause(seconds: number): PlanSegment {
  return { kind: 'pause', durationS: seconds };
}

export function repeat(times: number, segments: PlanSegment[]): PlanSegment[] {
  const out: PlanSegment[] = [];
  for (let i = 0; i < times; i++) out.push(...segments.map((s) => ({ ...s })));
  return out;
}
