/**
 * The prompt policy: which active signal becomes a prompt, and when. Decided once per tick on run time only.
 * Rules (all thresholds in `PolicyConfig`):
 * - the active cause of highest priority wins (each cause declares it: cramp care > breathe > slow_down > hydrate >
 *   electrolytes; registry.ts `CAUSES`), one prompt per tick;
 * - at most one prompt per `minGapS` (a reported cramp is answered at once: the runner asked);
 * - per-kind cooldowns (hydrate at least 10 min apart);
 * - hysteresis lives in the detectors (separate on/off thresholds, sustain times);
 * - repeats: a slow_down/breathe cause repeats only as an escalation (severity urgent) — after its cooldown, when
 *   its measure rose by `escalateRisePct` since the last prompt AND the runner did not comply (for slow_down:
 *   speed not down by `complySpeedDropPct`); otherwise it stays quiet. hydrate/electrolytes repeat while the
 *   uncovered loss persists (drinking or taking electrolytes clears them: that is the quiet-on-compliance);
 * - at most `maxEscalations` escalations per episode: past that, repeating is nagging;
 * - a slow_down from a second cause needs the risk score up `slowDownRiseRisk` since the last slow_down (one
 *   fatigue episode, seen by several detectors, is one prompt), until every slow_down cause has re-armed;
 * - a cause inactive for `rearmAfterS` is forgotten, so a new episode starts fresh;
 * - after a reported cramp, other prompts wait `afterCrampQuietS` (the care sequence is under way).
 * @module
 */
import type { Cause, Shared, Signal, Tick } from './detector.js';
import { ALERT_KINDS, type AlertCause, type AlertKind, type Severity } from './types.js';

export interface PolicyConfig {
  /** Least time between any two prompts, s. @default 60 */
  minGapS: number;
  /** Least time between two prompts of a kind, s. */
  cooldownS: Record<AlertKind, number>;
  /** Rise of a cause's measure since its last prompt that justifies an escalation, %. @default 20 */
  escalateRisePct: number;
  /** Speed drop after a slow_down that counts as complying, %. @default 5 */
  complySpeedDropPct: number;
  /** Escalations per episode of a cause; after that it stays quiet until the cause re-arms. @default 2 */
  maxEscalations: number;
  /**
   * A repeat slow_down from another cause (the same fatigue seen by another detector) needs the risk score to
   * have risen this much since the last slow_down, points of 0–100. @default 10
   */
  slowDownRiseRisk: number;
  /** Inactive time after which a cause starts fresh, s. @default 1200 */
  rearmAfterS: number;
  /** Quiet time for other prompts after a reported cramp, s. @default 300 */
  afterCrampQuietS: number;
}

export const POLICY_DEFAULTS: PolicyConfig = {
  minGapS: 60,
  cooldownS: { cramp_care: 300, breathe: 600, slow_down: 900, hydrate: 900, electrolytes: 2700 },
  escalateRisePct: 20,
  maxEscalations: 2,
  slowDownRiseRisk: 10,
  complySpeedDropPct: 5,
  rearmAfterS: 1200,
  afterCrampQuietS: 300,
};

const FIRST_SEVERITY: Readonly<Record<AlertKind, Severity>> = {
  cramp_care: 'urgent',
  breathe: 'warning',
  slow_down: 'warning',
  hydrate: 'info',
  electrolytes: 'info',
};

/** Per-cause arrays are indexed by position in the causes' priority order; per-kind ones by position in `ALERT_KINDS`. */
export interface PolicyState {
  lastAnyT: number;
  kindLastT: Float64Array;
  /** Risk score at each kind's last prompt. */
  kindRisk: Float64Array;
  /** Time every cause of a kind has been inactive, s. */
  kindIdleS: Float64Array;
  count: Float64Array;
  value: Float64Array;
  speedAtFire: Float64Array;
  inactiveS: Float64Array;
}

const LONG_AGO = -1e9;

/** `n`: how many causes there are (registry.ts `CAUSES`). */
export function createPolicyState(n: number): PolicyState {
  return {
    lastAnyT: LONG_AGO,
    kindLastT: new Float64Array(ALERT_KINDS.length).fill(LONG_AGO),
    kindRisk: new Float64Array(ALERT_KINDS.length),
    kindIdleS: new Float64Array(ALERT_KINDS.length),
    count: new Float64Array(n),
    value: new Float64Array(n),
    speedAtFire: new Float64Array(n),
    inactiveS: new Float64Array(n),
  };
}

/** Lookup tables built once per engine so a tick's decision does no keyed property access. */
export interface PolicyTables {
  /** The signal objects in priority order (the same objects the detectors write). */
  signals: Signal[];
  kindIndex: Int32Array;
  /** Cooldown per cause, s. */
  cooldown: Float64Array;
  escalating: Uint8Array;
  isCrampCare: Uint8Array;
  isSlowDown: Uint8Array;
  firstSeverity: Severity[];
}

type CauseTables = Omit<PolicyTables, 'signals'>;

/** Per list of causes and policy config (read-only): shared by every engine of the same config (~1.2 KB each). */
const causeTablesMemo = new WeakMap<readonly Cause[], WeakMap<PolicyConfig, CauseTables>>();

function causeTables(causes: readonly Cause[], c: PolicyConfig): CauseTables {
  let byConfig = causeTablesMemo.get(causes);
  if (!byConfig) causeTablesMemo.set(causes, (byConfig = new WeakMap()));
  let tables = byConfig.get(c);
  if (!tables) {
    tables = {
      kindIndex: Int32Array.from(causes, (x) => ALERT_KINDS.indexOf(x.kind)),
      cooldown: Float64Array.from(causes, (x) => c.cooldownS[x.kind]),
      escalating: Uint8Array.from(causes, (x) => (x.escalates ? 1 : 0)),
      isCrampCare: Uint8Array.from(causes, (x) => (x.kind === 'cramp_care' ? 1 : 0)),
      isSlowDown: Uint8Array.from(causes, (x) => (x.kind === 'slow_down' ? 1 : 0)),
      firstSeverity: causes.map((x) => FIRST_SEVERITY[x.kind]),
    };
    byConfig.set(c, tables);
  }
  return tables;
}

/** `causes`: highest priority first (registry.ts `CAUSES`). Only `signals` is the engine's own. */
export function policyTables(causes: readonly Cause[], signals: Record<AlertCause, Signal>, c: PolicyConfig): PolicyTables {
  return { signals: causes.map((x) => signals[x.cause]), ...causeTables(causes, c) };
}

/** The decision of one tick, written into a reused object: the winner's index in priority order, or -1. */
export interface Decision {
  index: number;
  severity: Severity;
  escalated: boolean;
}

export function decide(
  st: PolicyState,
  tb: PolicyTables,
  shared: Shared,
  tick: Readonly<Tick>,
  c: PolicyConfig,
  out: Decision,
): void {
  // The tick, not t and dt, is passed: doubles passed to a call V8 does not inline are boxed (see ring.ts).
  const t = tick.t;
  const dt = tick.dt;
  out.index = -1;
  const n = tb.signals.length;
  const nk = st.kindIdleS.length;
  for (let k = 0; k < nk; k++) st.kindIdleS[k] = st.kindIdleS[k]! + dt;
  for (let i = 0; i < n; i++) if (tb.signals[i]!.active) st.kindIdleS[tb.kindIndex[i]!] = 0;
  for (let i = 0; i < n; i++) {
    if (tb.signals[i]!.active) st.inactiveS[i] = 0;
    else {
      const idle = st.inactiveS[i]! + dt;
      st.inactiveS[i] = idle;
      if (idle >= c.rearmAfterS) st.count[i] = 0;
    }
  }
  if (t - st.lastAnyT < c.minGapS) return;
  for (let i = 0; i < n; i++) {
    const sig = tb.signals[i]!;
    if (!sig.active) continue;
    if (tb.isCrampCare[i] === 0 && t - shared.crampT < c.afterCrampQuietS) continue;
    if (t - st.kindLastT[tb.kindIndex[i]!]! < tb.cooldown[i]!) continue;
    const kind = tb.kindIndex[i]!;
    if (
      tb.isSlowDown[i] === 1 &&
      st.count[i] === 0 &&
      st.kindLastT[kind]! > LONG_AGO &&
      st.kindIdleS[kind]! < c.rearmAfterS &&
      shared.risk < st.kindRisk[kind]! + c.slowDownRiseRisk
    ) {
      continue;
    }
    let escalated = false;
    const count = st.count[i]!;
    if (count > 0 && tb.escalating[i] === 1) {
      if (count > c.maxEscalations) continue;
      const complied = tb.isSlowDown[i] === 1 && shared.speed1m <= st.speedAtFire[i]! * (1 - c.complySpeedDropPct / 100);
      if (complied || !(sig.value >= st.value[i]! * (1 + c.escalateRisePct / 100))) continue;
      escalated = true;
    }
    out.index = i;
    out.escalated = escalated;
    out.severity = escalated ? 'urgent' : tb.firstSeverity[i]!;
    return;
  }
}

/** Records that the cause at `index` (in priority order) fired at `t`. */
export function recordFired(st: PolicyState, tb: PolicyTables, index: number, shared: Shared, t: number): void {
  st.lastAnyT = t;
  st.kindLastT[tb.kindIndex[index]!] = t;
  st.kindRisk[tb.kindIndex[index]!] = shared.risk;
  st.count[index] = st.count[index]! + 1;
  st.value[index] = tb.signals[index]!.value;
  st.speedAtFire[index] = shared.speed1m;
}
