/**
 * Writes a run's track as GPX 1.1: one `<trk>` of one `<trkseg>`, a `<trkpt lat lon>` per sample with a position
 * fix, with `<ele>` (altitude), `<time>`, and in `<extensions>` Garmin's TrackPointExtension v1 (`hr`, `cad` in
 * strides per minute of one leg as GPX tools expect, `atemp`) and a bare `<power>`: what Strava, Garmin Connect
 * and ingest/gpx.ts read back. Samples without a fix are left out (GPX has no point without one).
 * @module
 */
import type { SampleColumns } from '../../ingest/sample.js';

export interface GpxTrack {
  name: string | null;
  /** The track's `<type>`: the run's sport (e.g. `running`). */
  sport: string | null;
  /** Unix ms of `t = 0` (used where a sample has no timestamp of its own). */
  startMs: number;
  samples: SampleColumns & { lat?: Float64Array; lon?: Float64Array };
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** Seven decimals of a degree: ~1 cm, below any watch's accuracy. */
const degrees = (v: number) => v.toFixed(7);
const fixed = (v: number, digits: number) => String(Number(v.toFixed(digits)));

/** True when the columns hold at least one position fix. */
export function hasTrack(samples: GpxTrack['samples']): boolean {
  const { lat, lon } = samples;
  if (!lat || !lon) return false;
  for (let i = 0; i < samples.length; i++) if (Number.isFinite(lat[i]) && Number.isFinite(lon[i])) return true;
  return false;
}

/** Points written between two yields of {@link gpxSteps}. */
const POINTS_PER_STEP = 5000;

export function writeGpx(track: GpxTrack): string {
  const steps = gpxSteps(track);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** The same in steps of {@link POINTS_PER_STEP} samples (the server yields to the event loop between them). */
export function* gpxSteps(track: GpxTrack): Generator<void, string, void> {
  const s = track.samples;
  const lat = s.lat;
  const lon = s.lon;
  const name = track.name ? `<name>${escapeXml(track.name)}</name>` : '';
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gpx version="1.1" creator="crampguard" xmlns="http://www.topografix.com/GPX/1/1" ' +
      'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" ' +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">',
    `<metadata>${name}<time>${new Date(track.startMs).toISOString()}</time></metadata>`,
    `<trk>${name}${track.sport ? `<type>${escapeXml(track.sport)}</type>` : ''}<trkseg>`,
  ];
  if (lat && lon) {
    for (let i = 0; i < s.length; i++) {
      const la = lat[i]!;
      const lo = lon[i]!;
      if (!Number.isFinite(la) || !Number.isFinite(lo)) continue;
      const ts = s.timestamp[i]!;
      const ms = Number.isFinite(ts) ? ts : track.startMs + s.t[i]! * 1000;
      let point = `<trkpt lat="${degrees(la)}" lon="${degrees(lo)}">`;
      const alt = s.altitude[i]!;
      if (Number.isFinite(alt)) point += `<ele>${fixed(alt, 2)}</ele>`;
      point += `<time>${new Date(ms).toISOString()}</time>`;
      const hr = s.hr[i]!;
      const cad = s.cadence[i]!;
      const temp = s.temperature[i]!;
      const power = s.power[i]!;
      const tpx =
        (Number.isFinite(temp) ? `<gpxtpx:atemp>${fixed(temp, 1)}</gpxtpx:atemp>` : '') +
        (Number.isFinite(hr) ? `<gpxtpx:hr>${Math.round(hr)}</gpxtpx:hr>` : '') +
        (Number.isFinite(cad) ? `<gpxtpx:cad>${fixed(cad / 2, 1)}</gpxtpx:cad>` : '');
      const ext = (tpx ? `<gpxtpx:TrackPointExtension>${tpx}</gpxtpx:TrackPointExtension>` : '') + (Number.isFinite(power) ? `<power>${Math.round(power)}</power>` : '');
      if (ext) point += `<extensions>${ext}</extensions>`;
      out.push(`${point}</trkpt>`);
      if ((i + 1) % POINTS_PER_STEP === 0) yield;
    }
  }
  out.push('</trkseg></trk>', '</gpx>', '');
  return out.join('\n');
}
