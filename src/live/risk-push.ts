/**
 * Which risk points are pushed to the watch and its followers. The engine makes one every 10 s of run time; a push
 * that changes nothing on the watch face (the score it shows, rounded, and the two factors it names) is a socket
 * write for nothing, and at one sample per message it was a tenth of the live path's writes (one per message at
 * ten samples a message). So a point goes out when what the watch shows changes, and at least once a minute of run
 * time otherwise (the fluid estimate and the followers' charts keep moving). On the 100 real runs this sends 23 %
 * of the points. Every point is still kept (RiskTrail) for a follower's history, and the latest answers a `follow`
 * and the HTTP watch's acks.
 * @module
 */
import type { RiskPoint } from '../../alerts/types.js';

/** Run time, s, after which the next point is pushed even if the watch face would not change. */
export const RISK_PUSH_AT_LEAST_EVERY_S = 60;

export class RiskPushGate {
  private score = NaN;
  private first: string | undefined = undefined;
  private second: string | undefined = undefined;
  private t = -Infinity;

  /** Whether `p` is to be pushed (then it is what the watch shows). The first point always is. */
  due(p: Readonly<RiskPoint>): boolean {
    const score = Math.round(p.score);
    const [first, second] = p.factors;
    if (score === this.score && first === this.first && second === this.second && p.t - this.t < RISK_PUSH_AT_LEAST_EVERY_S) return false;
    this.score = score;
    this.first = first;
    this.second = second;
    this.t = p.t;
    return true;
  }
}
