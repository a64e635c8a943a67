/**
 * A cramp the runner reported (the watch's cramp tap, a `cramp` event): not a detector, since the tap is the
 * signal, but a cause like the others. It is answered at once with the care sequence (the runner asked), and the
 * other prompts wait while it is under way (policy.ts `afterCrampQuietS`).
 * @module
 */
import { defineCause } from './detector.js';

export const reportedCramp = defineCause({
  cause: 'cramp_reported',
  kind: 'cramp_care',
  priority: 110,
  escalates: false,
  words: ({ muscle }) => ({
    message: 'Cramp: walk, breathe, stretch gently',
    why: `You reported a ${muscle} cramp: ease to a walk, breathe, sip, and hold a gentle stretch until it eases.`,
  }),
});
