/** Colours of the data, in one place (no DOM here: the browser tests import it to find each series' pixels). */

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = {
  hr: '#D55E00',
  pace: '#0072B2',
  cadence: '#009E73',
  risk: '#CC79A7',
  fluid: '#56B4E9',
  info: '#0072B2',
  warning: '#E69F00',
  urgent: '#D55E00',
  lap: '#6b6b6b',
  promptLine: 'rgba(27,31,36,0.5)',
  pause: 'rgba(120,120,120,0.14)',
} as const;
