/**
 * Suspected cramp: a sudden stop after risk had built up.
 * Method: after at least `minRunS` of continuous running, speed falls below `stopSpeedMps` for `stopS` without a
 * pause event, while the risk score just before the stop was at least `minRisk` and the run is past `minMovingS`
 * → cramp_care, cause `cramp_suspected` (the care sequence, phrased as "if it is a cramp"). Reported cramps
 * (events) are handled by the engine directly with cause `cramp_reported`.
 * Reference: cramps force runners to stop, mostly late and after fatigue (science.md §1.2, §1.4); gentle static
 * stretching is the treatment with evidence (§1.5 [S2]).
 * Messy data: auto-paused gaps are pauses, not stops; a stop is judged once.
 * Limits: a traffic light after a hard stretch looks the same; that is why it needs high prior risk.
 * @module
 */
import { defineCause, defineDetector } from '../detector.js';

export interface CrampSuspectConfig {
  /** Continuous running needed before a stop counts as sudden, s. @default 120 */
  minRunS: number;
  /** Speed below which the runner has stopped, m/s. @default 0.5 */
  stopSpeedMps: number;
  /** How long the stop must last, s. @default 10 */
  stopS: number;
  /** Risk score before the stop needed, 0–100. @default 55 */
  minRisk: number;
  /** Moving time before any stop can be suspected, s. @default 1800 */
  minMovingS: number;
  /** How long the suspicion stays available to the policy, s. @default 60 */
  holdS: number;
}

export const CRAMP_SUSPECT_DEFAULTS: CrampSuspectConfig = {
  minRunS: 120,
  stopSpeedMps: 0.5,
  stopS: 10,
  minRisk: 55,
  minMovingS: 1800,
  holdS: 60,
};

interface CrampSuspectState {
  runS: number;
  stopS: number;
  riskBefore: number;
  runBeforeS: number;
  heldS: number;
}

const crampSuspectedCause = defineCause({
  cause: 'cramp_suspected',
  kind: 'cramp_care',
  priority: 100,
  escalates: false,
  words: ({ sig }) => ({
    message: 'Cramp? Walk, breathe, stretch gently',
    why: `You stopped suddenly after risk had built to ${Math.round(sig.value)}: if it is a cramp, walk, sip and stretch it gently.`,
  }),
});

export const crampSuspect = defineDetector<CrampSuspectState>({
  id: 'cramp-suspect',
  causes: [crampSuspectedCause],
  needs: ['speed'],
  inputs: 'speed and the risk score',
  init: () => ({ runS: 0, stopS: 0, riskBefore: 0, runBeforeS: 0, heldS: -1 }),
  step(s, tick, ctx) {
    const c = ctx.cfg.crampSuspect;
    const sig = ctx.signals.cramp_suspected;
    if (tick.running && !tick.paused) {
      s.runS += tick.dt;
      s.stopS = 0;
      s.riskBefore = ctx.shared.risk;
      s.heldS = -1;
    } else if (!tick.paused && tick.speed < c.stopSpeedMps && tick.sinceResumeS > 0) {
      if (s.stopS === 0) s.runBeforeS = s.runS;
      s.stopS += tick.dt;
      s.runS = 0;
      if (
        s.heldS < 0 &&
        s.stopS >= c.stopS &&
        s.runBeforeS >= c.minRunS &&
        s.riskBefore >= c.minRisk &&
        ctx.shared.movingS >= c.minMovingS
      ) {
        s.heldS = 0;
        s.runBeforeS = 0;
      }
    } else {
      s.runS = 0;
    }
    if (s.heldS >= 0 && s.heldS < c.holdS) {
      sig.active = true;
      s.heldS += tick.dt;
    } else {
      sig.active = false;
    }
    sig.value = s.riskBefore;
    sig.a = s.stopS;
    sig.b = NaN;
  },
});
