/**
 * GPX 1.0/1.1 → NormalizedRun. Read from each track point (`<trk><trkseg><trkpt lat lon>`): `<time>`, `<ele>`
 * (altitude), and in `<extensions>`, whatever its namespace prefix: Garmin's TrackPointExtension v1/v2 (`hr`,
 * `cad`, `atemp`, `speed`), Garmin's power extension (`PowerInWatts`), and the bare `power`, `hr`/`heartrate`,
 * `cadence` that Strava and others write. Cadence is doubled like FIT's: these extensions carry strides/min
 * of one leg (real Garmin and Strava files read 78–93, i.e. 156–186 steps/min). GPX has no distance: it is
 * derived from the positions (ingest/track.ts). Sport from `<trk><type>`, device from the `creator` attribute.
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

/** The first finite value among `names` in an extension element or one level inside it. */
function extensionValue(ext: XmlNode, names: readonly string[]): number {
  for (const name of names) {
    const v = number(ext, name);
    if (v === v) return v;
  }
  for (const key in ext) {
    const inner = ext[key];
    if (typeof inner !== 'object' || inner === null) continue;
    const node = Array.isArray(inner) ? inner[0] : inner;
    for (const name of names) {
      const v = number(node, name);
      if (v === v) return v;
    }
  }
  return NaN;
}

const HR = ['hr', 'heartrate', 'HeartRate', 'heart_rate'] as const;
const CADENCE = ['cad', 'cadence', 'RunCadence'] as const;
const POWER = ['power', 'PowerInWatts', 'Watts', 'watts'] as const;
const TEMPERATURE = ['atemp', 'temp', 'temperature'] as const;
const SPEED = ['speed'] as const;

export function decodeGpxText(xml: string): NormalizedRun {
  const { root, truncated } = parseActivityXml(xml, 'gpx', 'trkpt');
  const warnings = new WarningLog();
  const tracks = children(root, 'trk');
  const points: XmlNode[] = [];
  const summary: TrackSummary = {
    legs: [],
    manufacturer: null,
    product: text(root, 'creator')?.slice(0, 120) ?? null,
    laps: [],
    segmentStarts: [],
    distanceM: null,
    truncated: truncated ? 'GPX file cut short: kept every complete track point' : null,
  };
  for (const trk of tracks) {
    const sport = sportName(text(trk, 'type'));
    const firstPoint = points.length;
    for (const seg of children(trk, 'trkseg')) {
      if (points.length > 0) summary.segmentStarts.push(points.length);
      for (const p of children(seg, 'trkpt')) points.push(p);
    }
    if (points.length > firstPoint && (summary.legs.length === 0 || summary.legs.at(-1)!.sport !== sport)) {
      summary.legs.push({ sport, firstPoint });
    }
  }
  if (points.length === 0) {
    throw new IngestError('GPX_NO_POINTS', 'GPX file has no track points (a route or waypoints only?)');
  }

  const n = points.length;
  const space = allocRecordWorkspace(n);
  const { times, cols } = space;
  let timed = 0;
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    times[i] = timeValue(text(p, 'time'));
    if (times[i] === times[i]) timed++;
    const lat = number(p, 'lat');
    const lon = number(p, 'lon');
    const fix = isPosition(lat, lon);
    cols.lat[i] = fix ? lat : NaN;
    cols.lon[i] = fix ? lon : NaN;
    cols.altitude[i] = number(p, 'ele');
    const ext = child(p, 'extensions');
    const hr = extensionValue(ext, HR);
    cols.hr[i] = hr === 0 ? NaN : hr; // 0: no reading (as FIT's)
    cols.cadence[i] = extensionValue(ext, CADENCE); // doubled (or not) by finishTrack
    cols.power[i] = extensionValue(ext, POWER);
    cols.temperature[i] = extensionValue(ext, TEMPERATURE);
    cols.speed[i] = extensionValue(ext, SPEED);
    cols.distance[i] = NaN;
    cols.respiration[i] = NaN;
  }
  if (timed === 0) throw new IngestError('GPX_NO_POINTS', 'GPX file has no track points with a time (a planned route?)');
  return finishTrack(space, n, summary, warnings);
}
