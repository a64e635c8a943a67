/**
 * Every threshold of the engine in one tree, with units and defaults. Each detector owns its section's defaults
 * (in its own file); this module only assembles them and merges caller overrides once per engine.
 * @module
 */
import { CADENCE_DEFAULTS, type CadenceConfig } from './detectors/cadence.js';
import { CRAMP_SUSPECT_DEFAULTS, type CrampSuspectConfig } from './detectors/cramp-suspect.js';
import { DRIFT_DEFAULTS, type DriftConfig } from './detectors/drift.js';
import { EFFORT_SPIKE_DEFAULTS, type EffortSpikeConfig } from './detectors/effort-spike.js';
import { FADING_DEFAULTS, type FadingConfig } from './detectors/fading.js';
import { FAST_START_DEFAULTS, type FastStartConfig } from './detectors/fast-start.js';
import { HYDRATION_DEFAULTS, type HydrationConfig } from './detectors/hydration.js';
import { OVERLOAD_DEFAULTS, type OverloadConfig } from './detectors/overload.js';
import { RESPIRATION_DEFAULTS, type RespirationConfig } from './detectors/respiration.js';
import { SODIUM_DEFAULTS, type SodiumConfig } from './detectors/sodium.js';
import { WORKOUT_DEFAULTS, type WorkoutConfig } from './detectors/workout.js';
import { JOURNAL_DEFAULTS, type JournalConfig } from './journal.js';
import { SWEAT_DEFAULTS, type SweatModelConfig } from './physiology.js';
import { POLICY_DEFAULTS, type PolicyConfig } from './policy.js';
import { PROFILE_DEFAULTS, type ProfileDefaults } from './profile.js';
import { RISK_DEFAULTS, type RiskConfig } from './risk.js';

export interface CoreConfig {
  /** Length of a tick: samples are averaged per tick and detectors step once per tick, s. @default 5 */
  tickS: number;
  /** A gap between samples longer than this is a pause, s. @default 30 */
  pauseGapS: number;
  /** Speed from which the runner is moving, m/s. @default 0.5 */
  movingSpeedMps: number;
  /** Speed from which the runner is running rather than walking, m/s. @default 1.8 */
  runSpeedMps: number;
  /**
   * Optical cadence lock: HR that has stayed within this many bpm of the cadence (steps/min) on average over
   * `cadenceLockS`, bpm. A runner whose true HR merely sits near their cadence (HR 161 at 159 spm over a
   * marathon) differs from it by a few bpm either way; a locked sensor reads the cadence itself. @default 1.5
   */
  cadenceLockBpm: number;
  /** Stretch over which HR must have followed the cadence to count as locked, s. @default 60 */
  cadenceLockS: number;
  /** Stretch of run time over which grade (altitude change ÷ distance) is measured, s. @default 20 */
  gradeWindowS: number;
  /** Least distance covered in that stretch for a grade to be computed (else NaN: stopped or GPS noise), m. @default 20 */
  minGradeDistanceM: number;
  /** Saving per unit downhill grade in grade-adjusted speed. @default 2 */
  downhillFactor: number;
  /** Largest downhill saving in grade-adjusted speed (fraction). @default 0.3 */
  maxDownhillSaving: number;
  /** Air temperature assumed when neither conditions nor the watch give one, °C. @default 20 */
  defaultTempC: number;
  /** Humidity assumed when the conditions give none, %. @default 50 */
  defaultHumidityPct: number;
  /** How often a risk point is emitted, s of run time. @default 10 */
  riskEveryS: number;
  /** Longest stretch searched back for a grade on slow ground (a hike up a steep trail covers 20 m slowly), s. @default 60 */
  gradeMaxWindowS: number;
  /**
   * The detectors see the median HR of this stretch of ticks, so optical spikes shorter than half of it never
   * reach them, s. @default 35
   */
  hrMedianS: number;
  /** A tick this far above the last trusted HR is an artefact (a wrist spike to 203)… bpm. @default 20 */
  hrJumpBpm: number;
  /** …unless the new level lasts this long (a real surge), s. @default 30 */
  hrJumpAcceptS: number;
  /** Altitude gained over `climbWindowS` that counts as climbing (HR lags a climb by a minute or two; GPS altitude wanders a few metres), m. @default 12 */
  climbGainM: number;
  /** Stretch over which the climb gain is measured, s. @default 120 */
  climbWindowS: number;
}

export const CORE_DEFAULTS: CoreConfig = {
  tickS: 5,
  pauseGapS: 30,
  movingSpeedMps: 0.5,
  runSpeedMps: 1.8,
  cadenceLockBpm: 1.5,
  cadenceLockS: 60,
  gradeWindowS: 20,
  minGradeDistanceM: 20,
  downhillFactor: 2,
  maxDownhillSaving: 0.3,
  defaultTempC: 20,
  defaultHumidityPct: 50,
  riskEveryS: 10,
  gradeMaxWindowS: 60,
  hrMedianS: 35,
  hrJumpBpm: 20,
  hrJumpAcceptS: 30,
  climbGainM: 12,
  climbWindowS: 120,
};

export interface EngineConfig {
  engine: CoreConfig;
  profile: ProfileDefaults;
  journal: JournalConfig;
  sweat: SweatModelConfig;
  overload: OverloadConfig;
  fastStart: FastStartConfig;
  drift: DriftConfig;
  cadence: CadenceConfig;
  hydration: HydrationConfig;
  sodium: SodiumConfig;
  respiration: RespirationConfig;
  effortSpike: EffortSpikeConfig;
  fading: FadingConfig;
  workout: WorkoutConfig;
  crampSuspect: CrampSuspectConfig;
  risk: RiskConfig;
  policy: PolicyConfig;
}

export const DEFAULT_CONFIG: Readonly<EngineConfig> = {
  engine: CORE_DEFAULTS,
  profile: PROFILE_DEFAULTS,
  journal: JOURNAL_DEFAULTS,
  sweat: SWEAT_DEFAULTS,
  overload: OVERLOAD_DEFAULTS,
  fastStart: FAST_START_DEFAULTS,
  drift: DRIFT_DEFAULTS,
  cadence: CADENCE_DEFAULTS,
  hydration: HYDRATION_DEFAULTS,
  sodium: SODIUM_DEFAULTS,
  respiration: RESPIRATION_DEFAULTS,
  effortSpike: EFFORT_SPIKE_DEFAULTS,
  fading: FADING_DEFAULTS,
  workout: WORKOUT_DEFAULTS,
  crampSuspect: CRAMP_SUSPECT_DEFAULTS,
  risk: RISK_DEFAULTS,
  policy: POLICY_DEFAULTS,
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type EngineConfigOverrides = DeepPartial<EngineConfig>;

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/**
 * The defaults, resolved once and frozen: an engine only reads its config, so every engine without overrides (every
 * live run) shares this one instead of holding a 3.2 KB copy.
 */
const RESOLVED_DEFAULTS: EngineConfig = deepFreeze(structuredClone(DEFAULT_CONFIG) as EngineConfig);

/** Defaults merged with overrides (plain JSON data), once per engine. Unknown keys and non-numbers are ignored. */
export function resolveConfig(overrides: EngineConfigOverrides | undefined): EngineConfig {
  if (!overrides || Object.keys(overrides).length === 0) return RESOLVED_DEFAULTS;
  const out = structuredClone(DEFAULT_CONFIG) as EngineConfig;
  const target = out as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides)) {
    const dst = target[section];
    if (!dst || typeof values !== 'object' || values === null) continue;
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      if (key in dst && typeof dst[key] === 'number' && typeof value === 'number' && Number.isFinite(value)) dst[key] = value;
      else if (key in dst && typeof dst[key] === 'object' && typeof value === 'object' && value !== null) {
        const inner = dst[key] as Record<string, unknown>;
        for (const [k2, v2] of Object.entries(value as Record<string, unknown>)) {
          if (typeof inner[k2] === 'number' && typeof v2 === 'number' && Number.isFinite(v2)) inner[k2] = v2;
        }
      }
    }
  }
  return out;
}
