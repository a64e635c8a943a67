/**
 * Prometheus metrics through prom-client, one registry per server (tests start several in one process): the
 * client's default process and Node metrics (CPU, memory, handles, GC, `nodejs_eventloop_lag_seconds`), and
 * crampguard's own series: live runs, samples/s, prompts by kind, uploads, and the event-loop delay since the
 * last scrape with the monitor's own sampling interval taken out (an idle loop reads ~0, not the interval).
 * @module
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ALERT_KINDS, type AlertKind } from '../../alerts/types.js';

/** Upload latency buckets, seconds. */
const UPLOAD_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** The event-loop monitor's timer interval, ms: each recorded delay includes it, so it is subtracted. */
const LOOP_RESOLUTION_MS = 10;

export class Metrics {
  liveRuns = 0;
  watchSockets = 0;
  /** Uploads admitted (receiving, queued or decoding), read at each scrape. */
  uploadsAdmitted: () => number = () => 0;
  readonly registry = new Registry();
  private readonly samplesCounter: Counter;
  private readonly promptsCounter: Counter<'kind'>;
  private readonly uploadsCounter: Counter<'outcome'>;
  private readonly uploadSeconds: Histogram;
  // Samples/s over a sliding 10 s window of 1 s buckets (ring + running sum).
  private readonly rateRing = new Float64Array(10);
  private rateSecond: number;
  private readonly loopDelay: IntervalHistogram;

  constructor(private readonly now: () => number = Date.now) {
    this.rateSecond = Math.floor(now() / 1000);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loopDelay.enable();
    const self = this;
    new Gauge({ name: 'crampguard_live_runs', help: 'Live runs open on this process.', registers, collect() { this.set(self.liveRuns); } });
    new Gauge({ name: 'crampguard_watch_sockets', help: 'Connected /watch sockets.', registers, collect() { this.set(self.watchSockets); } });
    new Gauge({ name: 'crampguard_uploads_admitted', help: 'Uploads admitted now: receiving, queued or decoding.', registers, collect() { this.set(self.uploadsAdmitted()); } });
    this.samplesCounter = new Counter({ name: 'crampguard_samples_total', help: 'Live samples accepted.', registers });
    new Gauge({
      name: 'crampguard_samples_per_second',
      help: 'Live samples accepted per second, last 9 s.',
      registers,
      collect() {
        this.set(self.samplesPerSecond());
      },
    });
    this.promptsCounter = new Counter({ name: 'crampguard_prompts_total', help: 'Prompts sent to watches, by kind.', labelNames: ['kind'], registers });
    for (const kind of ALERT_KINDS) this.promptsCounter.inc({ kind }, 0);
    this.uploadsCounter = new Counter({ name: 'crampguard_uploads_total', help: 'Uploads by outcome.', labelNames: ['outcome'], registers });
    this.uploadSeconds = new Histogram({
      name: 'crampguard_upload_duration_seconds',
      help: 'Upload latency, receipt to response.',
      buckets: UPLOAD_BUCKETS,
      registers,
    });
    // The three delay gauges are read together and the histogram reset after them (once per scrape).
    const delay = (v: number) => (Number.isFinite(v) ? Math.max(0, v / 1e6 - LOOP_RESOLUTION_MS) / 1000 : 0);
    let pending = 0;
    const read = (pick: () => number) =>
      function (this: Gauge) {
        this.set(delay(pick()));
        if (++pending === 3) {
          pending = 0;
          self.loopDelay.reset();
        }
      };
    new Gauge({ name: 'crampguard_event_loop_lag_seconds', help: 'Event-loop delay beyond the monitor interval, mean since the last scrape.', registers, collect: read(() => this.loopDelay.mean) });
    new Gauge({ name: 'crampguard_event_loop_lag_p99_seconds', help: 'Event-loop delay beyond the monitor interval, p99 since the last scrape.', registers, collect: read(() => this.loopDelay.percentile(99)) });
    new Gauge({ name: 'crampguard_event_loop_lag_max_seconds', help: 'Event-loop delay beyond the monitor interval, max since the last scrape.', registers, collect: read(() => this.loopDelay.max) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.loopDelay.disable();
    this.registry.clear();
  }

  samples(n: number): void {
    this.samplesCounter.inc(n);
    this.advance();
    this.rateRing[this.rateSecond % this.rateRing.length]! += n;
  }

  prompt(kind: AlertKind): void {
    this.promptsCounter.inc({ kind });
  }

  upload(seconds: number, outcome: 'created' | 'duplicate' | 'rejected'): void {
    this.uploadSeconds.observe(seconds);
    this.uploadsCounter.inc({ outcome });
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

  /** The Prometheus text exposition of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
