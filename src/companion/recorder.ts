/**
 * The phone companion's sample maker: turns what its sensors report (a heart-rate strap, a running speed and
 * cadence foot pod, the phone's position) into one wire sample per second of run time. Pure: no DOM, no clock
 * (every input carries its time), so the same code runs in the page and in the unit tests.
 *
 * - One sample per whole second of run time, holding the last values seen in that second; it is emitted when
 *   the first input of a later second arrives (or at `finish`), so inputs that land in the same second (the
 *   strap's beat and the pod's stride) end up in the same sample.
 * - Speed and distance come from the foot pod while it reports (its total distance counted from its first
 *   value, since it counts from the pod's power-on; integrated from its speed when it sends none), else from the
 *   phone's position: the distance between fixes over their time, with the file paths' plausibility limits
 *   (ingest/plausible.ts), so a GPS jump is dropped here the way a FIT file's speed spike is.
 * - A value older than {@link STALE_MS} is missing, not repeated: a strap that fell off sends no heart rate.
 * @module
 */
import { heartRateToWire, rscToWire, type HeartRateMeasurement, type RscMeasurement } from '../../ingest/ble.js';
import type { WireSample } from '../../ingest/live.js';
import { isPlausible } from '../../ingest/plausible.js';

/** A sensor value this old is no longer current, ms. */
export const STALE_MS = 5000;
/** Fixes less accurate than this are not used for speed or distance, m. */
export const MAX_FIX_ACCURACY_M = 30;
/** Fixes closer in time than this are not used for speed (the division is too noisy), ms. */
const MIN_FIX_GAP_MS = 900;

export interface Fix {
  lat: number;
  lon: number;
  /** Horizontal accuracy, m (95%). */
  accuracyM: number;
  altitudeM: number | null;
}

interface Timed<T> {
  at: number;
  value: T;
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance between two fixes, m (haversine). */
export function distanceM(a: Pick<Fix, 'lat' | 'lon'>, b: Pick<Fix, 'lat' | 'lon'>): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** What the recorder dropped, for the page to show (a strap without contact, a GPS jump). */
export interface RecorderCounts {
  samples: number;
  /** Position fixes not used: too inaccurate, or an implausible speed. */
  fixesDropped: number;
  /** Heart-rate measurements without skin contact. */
  noContact: number;
}

/**
 * What a recorder must carry over a reload to go on seamlessly: where distances count from, and the last second
 * already handed out (as a sample, or as the partial one stored with the unsent samples).
 */
export interface RecorderState {
  lastT: number;
  podStartDistanceM: number | null;
  podDistanceM: number | null;
  distanceM: number | null;
  gpsDistanceM: number;
}

export class SampleRecorder {
  readonly counts: RecorderCounts = { samples: 0, fixesDropped: 0, noContact: 0 };
  private second = -1;
  private hr: Timed<number | null> | null = null;
  private rr: number[] = [];
  private pod: Timed<{ speed: number; cadence: number }> | null = null;
  private podStartDistanceM: number | null = null;
  private podDistanceM: number | null = null;
  private gpsSpeed: Timed<number> | null = null;
  private altitude: Timed<number> | null = null;
  private lastFix: Timed<Fix> | null = null;
  private gpsDistanceM = 0;
  /** Distance of the last sample sent (it never goes down). */
  private distanceM: number | null = null;
  private lastSampleAt = -1;

  constructor(
    /** Run start, ms on the same clock as the inputs. */
    readonly startMs: number,
    /** Called with each finished sample. */
    private readonly emit: (sample: WireSample) => void,
    /** What the pod's cadence counts (ingest/ble.ts). @default 'steps' */
    private readonly cadenceUnit: 'steps' | 'strides' = 'steps',
    /** Where a previous recorder of this run stopped (`persist().state`). */
    restore?: RecorderState,
  ) {
    if (restore) {
      this.second = restore.lastT;
      this.lastSampleAt = restore.lastT;
      this.podStartDistanceM = restore.podStartDistanceM;
      this.podDistanceM = restore.podDistanceM;
      this.distanceM = restore.distanceM;
      this.gpsDistanceM = restore.gpsDistanceM;
    }
  }

  /**
   * For storing across a reload: the sample of the second in progress as it stands now (null when there is
   * none), and the state to restore with, which counts that second as handed out.
   */
  persist(): { partial: WireSample | null; state: RecorderState } {
    const open = this.second >= 0 && this.second > this.lastSampleAt;
    const partial = open ? this.build(this.second, false) : null;
    return {
      partial,
      state: {
        lastT: open ? this.second : this.lastSampleAt,
        podStartDistanceM: this.podStartDistanceM,
        podDistanceM: this.podDistanceM,
        distanceM: partial?.distance ?? this.distanceM,
        gpsDistanceM: this.gpsDistanceM,
      },
    };
  }

  /** Seconds of run time at `ms`. */
  runSeconds(ms: number): number {
    return Math.max(0, Math.floor((ms - this.startMs) / 1000));
  }

  heartRate(ms: number, m: HeartRateMeasurement): void {
    this.tick(ms);
    const wire = heartRateToWire(m);
    if (wire.hr == null) this.counts.noContact++;
    this.hr = { at: ms, value: wire.hr ?? null };
    if (wire.rr) this.rr.push(...wire.rr);
  }

  footPod(ms: number, m: RscMeasurement): void {
    this.tick(ms);
    const wire = rscToWire(m, { cadenceUnit: this.cadenceUnit });
    const previous = this.pod;
    this.pod = { at: ms, value: { speed: wire.speed ?? 0, cadence: wire.cadence ?? 0 } };
    if (m.totalDistanceM !== null) {
      this.podStartDistanceM ??= m.totalDistanceM;
      this.podDistanceM = m.totalDistanceM - this.podStartDistanceM;
    } else if (previous && ms > previous.at) {
      // No total distance from this pod: integrate its speed.
      this.podDistanceM = (this.podDistanceM ?? 0) + previous.value.speed * ((ms - previous.at) / 1000);
    } else {
      this.podDistanceM ??= 0;
    }
  }

  position(ms: number, fix: Fix): void {
    this.tick(ms);
    if (fix.altitudeM !== null && Number.isFinite(fix.altitudeM) && isPlausible('altitude', fix.altitudeM)) {
      this.altitude = { at: ms, value: fix.altitudeM };
    }
    if (!(fix.accuracyM <= MAX_FIX_ACCURACY_M)) {
      this.counts.fixesDropped++;
      return;
    }
    const last = this.lastFix;
    if (!last) {
      this.lastFix = { at: ms, value: fix };
      return;
    }
    const gapMs = ms - last.at;
    if (gapMs < MIN_FIX_GAP_MS) return;
    const d = distanceM(last.value, fix);
    const speed = d / (gapMs / 1000);
    if (!isPlausible('speed', speed)) {
      // A jump (a fix from the wrong side of a building): dropped as a file's speed spike is, and the last good
      // fix stays the reference.
      this.counts.fixesDropped++;
      return;
    }
    this.gpsDistanceM += d;
    this.gpsSpeed = { at: ms, value: speed };
    this.lastFix = { at: ms, value: fix };
  }

  /** Emits the sample of the last second that had an input (the run ends). */
  finish(): void {
    if (this.second >= 0 && this.second > this.lastSampleAt) this.emitSample(this.second);
  }

  /** A new second of run time has begun: the previous one's sample is complete. */
  private tick(ms: number): void {
    const s = this.runSeconds(ms);
    if (s > this.second) {
      if (this.second >= 0 && this.second > this.lastSampleAt) this.emitSample(this.second);
      this.second = s;
    }
  }

  private fresh<T>(v: Timed<T> | null, ms: number): v is Timed<T> {
    return v !== null && ms - v.at <= STALE_MS;
  }

  private emitSample(t: number): void {
    const sample = this.build(t, true);
    this.lastSampleAt = t;
    this.counts.samples++;
    this.emit(sample);
  }

  /** The sample of second `t` from the current values; `take` hands it out (the RR list starts afresh). */
  private build(t: number, take: boolean): WireSample {
    // Fresh as of the end of the sample's own second (it may be emitted much later, after a gap).
    const now = this.startMs + (t + 1) * 1000;
    const sample: WireSample = { t };
    if (this.fresh(this.hr, now) && this.hr.value !== null) sample.hr = this.hr.value;
    if (this.rr.length) {
      sample.rr = [...this.rr];
      if (take) this.rr = [];
    }
    let distance: number | null = null;
    if (this.fresh(this.pod, now)) {
      sample.speed = this.pod.value.speed;
      sample.cadence = this.pod.value.cadence;
      distance = this.podDistanceM;
    } else if (this.fresh(this.gpsSpeed, now)) {
      sample.speed = this.gpsSpeed.value;
      distance = this.gpsDistanceM;
    }
    if (distance !== null) {
      // Distance never goes down, whichever source gave it (a pod that drops out hands over to the GPS).
      sample.distance = Math.max(this.distanceM ?? 0, distance);
      if (take) this.distanceM = sample.distance;
    }
    if (this.fresh(this.altitude, now)) sample.altitude = this.altitude.value;
    return sample;
  }
}
