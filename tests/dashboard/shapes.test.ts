import { describe, expect, it } from 'vitest';
import { formatDuration, formatPace, paceFromSpeed } from '../../src/dashboard/web/src/format.js';
import { runFeed } from '../../ingest/feed.js';
import { concatSeries, peakRisk, replayableRun, toRunSummary, toSampleSeries } from '../../src/dashboard/web/src/shapes.js';

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

  it('joins raw sample pages into one series, a channel missing from a page null there', () => {
    const joined = concatSeries([
      { t: [0, 1], hr: [120, 121], cadence: [170, null], speed: [3, 3] },
      { t: [2], hr: [122], cadence: [171], speed: [3.1], power: [250] },
    ]);
    expect(joined).toEqual({ t: [0, 1, 2], hr: [120, 121, 122], cadence: [170, null, 171], speed: [3, 3, 3.1], power: [null, null, 250] });
  });

  it('rebuilds a stored run that the one feed plays as the file: running legs only, events in their place, the sport', () => {
    // A brick: a bike leg (0–2 s) then a run (3–5 s), a drink at 3.5 s, as GET /api/runs/:id and /samples serve it.
    const legs = [
      { sport: 'cycling', subSport: null, startT: 0, endT: 2, running: false },
      { sport: 'running', subSport: null, startT: 3, endT: 5, running: true },
    ];
    const run = replayableRun(
      { startTime: '2026-01-01T08:00:00.000Z', report: { sport: 'multisport', startTime: '2026-01-01T08:00:00.000Z', durationS: 5, movingTimeS: 5, distanceM: 30 }, legs, events: [{ t: 3.5, type: 'drink', ml: 150 }], laps: [], pauses: [] },
      { t: [0, 1, 2, 3, 4, 5], hr: [100, 101, 102, 140, null, 142], cadence: [null, null, null, 170, 172, 171], speed: [8, 8, 8, 3, 3, 3] },
    );
    expect(run.channels).toEqual(['hr', 'cadence', 'speed']);
    expect(Number.isNaN(run.samples.hr[4]!)).toBe(true);
    const feed = runFeed(run);
    expect(feed.sport).toBe('running');
    const played: string[] = [];
    feed.play({ push: (s) => played.push(`s${s.t}:${Number.isNaN(s.hr) ? '-' : s.hr}`), event: (e) => played.push(`${e.type}@${e.t}`) });
    expect(played).toEqual(['s3:140', 'drink@3.5', 's4:-', 's5:142']);
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
