import { describe, expect, it } from 'vitest';
import { formatDuration, formatPace, paceFromSpeed } from '../../src/dashboard/web/src/format.js';
import { peakRisk, toRunSummary, toSampleSeries, wireRows } from '../../src/dashboard/web/src/shapes.js';

describe('dashboard formatting', () => {
  it('formats durations as a runner reads them', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(305)).toBe('5:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('–');
    expect(formatDuration(null)).toBe('–');
  });

  it('turns speed into pace and hides walking and standing', () => {
    expect(paceFromSpeed(1000 / 300)).toBeCloseTo(300, 6);
    expect(formatPace(paceFromSpeed(1000 / 300))).toBe('5:00 /km');
    expect(paceFromSpeed(0)).toBeNull();
    expect(paceFromSpeed(Number.NaN)).toBeNull();
    expect(paceFromSpeed(0.5)).toBeNull(); // 33 min/km: not running
  });
});

describe('dashboard shapes', () => {
  it('reads the samples endpoint columns, keeping missing values null', () => {
    const series = toSampleSeries({ length: 3, downsampled: false, columns: { t: [0, 1, 2], hr: [120, null, 122], speed: [3, 3.1, null] } });
    expect(series.t).toEqual([0, 1, 2]);
    expect(series.hr).toEqual([120, null, 122]);
    expect(series.speed).toEqual([3, 3.1, null]);
  });

  it('sends stored samples as a watch would: t always, missing channels left out', () => {
    const rows = wireRows({ t: [0, 1], hr: [120, null], cadence: [170, 172], speed: [null, 3] });
    expect(rows).toEqual([
      { t: 0, hr: 120, cadence: 170 },
      { t: 1, cadence: 172, speed: 3 },
    ]);
  });

  it('summarises a run from the list or from its report', () => {
    const fromList = toRunSummary({ id: 'a', status: 'ended', source: 'upload', startTime: null, durationS: 60, distanceM: 200 });
    expect(fromList.alertCount).toBeNull(); // a list item without `prompts` (no report): shown as –
    const counted = toRunSummary({ id: 'c', status: 'ended', source: 'upload', startTime: null, durationS: 60, distanceM: 200, prompts: 3, peakRisk: 71 });
    expect(counted.alertCount).toBe(3);
    expect(counted.peakRisk).toBe(71);
    const report = { alerts: [{ t: 1 }, { t: 2 }], risk: [{ t: 0, score: 10 }, { t: 5, score: 64 }, { t: 9, score: 30 }] };
    const fromReport = toRunSummary({ id: 'b', status: 'ended', report });
    expect(fromReport.alertCount).toBe(2);
    expect(fromReport.peakRisk).toBe(64);
    expect(peakRisk([])).toBeNull();
  });
});
