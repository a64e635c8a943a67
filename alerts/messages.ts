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
      if (sig.a > 0) {
        const hr = r(p.hrRest + (sig.value / 100) * (p.hrMax - p.hrRest));
        return {
          message: escalated ? 'Slow down now: start easier' : 'Slow down: ease into the run',
          why: `HR ${hr} bpm is above your easy ceiling of ${r(sig.a)} bpm ${r(sig.b)} min into the run.`,
        };
      }
      return {
        message: escalated ? 'Slow down now: start easier' : 'Slow down: ease into the run',
        why: `Pace is ${r(sig.value - 100)}% faster than your easy ${pace(-sig.a)} ${r(sig.b)} min into the run.`,
      };
    }
    case 'cardiac_drift':
      return {
        message: escalated ? 'Slow down more: HR still drifting' : 'Slow down: HR drifting up',
        why: `HR up ${r(sig.value)}% (${r(sig.a)} bpm) at the same pace for ${Math.max(1, r(sig.b))} min.`,
      };
    case 'cadence_fatigue':
      return sig.b === sig.b
        ? {
            message: escalated ? 'Slow down more: stride unsteady' : 'Slow down: stride getting unsteady',
            why: `Cadence varies ${sig.b.toFixed(1)}× more than early in the run, a sign of tiring legs.`,
          }
        : {
            message: escalated ? 'Slow down more: legs tiring' : 'Slow down: your legs are tiring',
            why: `Cadence down ${sig.value.toFixed(1)}% at a similar pace (${sig.a >= 0 ? '+' : ''}${sig.a.toFixed(1)}%), a sign of tiring legs.`,
          };
    case 'overload':
      return {
        message: escalated ? 'Slow down now: well past your usual' : 'Slow down: longer than usual today',
        why:
          sig.value >= 100
            ? `${r(sig.value)}% of your usual ${formatDuration(sig.b * 60)} long run${sig.a >= 1 ? ` with ${r(sig.a)} min above threshold` : ''}: cramps cluster late in long efforts.`
            : `${r(sig.a)} min above threshold HR so far and still above it: cramps follow overreaching.`,
      };
    case 'fluid_gap':
      return {
        message: `Drink ~${r(sig.a)} ml`,
        why: `About ${r(sig.value / 10) * 10} ml of sweat lost since ${detail} (${r(sig.b)} min ago), not covered by drinks.`,
      };
    case 'sodium_loss':
      return {
        message: `Electrolytes: ~${r(sig.a)} mg sodium`,
        why: `About ${r(sig.value / 10) * 10} mg of sodium lost in sweat beyond the ${r(sig.b)} mg taken; it may help salty sweaters, it is no cramp cure.`,
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
