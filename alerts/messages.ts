/**
 * The words: for each cause, a watch line (at most 40 characters) and one sentence of why with numbers, built
 * only when a prompt fires. Honest wording: "breathe" is effort control, electrolytes are a modest hedge, hydrate
 * never asks for more than the estimated loss (science.md §1.5, §3.1, §4.2).
 * @module
 */
import type { Signal } from './detector.js';
import { formatDuration } from './journal.js';
import type { ResolvedProfile } from './profile.js';
import type { AlertCause, AlertKind } from './types.js';

export const KIND_OF: Readonly<Record<AlertCause, AlertKind>> = {
  fast_start: 'slow_down',
  cardiac_drift: 'slow_down',
  cadence_fatigue: 'slow_down',
  overload: 'slow_down',
  fluid_gap: 'hydrate',
  sodium_loss: 'electrolytes',
  respiration: 'breathe',
  effort_spike: 'breathe',
  cramp_reported: 'cramp_care',
  cramp_suspected: 'cramp_care',
  fading: 'slow_down',
};

/** The watch screen's limit. */
export const MAX_MESSAGE_CHARS = 40;

const r = Math.round;
function pace(speedMps: number): string {
  const sPerKm = 1000 / speedMps;
  return `${Math.floor(sPerKm / 60)}:${String(r(sPerKm % 60)).padStart(2, '0')}/km`;
}

export function composeMessage(
  cause: AlertCause,
  sig: Readonly<Signal>,
  escalated: boolean,
  p: ResolvedProfile,
  detail: string,
): { message: string; why: string } {
  switch (cause) {
    case 'fast_start': {
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
    }
    case 'fading':
      return {
        message: escalated ? 'Ease off: still fading, fuel now' : 'Fading: ease off, take carbs & water',
        why: `Pace down ${r(sig.value)}% and HR down ${r(sig.a)} bpm together since ${r(sig.b)} min ago: energy running low (the wall); an easier pace and carbohydrate help.`,
      };
    case 'cardiac_drift':
      return {
        message: escalated ? 'Slow down more: HR still drifting' : 'Slow down: HR drifting up',
        why: `HR ${r(sig.a)} bpm (${r(sig.value)}%) above what this pace took early in the run, for ${Math.max(1, r(sig.b))} min.`,
      };
    case 'cadence_fatigue':
      return {
        message: escalated ? 'Slow down more: legs tiring' : 'Slow down: your legs are tiring',
        why: `Cadence down ${sig.value.toFixed(1)}% at a similar pace (${sig.a >= 0 ? '+' : ''}${sig.a.toFixed(1)}%), a sign of tiring legs.`,
      };
    case 'overload':
      return {
        message: escalated ? 'Slow down now: well past your usual' : 'Slow down: longer than usual today',
        why:
          sig.value >= 100
            ? `${r(sig.value)}% of your usual ${formatDuration(sig.b * 60)} long run${sig.a >= 1 ? ` with ${r(sig.a)} min above your threshold HR` : ''}: cramps cluster late in long efforts.`
            : `${r(sig.a)} min above your threshold HR (${r(p.lthr)} bpm) so far and still above it: cramps follow overreaching.`,
      };
    case 'fluid_gap':
      return {
        message: `Drink ~${r(sig.a)} ml`,
        why: `About ${r(sig.value / 10) * 10} ml of sweat not yet replaced (estimated${detail ? `; ${r(sig.b)} min since ${detail}` : ''}); no more than that in all.`,
      };
    case 'sodium_loss':
      return {
        message: `Electrolytes: ~${r(sig.a)} mg sodium`,
        why: `About ${r(sig.value / 10) * 10} mg of sodium lost in sweat and not yet replaced (estimated); it may help salty sweaters, it is no cramp cure.`,
      };
    case 'respiration':
      return {
        message: escalated ? 'Ease off: breathing still rising' : 'Ease effort: slow your breathing',
        why: `Breathing up ${r(sig.value)}% (${r(sig.b)} to ${r(sig.a)}/min) while pace and HR held: effort is creeping up.`,
      };
    case 'effort_spike':
      return {
        message: escalated ? 'Ease off now: HR surging' : 'Ease effort: relax and breathe',
        why: `HR up ${r(sig.a)} bpm within ${r(sig.b)} min at the same pace.`,
      };
    case 'cramp_reported':
      return {
        message: 'Cramp: walk, breathe, stretch gently',
        why: `You reported a ${detail} cramp: ease to a walk, breathe, sip, and hold a gentle stretch until it eases.`,
      };
    case 'cramp_suspected':
      return {
        message: 'Cramp? Walk, breathe, stretch gently',
        why: `You stopped suddenly after risk had built to ${r(sig.value)}: if it is a cramp, walk, sip and stretch it gently.`,
      };
  }
}
