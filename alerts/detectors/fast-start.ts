/**
 * Too-fast start: effort in the first minutes above what this athlete can start at easily.
 * Method: over moving time [fromS, untilS], judged against the athlete's own numbers (typed or learned):
 * - pace, when an easy pace, threshold pace or critical speed is known (and the session is not a race): the last
 *   minute's grade-adjusted speed above `paceFactor` × easy pace, or above `thresholdShare` × threshold pace (or
 *   critical speed), sustained for `sustainS` — and, when HRmax or threshold HR is known too, HR above its ceiling;
 * - else HR, when HRmax or threshold HR is known: the last minute's HR above `hrrCeiling` of HR reserve (Karvonen)
 *   or `lthrShare` of threshold HR, whichever is lower;
 * - with nothing known, a far more conservative guess: HR above `unknownHrrCeiling` of an assumed reserve for
 *   `unknownSustainS`, watched until `unknownUntilS` (the message says it is a guess). An even hard effort from the gun (a tempo, a race) is
 *   otherwise indistinguishable from a fast start of an easy run.
 * Reference: fast starters hit the wall more and finish slower (Smyth, > 400k Chicago finishers); a faster first
 * half predicted cramps in a 56 km race (Schwellnus 2011); "faster than own capability" is the risk signal, not
 * HR against an age formula (science.md §5, §6, §2.5: age formulas miss by 7–11 bpm).
 * Messy data: HR is the engine's filtered HR (spikes and cadence lock removed); the first `fromS` are skipped because
 * optical HR often overshoots at the start. Race sessions use a higher ceiling; intervals and recognised structured
 * workouts turn it off.
 * Limits: no HR kinetics model, so a very fast start is seen only once HR has risen (about a minute).
 * @module
 */
import { clamp01, defineCause, defineDetector, F } from '../detector.js';

export interface FastStartConfig {
  /** Start of the watched window, s of moving time. @default 120 */
  fromS: number;
  /** End of the watched window, s of moving time. @default 900 */
  untilS: number;
  /** Easy ceiling as a share of HR reserve (HRmax known). @default 0.8 */
  hrrCeiling: number;
  /** Easy ceiling as a share of threshold HR (threshold HR known). @default 0.95 */
  lthrShare: number;
  /** Ceiling for race sessions, share of HR reserve. @default 0.9 */
  raceHrrCeiling: number;
  /** Ceiling when nothing about the athlete is known, share of an assumed HR reserve (186 bpm by default). @default 0.97 */
  unknownHrrCeiling: number;
  /** How long the guess must hold, s. @default 180 */
  unknownSustainS: number;
  /**
   * End of the watched window for the guess, s of moving time: HR that close to an assumed maximum for minutes is
   * unsustainable whenever it comes early in a run. @default 1800
   */
  unknownUntilS: number;
  /** Pace ceiling as a multiple of easy-pace speed. @default 1.15 */
  paceFactor: number;
  /** Pace ceiling as a share of threshold speed (or critical speed). @default 0.97 */
  thresholdShare: number;
  /** How long the effort must stay above the ceiling, s. @default 60 */
  sustainS: number;
}

export const FAST_START_DEFAULTS: FastStartConfig = {
  fromS: 120,
  untilS: 900,
  hrrCeiling: 0.8,
  lthrShare: 0.95,
  raceHrrCeiling: 0.9,
  unknownHrrCeiling: 0.97,
  unknownSustainS: 180,
  unknownUntilS: 1800,
  paceFactor: 1.15,
  thresholdShare: 0.97,
  sustainS: 60,
};

interface FastStartState {
  overS: number;
  /** Largest excess seen in the window (0–1): a fast start still weighs on the risk later. */
  excess: number;
}

const r = Math.round;
/** A speed as pace, e.g. "5:05/km". */
function pace(speedMps: number): string {
  const sPerKm = 1000 / speedMps;
  return `${Math.floor(sPerKm / 60)}:${String(r(sPerKm % 60)).padStart(2, '0')}/km`;
}

const fastStartCause = defineCause({
  cause: 'fast_start',
  kind: 'slow_down',
  priority: 70,
  escalates: true,
  words({ sig, escalated, profile: p }) {
    const message = escalated ? 'Slow down now: start easier' : sig.b > 15 ? 'Slow down: too hard this early' : 'Slow down: ease into the run';
    // a > 0: the HR case (a = ceiling, bpm; value = HR as % of reserve); a < 0: the pace case (−reference speed).
    if (sig.a > 0) {
      const hr = r(p.hrRest + (sig.value / 100) * (p.hrMax - p.hrRest));
      const ceiling = Math.floor(sig.a);
      const basis = p.hrMaxKnown ? `your easy ceiling of ${ceiling} bpm` : `${ceiling} bpm, high for most runners this early (your HRmax is not known: a guess)`;
      return { message, why: `HR ${Math.max(hr, ceiling + 1)} bpm is above ${basis} ${r(sig.b)} min into the run.` };
    }
    const ref = -sig.a;
    const which = ref === p.easyPaceMps ? 'easy pace' : ref === p.thresholdPaceMps ? 'threshold pace' : 'critical-speed pace';
    return { message, why: `Pace ${pace((sig.value * ref) / 100)} is ${r(sig.value - 100)}% faster than your ${which} of ${pace(ref)} ${r(sig.b)} min into the run.` };
  },
});

export const fastStart = defineDetector<FastStartState>({
  id: 'fast-start',
  causes: [fastStartCause],
  needs: [],
  inputs: 'pace vs easy/threshold pace when known; else HR vs known HRmax or threshold HR; else a conservative HR guess',
  off(ctx, channels) {
    if (ctx.session === 'intervals') return 'off for interval sessions';
    const p = ctx.profile;
    const paceRef = p.easyPaceMps > 0 || p.thresholdPaceMps > 0 || p.criticalSpeedMps > 0;
    if (!channels.has('hr') && !(channels.has('speed') && paceRef)) return 'needs HR, or speed and an easy or threshold pace';
    return null;
  },
  init: () => ({ overS: 0, excess: 0 }),
  step(s, tick, ctx) {
    const c = ctx.cfg.fastStart;
    const sh = ctx.shared;
    const p = ctx.profile;
    const race = ctx.session === 'race';
    const known = p.hrMaxKnown || p.lthrKnown;
    const paceKnown = p.easyPaceMps > 0 || p.thresholdPaceMps > 0 || p.criticalSpeedMps > 0;
    const until = known || paceKnown ? c.untilS : c.unknownUntilS;
    const inWindow = sh.movingS >= c.fromS && sh.movingS <= until && sh.structured === 0;
    // Pace reference: easy pace first (a start above it is too fast), else threshold / critical speed.
    const easy = p.easyPaceMps;
    const thr = p.thresholdPaceMps > 0 ? p.thresholdPaceMps : p.criticalSpeedMps;
    const paceLimit = race ? NaN : easy > 0 ? easy * c.paceFactor : thr > 0 ? thr * c.thresholdShare : NaN;
    const paceRef = easy > 0 ? easy : thr;
    const byPace = paceLimit === paceLimit && sh.gas1m === sh.gas1m;
    // HR ceiling, as a share of HR reserve.
    const reserve = p.hrMax - p.hrRest;
    let ceiling = race ? c.raceHrrCeiling : c.hrrCeiling;
    if (!race && p.lthrKnown) {
      const byLthr = (c.lthrShare * p.lthr - p.hrRest) / reserve;
      if (byLthr < ceiling || !p.hrMaxKnown) ceiling = byLthr;
    }
    if (!known) ceiling = race ? Math.max(c.unknownHrrCeiling, c.raceHrrCeiling) + 0.04 : c.unknownHrrCeiling;
    const hrOver = sh.hrrFrac > ceiling;
    // With both a pace reference and known HR numbers, both must say "too fast": high HR at an easy flat-equivalent
    // pace is the terrain or the weather, and a fast pace at an easy HR is a good day.
    const hrSays = known && sh.hrrFrac === sh.hrrFrac ? hrOver : true;
    const over = byPace ? sh.gas1m > paceLimit && hrSays : hrOver;
    if (inWindow && tick.moving && over) s.overS += tick.dt;
    else if (tick.moving || !inWindow) s.overS = 0;
    const level = clamp01((sh.hrrFrac - (ceiling - 0.1)) / 0.2);
    if (inWindow && level > s.excess) s.excess = level;
    ctx.factors[F.fast_start] = inWindow ? level : 0.5 * s.excess;
    const sig = ctx.signals.fast_start;
    const sustain = byPace || known ? c.sustainS : c.unknownSustainS;
    sig.active = inWindow && s.overS >= sustain;
    sig.value = byPace ? (100 * sh.gas1m) / paceRef : sh.hrrFrac * 100;
    // a: ceiling in bpm (HR case) or the reference speed, negative (pace case); b: minutes in.
    sig.a = byPace ? -paceRef : p.hrRest + ceiling * reserve;
    sig.b = sh.movingS / 60;
  },
});
