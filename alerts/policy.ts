/**
 * The prompt policy: which active signal becomes a prompt, and when. Decided once per tick on run time only.
 * Rules (all thresholds in `PolicyConfig`):
 * - priorities cramp_care > breathe > slow_down > hydrate > electrolytes (`PRIORITY` below), one prompt per tick;
 * - at most one prompt per `minGapS` (a reported cramp is answered at once: the runner asked);
 * - per-kind cooldowns (hydrate at least 10 min apart);
 * - hysteresis lives in the detectors (separate on/off thresholds, sustain times);
 * - repeats: a slow_down/breathe cause repeats only as an escalation (severity urgent) — after its cooldown, when
 *   its measure rose by `escalateRisePct` since the last prompt AND the runner did not comply (for slow_down:
 *   speed not down by `complySpeedDropPct`); otherwise it stays quiet. hydrate/electrolytes repeat while the
 *   uncovered loss persists (drinking or taking electrolytes clears them: that is the quiet-on-compliance);
 * - at most `maxEscalations` escalations per episode: past that, repeating is nagging;
 * - a cause inactive for `rearmAfterS` is forgotten, so a new episode starts fresh;
 * - after a reported cramp, other prompts wait `afterCrampQuietS` (the care sequence is under way).
 * @module
 */
import type { Shared, Signal } from './detector.js';
import { KIND_OF } from './messages.js';
import type { AlertCause, AlertKind, Severity } from './types.js';

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
  /** Inactive time after which a cause starts fresh, s. @default 1200 */
  rearmAfterS: number;
  /** Quiet time for other prompts after a reported cramp, s. @default 300 */
  afterCrampQuietS: number;
}

export const POLICY_DEFAULTS: PolicyConfig = {
  minGapS: 60,
  cooldownS: { cramp_care: 300, breathe: 600, slow_down: 900, hydrate: 900, electrolytes: 1800 },
  escalateRisePct: 20,
  maxEscalations: 2,
  complySpeedDropPct: 5,
  rearmAfterS: 1200,
  afterCrampQuietS: 300,
};

/** Order of evaluation: the first eligible active cause wins the tick. */
export const PRIORITY: readonly AlertCause[] = [
  'cramp_reported',
  'cramp_suspected',
  'respiration',
  'effort_spike',
  'fast_start',
  'cardiac_drift',
  'cadence_fatigue',
  'overload',
  'fluid_gap',
  'sodium_loss',
];

/** Causes that repeat only by escalation. */
const ESCALATING: ReadonlySet<AlertCause> = new Set<AlertCause>([
  'fast_start',
  'cardiac_drift',
  'cadence_fatigue',
  'overload',
  'respiration',
  'effort_spike',
]);

const FIRST_SEVERITY: Readonly<Record<AlertKind, Severity>> = {
  cramp_care: 'urgent',
  breathe: 'warning',
  slow_down: 'warning',
  hydrate: 'info',
  electrolytes: 'info',
};

interface CauseState {
  count: number;
  value: number;
  speedAtFire: number;
  inactiveS: number;
}

export interface PolicyState {
  lastAnyT: number;
  kindLastT: Record<AlertKind, number>;
  causes: Record<AlertCause, CauseState>;
}

const LONG_AGO = -1e9;

export function createPolicyState(): PolicyState {
  const causes = {} as Record<AlertCause, CauseState>;
  for (const c of PRIORITY) causes[c] = { count: 0, value: 0, speedAtFire: 0, inactiveS: 0 };
  return {
    lastAnyT: LONG_AGO,
    kindLastT: { cramp_care: LONG_AGO, breathe: LONG_AGO, slow_down: LONG_AGO, hydrate: LONG_AGO, electrolytes: LONG_AGO },
    causes,
  };
}

/** The decision of one tick, written into a reused object. */
export interface Decision {
  cause: AlertCause | null;
  severity: Severity;
  escalated: boolean;
}

export function decide(
  st: PolicyState,
  signals: Record<AlertCause, Signal>,
  shared: Shared,
  t: number,
  dt: number,
  c: PolicyConfig,
  out: Decision,
): void {
  out.cause = null;
  for (let i = 0; i < PRIORITY.length; i++) {
    const cause = PRIORITY[i]!;
    const cs = st.causes[cause];
    if (signals[cause].active) cs.inactiveS = 0;
    else if ((cs.inactiveS += dt) >= c.rearmAfterS) cs.count = 0;
  }
  if (t - st.lastAnyT < c.minGapS) return;
  for (let i = 0; i < PRIORITY.length; i++) {
    const cause = PRIORITY[i]!;
    const sig = signals[cause];
    if (!sig.active) continue;
    const kind = KIND_OF[cause];
    if (kind !== 'cramp_care' && t - shared.crampT < c.afterCrampQuietS) continue;
    if (t - st.kindLastT[kind] < c.cooldownS[kind]) continue;
    const cs = st.causes[cause];
    let escalated = false;
    if (cs.count > 0 && ESCALATING.has(cause)) {
      if (cs.count > c.maxEscalations) continue;
      const complied = kind === 'slow_down' && shared.speed1m <= cs.speedAtFire * (1 - c.complySpeedDropPct / 100);
      if (complied || !(sig.value >= cs.value * (1 + c.escalateRisePct / 100))) continue;
      escalated = true;
    }
    out.cause = cause;
    out.escalated = escalated;
    out.severity = escalated ? 'urgent' : FIRST_SEVERITY[kind];
    return;
  }
}

/** Records that `cause` fired at `t` (called by the engine once the alert is sent). */
export function recordFired(st: PolicyState, cause: AlertCause, sig: Readonly<Signal>, shared: Shared, t: number): void {
  const kind = KIND_OF[cause];
  st.lastAnyT = t;
  st.kindLastT[kind] = t;
  const cs = st.causes[cause];
  cs.count++;
  cs.value = sig.value;
  cs.speedAtFire = shared.speed1m;
}
