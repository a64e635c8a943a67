/**
 * The risk engine's public contract: what goes in (samples, events, profile, conditions) and what comes out
 * (alerts, risk points, the report). Pure data types; the engine itself lives beside this file.
 * @module
 */
import type { Channel, IngestWarning, RunEvent } from '../ingest/sample.js';
import type { EngineConfigOverrides } from './config.js';

export type AlertKind = 'slow_down' | 'breathe' | 'hydrate' | 'electrolytes' | 'cramp_care';
export const ALERT_KINDS: readonly AlertKind[] = ['slow_down', 'breathe', 'hydrate', 'electrolytes', 'cramp_care'];

/**
 * Why a prompt fired: stable names clients switch on. Each is declared, with its kind, priority and words, by the
 * detector that raises it (alerts/registry.ts lists them; a name here without a declaration fails at load).
 */
export const ALERT_CAUSES = [
  'fast_start',
  'cardiac_drift',
  'cadence_fatigue',
  'overload',
  'fluid_gap',
  'sodium_loss',
  'respiration',
  'effort_spike',
  'cramp_reported',
  'cramp_suspected',
  'fading',
] as const;
export type AlertCause = (typeof ALERT_CAUSES)[number];

export type Severity = 'info' | 'warning' | 'urgent';

/** A prompt for the runner. */
export interface Alert {
  /** Stable for the run: the same alert sent again has the same id (derived from the run's samples only). */
  id: string;
  /** Seconds since the run's first record. */
  t: number;
  kind: AlertKind;
  cause: AlertCause;
  /** At most 40 characters: fits a watch screen. */
  message: string;
  /** One sentence for the phone, e.g. "HR up 7% at the same pace for 6 min". */
  why: string;
  severity: Severity;
  /** For hydrate prompts: the amount advised, mL (the same number the message shows). */
  amountMl?: number;
  /** For electrolytes prompts: the sodium advised, mg. */
  sodiumMg?: number;
}

/** The cramp-risk gauge, emitted every few seconds of run time. */
export interface RiskPoint {
  t: number;
  /** 0–100. */
  score: number;
  /** Top contributing factors, most important first (stable identifiers). */
  factors: string[];
  /**
   * Estimated fluid deficit at `t`, mL: modelled sweat loss so far minus logged drinks (the hydration detector's
   * running sums, the same numbers behind `fluid_gap` prompts and `metrics.fluidDeficitMl`). Set by the engine.
   */
  fluidDeficitMl?: number;
}

/** One point of the report's fluid-deficit series (same times as the risk points). */
export interface FluidPoint {
  t: number;
  /** Modelled sweat loss so far minus logged drinks, mL (negative when drinks exceed the estimate). */
  deficitMl: number;
}

/** A cramp the athlete reported before, with the context the engine recorded. */
export interface CrampContext {
  /** Elapsed run time at the cramp, s. */
  t: number;
  muscle?: string;
  severity?: number;
  /** Share of the athlete's usual long run elapsed (1 = 100 %). */
  shareOfUsualLongRun?: number;
  decouplingPct?: number;
  cadenceChangePct?: number;
  fluidDeficitMl?: number;
  sodiumDeficitMg?: number;
  temperatureC?: number;
  /** Effort as a share of HR reserve (0–1). */
  intensity?: number;
}

/** Everything optional: the engine states the defaults and estimates it used in the report. */
export interface Profile {
  massKg?: number;
  hrMax?: number;
  hrRest?: number;
  /** Lactate-threshold heart rate, bpm. */
  lthr?: number;
  sex?: 'male' | 'female';
  age?: number;
  /** The athlete's usual long-run duration, min. */
  usualLongRunMin?: number;
  /** Easy pace as speed, m/s. */
  easyPaceMps?: number;
  sweatRateMlPerH?: number;
  sweatSodiumMmolPerL?: number;
  /** Prior cramps: a count, or their recorded contexts (from the journal). */
  crampHistory?: number | CrampContext[];
  /** Threshold (about one-hour race) pace as speed, m/s. */
  thresholdPaceMps?: number;
  /** Critical speed from the athlete's mean-maximal pace curve, m/s. */
  criticalSpeedMps?: number;
  /**
   * Values that were learned from the athlete's own runs rather than typed: field → where it came from, shown in
   * the report as is (e.g. "learned from 14 runs since 12 Oct"). A learned value counts as known, like a typed one.
   */
  learned?: Partial<Record<LearnableField, string>>;
}

/** Profile fields an athlete model may learn (src/athlete/). */
export type LearnableField =
  | 'hrMax'
  | 'hrRest'
  | 'lthr'
  | 'usualLongRunMin'
  | 'easyPaceMps'
  | 'thresholdPaceMps'
  | 'criticalSpeedMps'
  | 'sweatRateMlPerH';

/** Air conditions of the run. */
export interface Conditions {
  tempC?: number;
  /** Relative humidity, %. */
  humidity?: number;
}

export type SessionKind = 'easy' | 'long' | 'race' | 'intervals';

export interface EngineOptions {
  profile?: Profile;
  /**
   * The activity's sport as the source names it (FIT sport, GPX type, TCX Sport, a live start's `sport`). Only
   * running is analysed: any other sport gets no prompt (see ingest/sport.ts). Absent = running.
   */
  sport?: string | null;
  conditions?: Conditions;
  sessionKind?: SessionKind;
  /**
   * Channels the source can deliver. When given, detectors lacking theirs are off for the whole session (and the
   * report says so); when absent (a live watch of unknown kind) every detector is on and copes with NaN.
   */
  channels?: readonly Channel[];
  /** Threshold overrides, merged once over the defaults (alerts/config.ts documents every one with its unit). */
  config?: EngineConfigOverrides;
}

/** Where an engine delivers what it produces, synchronously, inside `push` / `event`. */
export interface EngineSink {
  alert(alert: Alert): void;
  /** A risk point every `riskEveryS` (default 10 s) of run time: a fresh object, yours to keep. */
  risk(point: RiskPoint): void;
  /**
   * Opt-in for hot loops (bench, allocation test, callers that copy): when true the engine reuses one RiskPoint
   * and its `factors` arrays between `risk` calls instead of allocating one per point. @default false
   */
  readonly reuseRiskPoint?: boolean;
  /** A reported cramp's context, for the athlete's cramp journal (fed back later via `Profile.crampHistory`). */
  cramp?(context: CrampContext): void;
}

/**
 * Ordering rule shared by every caller: an event at time `t` takes effect after every sample with
 * `sample.t <= t` and before any later sample. Callers that replay stored runs interleave that way.
 */
export type { RunEvent };

export interface DetectorStatus {
  id: string;
  on: boolean;
  /** Why it was off, or which inputs it ran on. */
  note: string;
}

export interface ReportMetrics {
  decouplingPct: number | null;
  efFirstHalf: number | null;
  efSecondHalf: number | null;
  hrDriftBpmPerHour: number | null;
  cadenceChangePct: number | null;
  trimp: number | null;
  estSweatLossMl: number | null;
  estSodiumLossMg: number | null;
  [key: string]: number | null;
}

/** What `crampguard analyze --json` prints per file (plus `file`), and what the API returns as a run's report. */
export interface Report {
  ok: true;
  sport: string | null;
  startTime: string | null;
  durationS: number;
  movingTimeS: number;
  distanceM: number | null;
  channels: Channel[];
  warnings: IngestWarning[];
  metrics: ReportMetrics;
  alerts: Alert[];
  risk: RiskPoint[];
  /** Estimated fluid deficit over time, one point per risk point; its last value trails `metrics.fluidDeficitMl`. */
  fluid?: FluidPoint[];
  [key: string]: unknown;
}

/**
 * One run's streaming engine. Implemented in alerts/engine.ts, which exports:
 * - `createEngine(options: EngineOptions, sink: EngineSink): Engine`
 * - `restoreEngine(snapshot: EngineSnapshot, sink: EngineSink): Engine` (same options as at creation)
 * - `analyzeRun(run: NormalizedRun, options: EngineOptions): Report` (the whole-file path: same engine, plus
 *   the post-run metrics)
 */
export interface Engine {
  /** O(1), no allocation in steady state. Samples must come in increasing `t`. */
  push(sample: Readonly<import('../ingest/sample.js').Sample>): void;
  event(event: RunEvent): void;
  /** Plain JSON (at most 64 KB) from which `restoreEngine` continues exactly where this engine is. */
  snapshot(): EngineSnapshot;
  /** Closes the open tick: the end of a file or of a live run. Samples after it start a new tick. */
  finish(): void;
}

/** Serialised engine state: JSON-safe, versioned by the engine. */
export type EngineSnapshot = { version: number; [key: string]: unknown };
