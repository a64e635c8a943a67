/**
 * TCX (Garmin Training Center Database v2) → NormalizedRun. Read from each `<Activity Sport>` / `<Lap
 * StartTime>` / `<Track>` / `<Trackpoint>`: `Time`, `Position` (LatitudeDegrees, LongitudeDegrees),
 * `AltitudeMeters`, `DistanceMeters`, `HeartRateBpm/Value`, `Cadence`, and in `Extensions/TPX` (ActivityExtension
 * v2, any prefix) `Speed`, `RunCadence`, `Watts`. Cadence (RunCadence first, then Cadence) is doubled like FIT's:
 * RunCadence is strides/min of one leg (real Garmin files read 84–91, i.e. 168–182 steps/min). Laps from `<Lap>`
 * (StartTime, TotalTimeSeconds, DistanceMeters), sport from `Sport` (Running, Biking; Other is unknown), device
 * from `<Creator><Name>`. Speed, when no TPX carries it, is derived from DistanceMeters (ingest/track.ts).
 * @module
 */
import { IngestError } from './errors.js';
import { allocRecordWorkspace } from './columns.js';
import { isPosition } from './sample.js';
import type { NormalizedRun } from './sample.js';
import { finishTrack, sportName } from './track.js';
import type { TrackSummary } from './track.js';
import { WarningLog } from './fit/values.js';
import { child, children, number, parseActivityXml, text, timeValue } from './xml.js';
import type { XmlNode } from './xml.js';

function device(activity: XmlNode): { manufacturer: string | null; product: string | null } {
  const creator = child(activity, 'Creator');
  const name = text(creator, 'Name')?.slice(0, 120) ?? null;
  // A Garmin device names itself without its maker; its ProductID is Garmin's product number.
  const garmin = name !== null && (/garmin/i.test(name) || (text(creator, 'ProductID') !== null && /^(forerunner|fenix|fēnix|edge|vivo|venu|epix|instinct|enduro|approach|quatix|descent|tactix|marq)/i.test(name)));
  return { manufacturer: garmin ? 'garmin' : null, product: name === null ? null : name.replace(/^garmin\s+/i, '') };
}

export function decodeTcxText(xml: string): NormalizedRun {
  const { root, truncated } = parseActivityXml(xml, 'TrainingCenterDatabase', 'Trackpoint');
  const warnings = new WarningLog();
  const activities = children(child(root, 'Activities'), 'Activity');
  const points: XmlNode[] = [];
  const summary: TrackSummary = {
    legs: [],
    manufacturer: null,
    product: null,
    laps: [],
    segmentStarts: [],
    distanceM: null,
    truncated: truncated ? 'TCX file cut short: kept every complete trackpoint' : null,
  };
  let lapDistance = 0;
  for (const activity of activities) {
    const raw = text(activity, 'Sport');
    const sport = raw !== null && /^other$/i.test(raw) ? null : sportName(raw);
    if (summary.product === null) Object.assign(summary, device(activity));
    const firstPoint = points.length;
    for (const lap of children(activity, 'Lap')) {
      const lapFirst = points.length;
      for (const track of children(lap, 'Track')) {
        if (points.length > 0) summary.segmentStarts.push(points.length);
        for (const p of children(track, 'Trackpoint')) points.push(p);
      }
      const distanceM = number(lap, 'DistanceMeters');
      if (distanceM > 0) lapDistance += distanceM;
      summary.laps.push({
        startMs: timeValue(text(lap, 'StartTime')),
        firstPoint: lapFirst,
        endPoint: points.length,
        totalS: number(lap, 'TotalTimeSeconds'),
        distanceM: distanceM === distanceM ? distanceM : null,
      });
    }
    if (points.length > firstPoint && (summary.legs.length === 0 || summary.legs.at(-1)!.sport !== sport)) {
      summary.legs.push({ sport, firstPoint });
    }
  }
  // The run's distance is its last trackpoint's (ingest/track.ts); lap totals only when no point has one (some
  // Garmin firmware writes a wrong lap total: a Forerunner 405CX file says 17 m for a 10 km lap).
  summary.distanceM = null;
  if (points.length === 0) {
    throw new IngestError('TCX_NO_POINTS', 'TCX file has no trackpoints (a course or a workout, not an activity?)');
  }

  const n = points.length;
  const space = allocRecordWorkspace(n);
  const { times, cols } = space;
  let timed = 0;
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    times[i] = timeValue(text(p, 'Time'));
    if (times[i] === times[i]) timed++;
    const position = child(p, 'Position');
    const lat = number(position, 'LatitudeDegrees');
    const lon = number(position, 'LongitudeDegrees');
    const fix = isPosition(lat, lon);
    cols.lat[i] = fix ? lat : NaN;
    cols.lon[i] = fix ? lon : NaN;
    cols.altitude[i] = number(p, 'AltitudeMeters');
    cols.distance[i] = number(p, 'DistanceMeters');
    const hr = number(child(p, 'HeartRateBpm'), 'Value');
    cols.hr[i] = hr === 0 ? NaN : hr;
    const tpx = child(child(p, 'Extensions'), 'TPX');
    let cadence = number(tpx, 'RunCadence');
    if (cadence !== cadence) cadence = number(p, 'Cadence');
    cols.cadence[i] = cadence; // doubled (or not) by finishTrack
    cols.speed[i] = number(tpx, 'Speed');
    cols.power[i] = number(tpx, 'Watts');
    cols.temperature[i] = NaN;
    cols.respiration[i] = NaN;
  }
  if (timed === 0) throw new IngestError('TCX_NO_POINTS', 'TCX file has no trackpoints with a time');
  let pointDistance = false;
  for (let i = 0; i < n && !pointDistance; i++) pointDistance = cols.distance[i] === cols.distance[i];
  if (!pointDistance && lapDistance > 0 && !truncated) summary.distanceM = lapDistance;
  return finishTrack(space, n, summary, warnings);
}
