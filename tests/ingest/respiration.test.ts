import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../ingest/errors.js';
import { decodeFit } from '../../ingest/fit.js';
import {
  createRespirationFromRr,
  fillRespirationFromRr,
  RESPIRATION_DEFAULTS,
  type RespirationEstimator,
} from '../../ingest/respiration.js';

/** Seeded uniform [0, 1) (mulberry32), so every run sees the same noise. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

interface Tachogram {
  /** Breaths/min. */
  breathing: number;
  hr: number;
  /** RSA amplitude, ms (half peak-to-peak). */
  rsaMs: number;
  noiseMs: number;
  durationS: number;
  seed: number;
  /** Share of beats replaced by an ectopic (short then long) pair. */
  ectopic?: number;
}

/** RR intervals of a heart at `hr` whose rhythm breathes at `breathing`, with a slow drift and noise. */
function tachogram(g: Tachogram): { t: number[]; ms: number[] } {
  const u = rng(g.seed);
  const noise = gaussian(u);
  const t: number[] = [];
  const ms: number[] = [];
  let clock = 0;
  const phase = u() * 2 * Math.PI;
  while (clock < g.durationS) {
    // The heart rate drifts by ±10 beats/min over 5 minutes, as it does in a run.
    const base = 60_000 / (g.hr + 10 * Math.sin((2 * Math.PI * clock) / 300));
    let rr = base + g.rsaMs * Math.sin(2 * Math.PI * (g.breathing / 60) * clock + phase) + g.noiseMs * noise();
    rr = Math.round(rr); // straps and FIT files carry whole milliseconds
    if (g.ectopic && u() < g.ectopic) {
      const early = Math.round(rr * 0.6);
      clock += early / 1000;
      t.push(clock);
      ms.push(early);
      rr = Math.round(rr * 1.4);
    }
    clock += rr / 1000;
    t.push(clock);
    ms.push(rr);
  }
  return { t, ms };
}

/** Every estimate after the window has filled (by beat time). */
function estimates(est: RespirationEstimator, beats: { t: number[]; ms: number[] }, fromS: number): number[] {
  const out: number[] = [];
  beats.t.forEach((t, i) => {
    est.pushBeat(t, beats.ms[i]!);
    if (t >= fromS) out.push(est.rate());
  });
  return out;
}

describe('createRespirationFromRr on synthetic RR with a known breathing rate', () => {
  it.each([
    { breathing: 15, hr: 150, rsaMs: 4, noiseMs: 3 },
    { breathing: 24, hr: 150, rsaMs: 4, noiseMs: 3 },
    { breathing: 36, hr: 150, rsaMs: 4, noiseMs: 3 },
    { breathing: 36, hr: 165, rsaMs: 3, noiseMs: 3, ectopic: 0.01 },
    { breathing: 15, hr: 75, rsaMs: 25, noiseMs: 8, ectopic: 0.02 },
    { breathing: 48, hr: 175, rsaMs: 3, noiseMs: 2 },
  ])('$breathing breaths/min at HR $hr (RSA ±$rsaMs ms, noise $noiseMs ms): within ±2 once the window fills', (g) => {
    for (const seed of [1, 2, 3]) {
      const beats = tachogram({ ...g, durationS: 240, seed });
      const got = estimates(createRespirationFromRr(), beats, RESPIRATION_DEFAULTS.windowS);
      expect(got.length).toBeGreaterThan(100);
      const known = got.filter((r) => !Number.isNaN(r));
      // It may abstain now and then on noise, but must answer most of the time and always be right.
      expect(known.length / got.length).toBeGreaterThan(0.9);
      for (const r of known) expect(Math.abs(r - g.breathing)).toBeLessThanOrEqual(2);
    }
  });

  it('follows a change of breathing rate within a window', () => {
    const first = tachogram({ breathing: 18, hr: 150, rsaMs: 5, noiseMs: 2, durationS: 120, seed: 4 });
    const second = tachogram({ breathing: 40, hr: 150, rsaMs: 5, noiseMs: 2, durationS: 120, seed: 5 });
    const est = createRespirationFromRr();
    first.t.forEach((t, i) => est.pushBeat(t, first.ms[i]!));
    expect(est.rate()).toBeCloseTo(18, 0);
    const end = first.t.at(-1)!;
    second.t.forEach((t, i) => est.pushBeat(end + t, second.ms[i]!));
    expect(Math.abs(est.rate() - 40)).toBeLessThanOrEqual(2);
  });
});

describe('createRespirationFromRr says unknown (NaN) rather than guess', () => {
  it('before minWindowS of beats', () => {
    const beats = tachogram({ breathing: 20, hr: 150, rsaMs: 5, noiseMs: 1, durationS: RESPIRATION_DEFAULTS.minWindowS - 2, seed: 6 });
    const got = estimates(createRespirationFromRr(), beats, 0);
    expect(got.every(Number.isNaN)).toBe(true);
  });

  it('when the RR intervals carry no breathing: flat, or noise only', () => {
    const flat = estimates(createRespirationFromRr(), tachogram({ breathing: 20, hr: 160, rsaMs: 0, noiseMs: 0, durationS: 200, seed: 7 }), 64);
    expect(flat.every(Number.isNaN)).toBe(true);
    const noise = estimates(createRespirationFromRr(), tachogram({ breathing: 20, hr: 150, rsaMs: 0, noiseMs: 4, durationS: 400, seed: 8 }), 64);
    expect(noise.filter(Number.isNaN).length / noise.length).toBeGreaterThan(0.9);
  });

  it('after a gap in the beats, until the window has filled again', () => {
    const beats = tachogram({ breathing: 20, hr: 150, rsaMs: 5, noiseMs: 1, durationS: 200, seed: 9 });
    const est = createRespirationFromRr();
    beats.t.forEach((t, i) => est.pushBeat(t, beats.ms[i]!));
    expect(est.rate()).toBeCloseTo(20, 0);
    // The strap drops out for 30 s; the beats then resume.
    const resumeAt = beats.t.at(-1)! + 30;
    const after = estimates(est, { t: beats.t.map((t) => t + resumeAt), ms: beats.ms }, 0);
    expect(after.slice(0, 50).every(Number.isNaN)).toBe(true);
    expect(after.at(-1)).toBeCloseTo(20, 0);
  });

  it('ignores implausible intervals and non-finite times', () => {
    const est = createRespirationFromRr();
    for (const [t, ms] of [[0, 0], [1, -5], [2, 5000], [NaN, 400], [3, NaN], [Infinity, 400]] as const) est.pushBeat(t, ms);
    expect(est.state().filled).toBe(0);
  });
});

describe('respiration state', () => {
  it('a JSON round trip at any beat continues identically', () => {
    const beats = tachogram({ breathing: 28, hr: 155, rsaMs: 4, noiseMs: 2, durationS: 150, seed: 10 });
    const straight = estimates(createRespirationFromRr(), beats, 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: beats.t.length - 1 }), (cut) => {
        const a = createRespirationFromRr();
        const got: number[] = [];
        for (let i = 0; i < cut; i++) {
          a.pushBeat(beats.t[i]!, beats.ms[i]!);
          got.push(a.rate());
        }
        const b = createRespirationFromRr({}, JSON.parse(JSON.stringify(a.state())));
        for (let i = cut; i < beats.t.length; i++) {
          b.pushBeat(beats.t[i]!, beats.ms[i]!);
          got.push(b.rate());
        }
        expect(got).toEqual(straight);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses a state that does not fit the window with LIVE_STATE_INVALID', () => {
    const saved = createRespirationFromRr().state();
    expect(() => createRespirationFromRr({ windowS: 32 }, saved)).toThrow(IngestError);
    expect(() => createRespirationFromRr({}, { ...saved, head: -1 })).toThrow(/respiration state/);
  });
});

describe('fillRespirationFromRr on a real file (Garmin Edge 530, indoor cycling, RR + its own respiration)', () => {
  it('fills only missing values, in the breathing band; how close it is to the device is reported, not assumed', async () => {
    const bytes = readFileSync(new URL('../../fixtures/fit/stadelmanma__fitparse-rs/hrv-activity.fit', import.meta.url));
    const run = await decodeFit(bytes);
    expect(run.rr).not.toBeNull();
    const device = Float64Array.from(run.samples.respiration);
    const cols = { ...run.samples, respiration: new Float64Array(run.samples.length).fill(NaN) };
    cols.respiration[5] = 99; // a value the watch gave is kept
    const filled = fillRespirationFromRr(cols, run.rr!);
    expect(cols.respiration[5]).toBe(99);
    expect(filled).toBeGreaterThan(run.samples.length / 4);
    const diffs: number[] = [];
    for (let i = 0; i < cols.length; i++) {
      const ours = cols.respiration[i]!;
      if (Number.isNaN(ours) || i === 5) continue;
      expect(ours).toBeGreaterThanOrEqual(RESPIRATION_DEFAULTS.minBpm);
      expect(ours).toBeLessThanOrEqual(RESPIRATION_DEFAULTS.maxBpm);
      if (!Number.isNaN(device[i]!)) diffs.push(Math.abs(ours - device[i]!));
    }
    // Measured: the device says 28–40 breaths/min while the RR tachogram of this ride (HR ~150, RR varying
    // by ±2–3 ms at 1 ms resolution) shows no peak there at all; the estimate sits at the low end of the band.
    // RSA cannot recover this device's number here: see the module header and the README.
    const mae = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    console.info(`hrv-activity.fit: estimated ${filled}/${cols.length} samples, MAE vs device ${mae.toFixed(1)} breaths/min`);
    expect(diffs.length).toBeGreaterThan(100);
  });
});
