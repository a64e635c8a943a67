// Same-activity rules (src/server/duplicates.ts): the same device starting together, or recordings that overlap
// for half of the shorter one, within a minute's start; nothing else.
import { describe, expect, it } from 'vitest';
import { isSameActivity, SAME_START_TOLERANCE_MS, type ActivityKey } from '../../src/server/duplicates.js';
import type { RunCandidate } from '../../src/store/types.js';

const T0 = Date.parse('2026-06-01T06:30:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function stored(startMs: number, elapsedS: number | null, device: [string | null, string | null] = ['garmin', 'fr965'], status: 'live' | 'ended' = 'ended'): RunCandidate {
  return {
    id: 'r1', athleteId: 'a', source: status === 'live' ? 'live' : 'upload', status, name: null, startTime: iso(startMs), createdAt: iso(T0), endedAt: null,
    sampleCount: 0, durationS: elapsedS, distanceM: null, prompts: null, peakRisk: null, sport: 'running', paceSPerKm: null, replayOf: null,
    meta: elapsedS === null ? null : {
      sport: 'running', subSport: null, manufacturer: device[0], product: device[1], startTime: iso(startMs), elapsedS, timerS: elapsedS,
      distanceM: null, laps: [], pauses: [], legs: [],
    },
  };
}
const upload = (startMs: number, elapsedS: number, device: [string | null, string | null] = ['garmin', 'fr965']): ActivityKey => ({
  startTime: iso(startMs), elapsedS, manufacturer: device[0], product: device[1],
});

describe('same activity', () => {
  it('is the same device starting within a second, whatever the lengths', () => {
    expect(isSameActivity(stored(T0, 3600), upload(T0 + 800, 60))).toBe(true);
    // The same device 5 s apart after a 2-second stored stub: neither rule holds.
    expect(isSameActivity(stored(T0, 2), upload(T0 + 5000, 3600))).toBe(false);
    expect(isSameActivity(stored(T0, 2), upload(T0 + 500, 3600))).toBe(true);
  });

  it('is another device or app whose recording overlaps half of the shorter one', () => {
    expect(isSameActivity(stored(T0, 3600), upload(T0 + 30_000, 3500, ['strava', null]))).toBe(true);
    expect(isSameActivity(stored(T0, 3600), upload(T0 + 30_000, 3500, [null, null]))).toBe(true);
    // Starting together but a short warm-up recorded apart: under half of it overlaps.
    expect(isSameActivity(stored(T0, 50), upload(T0 + 40_000, 3600, ['polar', null]))).toBe(false);
  });

  it('is never a start more than a minute apart, even on the same device', () => {
    expect(isSameActivity(stored(T0, 7200), upload(T0 + SAME_START_TOLERANCE_MS + 1000, 7200))).toBe(false);
    expect(isSameActivity(stored(T0, 7200), upload(T0 - SAME_START_TOLERANCE_MS - 1000, 7200, ['wahoo', null]))).toBe(false);
  });

  it('is a live run still going (no length yet) that started with the upload', () => {
    expect(isSameActivity(stored(T0, null, [null, null], 'live'), upload(T0 + 5000, 3600, ['suunto', null]))).toBe(true);
    expect(isSameActivity({ ...stored(T0, null, [null, null], 'ended'), durationS: null }, upload(T0 + 5000, 3600, ['suunto', null]))).toBe(false);
  });
});
