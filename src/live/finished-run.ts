/**
 * A finished live run in the shape the FIT path produces ({@link NormalizedRun}), for `analyzeRun` at the run's
 * end, re-analysis and the store (src/athlete/stored-run.ts builds a live run's meta with it too).
 * @module
 */
import type { LiveNormalizer } from '../../ingest/live.js';
import { CHANNELS, type Channel, type NormalizedRun, type RunEvent, type RunMeta, type SampleColumns } from '../../ingest/sample.js';

export function liveRunToNormalized(
  samples: SampleColumns,
  events: RunEvent[],
  startTime: string | null,
  normalizer: LiveNormalizer | null,
): NormalizedRun {
  const n = samples.length;
  const firstT = n > 0 ? samples.t[0]! : 0;
  const lastT = n > 0 ? samples.t[n - 1]! : 0;
  const pauses: { startT: number; endT: number }[] = [];
  const laps: { startT: number; endT: number; distanceM: number | null }[] = [];
  let pausedAt: number | null = null;
  let lapStart = firstT;
  for (const e of events) {
    if (e.type === 'pause' && pausedAt === null) pausedAt = e.t;
    else if (e.type === 'resume' && pausedAt !== null) {
      pauses.push({ startT: pausedAt, endT: e.t });
      pausedAt = null;
    } else if (e.type === 'lap') {
      laps.push({ startT: lapStart, endT: e.t, distanceM: null });
      lapStart = e.t;
    }
  }
  if (pausedAt !== null && pausedAt < lastT) pauses.push({ startT: pausedAt, endT: lastT });
  if (laps.length > 0 && lapStart < lastT) laps.push({ startT: lapStart, endT: lastT, distanceM: null });
  let distanceM: number | null = null;
  for (let i = n - 1; i >= 0; i--) {
    if (!Number.isNaN(samples.distance[i]!)) {
      distanceM = samples.distance[i]!;
      break;
    }
  }
  const elapsedS = lastT - firstT;
  const pausedS = pauses.reduce((sum, p) => sum + (p.endT - p.startT), 0);
  const meta: RunMeta = {
    sport: 'running',
    subSport: null,
    manufacturer: null,
    product: null,
    startTime,
    elapsedS,
    timerS: Math.max(0, elapsedS - pausedS),
    distanceM,
    laps,
    pauses,
    legs: [{ sport: 'running', subSport: null, startT: firstT, endT: lastT, running: true }],
  };
  const channels: Channel[] = CHANNELS.filter((c) => {
    const col = samples[c];
    for (let i = 0; i < n; i++) if (!Number.isNaN(col[i]!)) return true;
    return false;
  });
  return { meta, samples, rr: null, events, channels, warnings: normalizer ? normalizer.warnings() : [] };
}
