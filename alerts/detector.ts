/**
 * The contract every detector implements, and the per-tick data they share. A detector is one file under
 * detectors/: a header comment (method, reference, messy-data rule, limits), a config section with units and
 * defaults, plain-data state (numbers and rings, so it serialises), `step`, run once per closed tick, and the
 * causes it prompts for, each with its kind, priority and words. Adding one = its file + a line in registry.ts
 * (and its cause's name in `ALERT_CAUSES`, the published list clients switch on).
 * @module
 */
import type { Channel } from '../ingest/sample.js';
import type { EngineConfig } from './config.js';
import type { ResolvedProfile } from './profile.js';
import type { Limits, PersonalThresholds } from './journal.js';
import type { Alert, AlertCause, AlertKind, SessionKind } from './types.js';

/** One closed tick of run time (`cfg.engine.tickS` seconds): the means of the samples that fell in it. */
export interface Tick {
  /** Tick index: floor(t / tickS). */
  k: number;
  /** End of the tick, s since the first record: the `t` of anything decided on this tick. */
  t: number;
  dt: number;
  /** Speed at or above `movingSpeedMps` and not paused. */
  moving: boolean;
  /** Speed at or above `runSpeedMps`: running rather than walking. */
  running: boolean;
  /** Inside a pause (pause event without resume): nothing here is judged as running. */
  paused: boolean;
  /** Moving time since the last pause ended (large when there was none), s. */
  sinceResumeS: number;
  /** Mean HR, bpm (NaN when missing). */
  hr: number;
  /** HR present and trusted: not stuck at the cadence (optical "cadence lock"). */
  hrOk: boolean;
  speed: number;
  /** Grade-adjusted speed, m/s (= speed without altitude). */
  gas: number;
  /** Grade over the last stretch of distance (NaN without altitude). */
  grade: number;
  /** Mean cadence, steps/min. */
  cadence: number;
  /** SD of the cadence samples inside the tick, steps/min (NaN with fewer than 2). */
  cadenceSd: number;
  /** Respiration rate, breaths/min. */
  resp: number;
  /** Air temperature used for the sweat model, °C. */
  airTempC: number;
  /** Moving time since the runner last climbed (HR lags a climb by a minute or two), s (large when never). */
  sinceClimbS: number;
}

/** What a detector tells the policy and the risk score about one cause, rewritten on every tick. */
export interface Signal {
  /** The cause's prompt condition holds now (after sustain and hysteresis). */
  active: boolean;
  /** The measure the policy compares for escalation (e.g. decoupling %, uncovered mL). */
  value: number;
  /** Extra numbers for the message (meaning per cause: see its `words`). */
  a: number;
  b: number;
}

/** Run-wide quantities several detectors read: written by one detector each, in registry order. */
export interface Shared {
  movingS: number;
  /** Multiplier ≥ 1 dividing the fatigue thresholds (late in long runs, after long time above threshold). */
  sens: number;
  /** Mean HR over the last minute as a share of HR reserve (NaN without HR). */
  hrrFrac: number;
  /** Mean speed over the last minute, m/s. */
  speed1m: number;
  /** Mean grade-adjusted speed over the last minute, m/s. */
  gas1m: number;
  aboveThresholdS: number;
  sweatMl: number;
  drankMl: number;
  /** Time of the last logged drink, s (NaN before any). */
  lastDrinkT: number;
  sodiumLossMg: number;
  sodiumIntakeMg: number;
  /** Latest streaming decoupling, % (NaN until it has a baseline). */
  decouplingPct: number;
  /** Latest speed-corrected cadence change, % (negative = fell; NaN until it has a baseline). */
  cadenceChangePct: number;
  /** Highest streaming decoupling seen, %. */
  maxDecouplingPct: number;
  /** Latest risk score, 0–100. */
  risk: number;
  /** Time of the last reported cramp, s (NaN before any). */
  crampT: number;
  /** `t` of the first sample the engine analysed (a file's running leg may start late), s. */
  startT: number;
  /** Drink advice given and not yet matched by a logged drink, mL: advice counts as offered. */
  advisedMl: number;
  /** All drink advice given, mL. */
  advisedTotalMl: number;
  /** Time of the first drink advice, s (NaN before any). */
  firstAdviceT: number;
  /** Sodium advice given and not yet matched by logged electrolytes, mg. */
  sodiumAdvisedMg: number;
  /** All sodium advice given, mg. */
  sodiumAdvisedTotalMg: number;
  /** Ticks whose sweat came from speed and grade, and from heart rate (for the report). */
  sweatFromSpeedTicks: number;
  sweatFromHrTicks: number;
  /** 1 while the run looks like a structured workout (repeated surges and recoveries: intervals, fartlek). */
  structured: number;
  /** Surges recognised so far (for the report). */
  surges: number;
}

/** Named contributions to the risk score, each 0–1, written by the detectors on every tick. */
export const RISK_FACTORS = [
  'cramp_history',
  'fast_start',
  'cardiac_drift',
  'cadence_fatigue',
  'duration',
  'time_above_threshold',
  'fluid_deficit',
  'sodium_deficit',
  'respiration',
  'effort_spike',
] as const;
export type RiskFactor = (typeof RISK_FACTORS)[number];
/** Index of each factor in `EngineCtx.factors` (a Float64Array: numeric indexing keeps the hot path unboxed). */
export const F: Readonly<Record<RiskFactor, number>> = Object.freeze(
  Object.fromEntries(RISK_FACTORS.map((f, i) => [f, i])) as Record<RiskFactor, number>,
);

export interface EngineCtx {
  cfg: EngineConfig;
  profile: ResolvedProfile;
  personal: PersonalThresholds;
  /** Thresholds after personalisation, resolved once (see journal.ts `resolveLimits`). */
  limits: Limits;
  session: SessionKind | null;
  /** Air temperature and humidity from the run's conditions (NaN when not given). */
  conditionsTempC: number;
  conditionsHumidity: number;
  shared: Shared;
  signals: Record<AlertCause, Signal>;
  /** 0–1 per factor, indexed by `F`. */
  factors: Float64Array;
}

/** The watch screen's limit on a prompt's line, characters. */
export const MAX_MESSAGE_CHARS = 40;

/** What a cause's words are built from, only when its prompt fires. */
export interface WordsInput {
  sig: Readonly<Signal>;
  /** A repeat that escalates (severity urgent). */
  escalated: boolean;
  profile: ResolvedProfile;
  shared: Readonly<Shared>;
  /** The muscle of a reported cramp ('' for every other cause). */
  muscle: string;
}

/** A prompting cause as its detector declares it: the policy, the engine and the words read only this. */
export interface Cause {
  readonly cause: AlertCause;
  readonly kind: AlertKind;
  /** Higher wins a tick on which several causes are active (one prompt per tick); unique across causes. */
  readonly priority: number;
  /**
   * Repeats only as an escalation (its measure rose and the runner did not comply: slow_down and breathe causes);
   * otherwise it repeats, after its kind's cooldown, while its condition holds.
   */
  readonly escalates: boolean;
  /**
   * The watch line (at most {@link MAX_MESSAGE_CHARS}) and one sentence of why, with numbers. Honest wording:
   * "breathe" is effort control, electrolytes a modest hedge, hydrate never more than the estimated loss.
   */
  words(w: WordsInput): { message: string; why: string };
  /** What firing records beyond the alert itself (advice counts as offered: the amount, the advice totals). */
  fired?(alert: Alert, sig: Readonly<Signal>, shared: Shared, t: number): void;
}

export function defineCause(c: Cause): Cause {
  return c;
}

export interface Detector<S> {
  /** Stable identifier: logs, reports, config. Never shown to the runner. */
  readonly id: string;
  /** The causes it writes signals for (`ctx.signals[cause]`) and prompts with. */
  readonly causes: readonly Cause[];
  /** Channels it cannot work without: all of them must be present. */
  readonly needs: readonly Channel[];
  /** Channels of which at least one must be present (e.g. speed or HR for the sweat model). */
  readonly needsOneOf?: readonly Channel[];
  /** Why it is off for this session regardless of channels (e.g. a session kind), or null. */
  off?(ctx: EngineCtx, channels: ReadonlySet<Channel>): string | null;
  /** What it runs on, for the report. */
  readonly inputs: string;
  init(ctx: EngineCtx): S;
  /** O(1), no allocation: read `tick`, update `state`, write signals/factors/shared. */
  step(state: S, tick: Readonly<Tick>, ctx: EngineCtx): void;
}

export function defineDetector<S>(d: Detector<S>): Detector<S> {
  return d;
}

export function clamp01(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0;
}
