/**
 * The risk points a live session keeps for followers (a dashboard that opens mid-run gets them in its `follow` ack),
 * packed in typed arrays: about 27 bytes a point where RiskPoint objects took about 130. At one point per 10 s that
 * is 10 KB for a 3-hour run instead of 140 KB, on every open run of the process.
 * @module
 */
import { RISK_FACTORS } from '../../alerts/detector.js';
import type { RiskPoint } from '../../alerts/types.js';

/** Points kept at most (a day at one point per 10 s); past it every other point is dropped. */
export const RISK_TRAIL_MAX = 8640;
/** Factors kept per point (the engine reports at most three). */
const FACTOR_SLOTS = 4;
const NO_FACTOR = 255;
const FACTOR_INDEX: ReadonlyMap<string, number> = new Map(RISK_FACTORS.map((f, i) => [f, i]));

export class RiskTrail {
  private t = new Float64Array(16);
  private score = new Float64Array(16);
  /** NaN where the point had no estimate. */
  private fluid = new Float64Array(16);
  private factors = new Uint8Array(16 * FACTOR_SLOTS).fill(NO_FACTOR);
  private n = 0;

  constructor(private readonly max = RISK_TRAIL_MAX) {}

  get length(): number {
    return this.n;
  }

  /** Keeps `p` (copied: the engine may reuse it); amortised O(1), bounded by `max` points. */
  push(p: Readonly<RiskPoint>): void {
    if (this.n === this.t.length) this.grow();
    const i = this.n++;
    this.t[i] = p.t;
    this.score[i] = p.score;
    this.fluid[i] = p.fluidDeficitMl ?? NaN;
    const at = i * FACTOR_SLOTS;
    for (let k = 0; k < FACTOR_SLOTS; k++) this.factors[at + k] = FACTOR_INDEX.get(p.factors[k]!) ?? NO_FACTOR;
    if (this.n > this.max) this.thin();
  }

  /** The points, oldest first, as the engine gave them. */
  points(): RiskPoint[] {
    const out: RiskPoint[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const factors: string[] = [];
      for (let k = 0; k < FACTOR_SLOTS; k++) {
        const f = this.factors[i * FACTOR_SLOTS + k]!;
        if (f !== NO_FACTOR) factors.push(RISK_FACTORS[f]!);
      }
      const fluid = this.fluid[i]!;
      out[i] = { t: this.t[i]!, score: this.score[i]!, factors, ...(fluid === fluid ? { fluidDeficitMl: fluid } : {}) };
    }
    return out;
  }

  private grow(): void {
    const cap = Math.min(this.t.length * 2, this.max + 1);
    const copy = <A extends Float64Array | Uint8Array>(a: A, make: (n: number) => A, per = 1): A => {
      const b = make(cap * per);
      b.set(a);
      return b;
    };
    this.t = copy(this.t, (k) => new Float64Array(k));
    this.score = copy(this.score, (k) => new Float64Array(k));
    this.fluid = copy(this.fluid, (k) => new Float64Array(k));
    this.factors = copy(this.factors, (k) => new Uint8Array(k).fill(NO_FACTOR), FACTOR_SLOTS);
  }

  /** Keeps every other point (the first included): the trail spans the whole run at half the density. */
  private thin(): void {
    let w = 0;
    for (let r = 0; r < this.n; r += 2, w++) {
      this.t[w] = this.t[r]!;
      this.score[w] = this.score[r]!;
      this.fluid[w] = this.fluid[r]!;
      this.factors.copyWithin(w * FACTOR_SLOTS, r * FACTOR_SLOTS, (r + 1) * FACTOR_SLOTS);
    }
    this.n = w;
  }
}
