/**
 * Prometheus text metrics, hand-written (a handful of series do not need a client library): live runs,
 * samples/s, prompts by kind, upload latency and event-loop lag.
 * @module
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ALERT_KINDS, type AlertKind } from '../../alerts/types.js';

/** Upload latency buckets, seconds. */
const UPLOAD_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  liveRuns = 0;
  watchSockets = 0;
  private samplesTotal = 0;
  private readonly promptsByKind = new Map<AlertKind, number>(ALERT_KINDS.map((k) => [k, 0]));
  private readonly uploadCounts = new Float64Array(UPLOAD_BUCKETS.length + 1);
  private uploadSum = 0;
  private uploadCount = 0;
  private readonly uploadsByOutcome = new Map<string, number>();
  // Samples/s over a sliding 10 s window of 1 s buckets (ring + running sum).
  private readonly rateRing = new Float64Array(10);
  private rateSecond = Math.floor(Date.now() / 1000);
  private readonly loopDelay: IntervalHistogram;

  constructor(private readonly now: () => number = Date.now) {
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
  }

  close(): void {
    this.loopDelay.disable();
  }

  samples(n: number): void {
    this.samplesTotal += n;
    this.advance();
    this.rateRing[this.rateSecond % this.rateRing.length]! += n;
  }

  prompt(kind: AlertKind): void {
    this.promptsByKind.set(kind, (this.promptsByKind.get(kind) ?? 0) + 1);
  }

  upload(seconds: number, outcome: 'created' | 'duplicate' | 'rejected'): void {
    let i = 0;
    while (i < UPLOAD_BUCKETS.length && seconds > UPLOAD_BUCKETS[i]!) i++;
    this.uploadCounts[i]! += 1;
    this.uploadSum += seconds;
    this.uploadCount++;
    this.uploadsByOutcome.set(outcome, (this.uploadsByOutcome.get(outcome) ?? 0) + 1);
  }

  /** Zeroes the buckets of the seconds that passed since the last sample. */
  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    const steps = Math.min(second - this.rateSecond, this.rateRing.length);
    for (let s = 1; s <= steps; s++) this.rateRing[(this.rateSecond + s) % this.rateRing.length] = 0;
    if (second > this.rateSecond) this.rateSecond = second;
  }

  private samplesPerSecond(): number {
    this.advance();
    let sum = 0;
    // The current second is incomplete: average the nine before it.
    for (let s = 1; s < this.rateRing.length; s++) sum += this.rateRing[(this.rateSecond - s + this.rateRing.length * 2) % this.rateRing.length]!;
    return sum / (this.rateRing.length - 1);
  }

  render(): string {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    gauge('crampguard_live_runs', 'Live runs open on this process.', this.liveRuns);
    gauge('crampguard_watch_sockets', 'Connected /watch sockets.', this.watchSockets);
    lines.push('# HELP crampguard_samples_total Live samples accepted.', '# TYPE crampguard_samples_total counter');
    lines.push(`crampguard_samples_total ${this.samplesTotal}`);
    gauge('crampguard_samples_per_second', 'Live samples accepted per second, last 9 s.', this.samplesPerSecond());
    lines.push('# HELP crampguard_prompts_total Prompts sent to watches, by kind.', '# TYPE crampguard_prompts_total counter');
    for (const [kind, n] of this.promptsByKind) lines.push(`crampguard_prompts_total{kind="${kind}"} ${n}`);
    lines.push('# HELP crampguard_uploads_total FIT uploads by outcome.', '# TYPE crampguard_uploads_total counter');
    for (const [outcome, n] of this.uploadsByOutcome) lines.push(`crampguard_uploads_total{outcome="${outcome}"} ${n}`);
    lines.push(
      '# HELP crampguard_upload_duration_seconds FIT upload latency, receipt to response.',
      '# TYPE crampguard_upload_duration_seconds histogram',
    );
    let cumulative = 0;
    for (let i = 0; i < UPLOAD_BUCKETS.length; i++) {
      cumulative += this.uploadCounts[i]!;
      lines.push(`crampguard_upload_duration_seconds_bucket{le="${UPLOAD_BUCKETS[i]}"} ${cumulative}`);
    }
    lines.push(`crampguard_upload_duration_seconds_bucket{le="+Inf"} ${this.uploadCount}`);
    lines.push(`crampguard_upload_duration_seconds_sum ${this.uploadSum}`);
    lines.push(`crampguard_upload_duration_seconds_count ${this.uploadCount}`);
    const ns = (v: number) => (Number.isFinite(v) ? v / 1e9 : 0);
    gauge('crampguard_event_loop_lag_seconds', 'Event-loop delay, mean since the last scrape.', ns(this.loopDelay.mean));
    gauge('crampguard_event_loop_lag_p99_seconds', 'Event-loop delay, p99 since the last scrape.', ns(this.loopDelay.percentile(99)));
    gauge('crampguard_event_loop_lag_max_seconds', 'Event-loop delay, max since the last scrape.', ns(this.loopDelay.max));
    this.loopDelay.reset();
    return `${lines.join('\n')}\n`;
  }
}
