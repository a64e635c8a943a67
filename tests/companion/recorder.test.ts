// The companion's sample maker (src/companion/recorder.ts): one sample per second of run time from the strap,
// the foot pod or the phone's position, with the file paths' plausibility limits.
import { describe, expect, it } from 'vitest';
import type { HeartRateMeasurement, RscMeasurement } from '../../ingest/ble.js';
import type { WireSample } from '../../ingest/live.js';
import { distanceM, SampleRecorder, STALE_MS } from '../../src/companion/recorder.js';

const T0 = 1_780_000_000_000;
const hr = (v: number, contact = true): HeartRateMeasurement => ({ hr: v, sensorContact: contact ? 'contact' : 'no_contact', energyExpendedKj: null, rrMs: [] });
const pod = (speedMps: number, cadence: number, totalDistanceM: number | null): RscMeasurement => ({ speedMps, cadence, strideLengthM: null, totalDistanceM, running: true });

function recorder(): { rec: SampleRecorder; out: WireSample[] } {
  const out: WireSample[] = [];
  return { rec: new SampleRecorder(T0, (s) => out.push(s)), out };
}

describe('SampleRecorder', () => {
  it('makes one sample per second from the values last seen in that second, the pod distance counted from its first value', () => {
    const { rec, out } = recorder();
    for (let s = 0; s < 5; s++) {
      rec.heartRate(T0 + s * 1000 + 100, hr(140 + s));
      rec.heartRate(T0 + s * 1000 + 600, hr(150 + s)); // a second beat in the same second: the later one counts
      rec.footPod(T0 + s * 1000 + 700, pod(3 + s / 10, 170, 5000 + s * 3));
    }
    rec.finish();
    expect(out).toEqual([0, 1, 2, 3, 4].map((s) => ({ t: s, hr: 150 + s, speed: 3 + s / 10, cadence: 170, distance: s * 3 })));
  });

  it('leaves out values older than STALE_MS and heart rate without skin contact', () => {
    const { rec, out } = recorder();
    rec.heartRate(T0, hr(150));
    rec.footPod(T0 + 10, pod(3, 170, 100));
    rec.heartRate(T0 + STALE_MS + 2000, hr(0, false));
    rec.finish();
    expect(out[0]).toMatchObject({ t: 0, hr: 150, speed: 3 });
    expect(out[1]).toEqual({ t: Math.floor((STALE_MS + 2000) / 1000) });
    expect(rec.counts.noContact).toBe(1);
  });

  it('takes speed and distance from the position without a pod, and drops a jump as a file speed spike', () => {
    const { rec, out } = recorder();
    // North at 3 m/s: 3 m is 3 / 111_195 degrees of latitude.
    const step = 3 / (distanceM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 }));
    for (let s = 0; s < 6; s++) {
      const jump = s === 3 ? 0.01 : 0; // ~1.1 km off for one fix
      rec.position(T0 + s * 1000, { lat: 48 + s * step + jump, lon: 11, accuracyM: 5, altitudeM: 520 });
    }
    rec.position(T0 + 6000, { lat: 48 + 6 * step, lon: 11, accuracyM: 80, altitudeM: 520 }); // too inaccurate
    rec.finish();
    const speeds = out.map((s) => s.speed);
    expect(speeds[0]).toBeUndefined();
    for (const v of [speeds[1], speeds[2]]) expect(v).toBeCloseTo(3, 3);
    // After the dropped jump the next good fix is measured from the last good one: 2 s, 6 m.
    expect(speeds[4]).toBeCloseTo(3, 3);
    expect(out.at(-1)!.distance).toBeCloseTo(15, 1);
    expect(out.every((s) => s.altitude === 520)).toBe(true);
    expect(rec.counts.fixesDropped).toBe(2);
  });
});

describe('SampleRecorder across a reload', () => {
  it('hands the second in progress out as a partial sample, and a restored recorder goes on after it with the same distances', () => {
    const first = recorder();
    for (let s = 0; s < 3; s++) {
      first.rec.heartRate(T0 + s * 1000, hr(150));
      first.rec.footPod(T0 + s * 1000 + 1, pod(3, 170, 1000 + s * 3));
    }
    const { partial, state } = first.rec.persist();
    expect(first.out.map((s) => s.t)).toEqual([0, 1]);
    expect(partial).toEqual({ t: 2, hr: 150, speed: 3, cadence: 170, distance: 6 });
    // The page reloads within second 2: that second is already stored (as the partial sample).
    const out: WireSample[] = [];
    const second = new SampleRecorder(T0, (s) => out.push(s), 'steps', structuredClone(state));
    second.footPod(T0 + 2500, pod(3, 170, 1006));
    for (let s = 3; s < 5; s++) second.footPod(T0 + s * 1000, pod(3, 170, 1000 + s * 3));
    second.finish();
    expect(out).toEqual([3, 4].map((s) => ({ t: s, speed: 3, cadence: 170, distance: s * 3 })));
  });
});
