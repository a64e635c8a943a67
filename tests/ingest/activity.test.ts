/**
 * GPX and TCX into the same NormalizedRun as FIT, through the one dispatcher (ingest/decode.ts): every real
 * GPX/TCX run of ../shared/realruns (against its MANIFEST.tsv row), the fixture copies, gzip variants, and the
 * coded refusals, XML and gzip attacks included.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeActivity, decodeActivityDetailed, decodeActivitySync } from '../../ingest/decode.js';
import { IngestError } from '../../ingest/errors.js';
import { decodeFit } from '../../ingest/fit.js';
import { hasPosition } from '../../ingest/sample.js';
import type { Channel, NormalizedRun } from '../../ingest/sample.js';
import { haversineM } from '../../ingest/track.js';
import { outcomeOf, realRuns, REALRUNS, XML_FIXTURES, xmlFixture } from './activity-files.js';
import { checkRun, fixture } from './fit-files.js';

const enc = (s: string) => new TextEncoder().encode(s);
const codeOf = (bytes: Uint8Array, maxBytes?: number) => {
  const r = outcomeOf(() => decodeActivitySync(bytes, maxBytes === undefined ? {} : { maxBytes }));
  return r instanceof IngestError ? r.code : 'decoded';
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const rows = realRuns().filter((r) => r.format === 'gpx' || r.format === 'tcx');
if (rows.length === 0) console.log(`[activity tests] ${REALRUNS} is absent: testing the fixture copies only`);

/** MANIFEST channel names → what the run must have. */
function expectedChannels(manifest: string): { channels: Channel[]; position: boolean; derivedDistance: boolean } {
  const names = manifest.split(',');
  const channels = names.map((n) => n.replace('(gps-derived)', '')).filter((n) => n !== 'gps' && n !== 'running_dynamics') as Channel[];
  return { channels, position: names.includes('gps'), derivedDistance: names.includes('distance(gps-derived)') };
}

describe.skipIf(rows.length === 0)(`every GPX and TCX run of ../shared/realruns (${rows.length})`, () => {
  it.each(rows.map((r) => [r.local_path!, r] as const))('%s', (file, row) => {
    const { run, format } = decodeActivityDetailed(new Uint8Array(readFileSync(join(REALRUNS, file))), { fileName: file });
    checkRun(run);
    expect(format).toBe(row.format);
    const want = expectedChannels(row.channels!);
    for (const c of want.channels) expect(run.channels, `${c} (MANIFEST)`).toContain(c);
    // Beyond the MANIFEST's first reading: speed derived from distance (said in a warning), power (TCX Watts,
    // GPX <power>) and altitude on a few points of files the MANIFEST reads as without altitude.
    const codes = run.warnings.map((w) => w.code);
    for (const c of run.channels.filter((x) => !want.channels.includes(x))) {
      if (c === 'speed') expect(codes).toContain('speed_from_distance');
      else expect(['power', 'altitude']).toContain(c);
    }
    expect(hasPosition(run.samples)).toBe(want.position);
    if (want.derivedDistance) expect(codes).toContain('distance_from_positions');
    expect(run.samples.length).toBe(Number(row.record_count));
    // The MANIFEST's duration is elapsed or moving time by file; its distance the file's own or the haversine sum.
    const d = Number(row.duration_s);
    expect(Math.min(Math.abs(run.meta.elapsedS - d), Math.abs(run.meta.timerS - d)) / d).toBeLessThan(0.1);
    const manifestM = Number(row.distance_m);
    if (codes.includes('position_jump')) {
      // GPS spikes (the MANIFEST's haversine sum counts them: one file reads 22 km in 39 min) are left out.
      expect(run.meta.distanceM!).toBeLessThan(manifestM);
      const pace = run.meta.distanceM! / run.meta.timerS;
      expect(pace).toBeGreaterThan(1.5);
      expect(pace).toBeLessThan(6);
    } else {
      expect(Math.abs(run.meta.distanceM! - manifestM) / manifestM).toBeLessThan(0.01);
    }
    expect(Math.floor(Date.parse(run.meta.startTime!) / 1000)).toBe(Date.parse(row.start_time!) / 1000); // MANIFEST: whole seconds
    if (run.channels.includes('cadence')) {
      const moving = Array.from(run.samples.cadence).filter((x) => x > 120);
      const spm = median(moving);
      expect(spm, 'running cadence in steps/min (doubled from strides/min)').toBeGreaterThanOrEqual(150);
      expect(spm).toBeLessThanOrEqual(190);
    }
  });
});

describe('fixture copies (always)', () => {
  it('a Garmin GPX: TrackPointExtension under any prefix, cadence doubled, positions kept', () => {
    const run = decodeActivitySync(xmlFixture(XML_FIXTURES.gpxGarmin));
    checkRun(run);
    // First trkpt of the file: lat 22.552996…, lon 113.899633…, ele 3, hr 97, cad 0 at 2025-04-01T21:56:27Z.
    expect(run.samples.lat[0]).toBeCloseTo(22.552996091544628, 12);
    expect(run.samples.lon[0]).toBeCloseTo(113.89963324181736, 12);
    expect(run.samples.altitude[0]).toBe(3);
    expect(run.samples.hr[0]).toBe(97);
    expect(run.samples.cadence[0]).toBe(0);
    expect(run.meta.startTime).toBe('2025-04-01T21:56:27.000Z');
    expect(run.meta.sport).toBe('running');
    expect(run.meta.product).toBe('Garmin Connect');
    // Distance is the haversine sum of the positions.
    let sum = 0;
    for (let i = 1; i < run.samples.length; i++) sum += haversineM(run.samples.lat[i - 1]!, run.samples.lon[i - 1]!, run.samples.lat[i]!, run.samples.lon[i]!);
    expect(run.samples.distance[run.samples.length - 1]).toBeCloseTo(sum, 6);
    expect(run.channels).toEqual(['hr', 'cadence', 'speed', 'distance', 'altitude']);
  });

  it('a TCX with TPX Speed and RunCadence: values read as written, laps from <Lap>', () => {
    const bytes = xmlFixture(XML_FIXTURES.tcxTpx);
    const run = decodeActivitySync(bytes);
    checkRun(run);
    const text = new TextDecoder().decode(bytes);
    // The first trackpoint that has a speed, and its row (every trackpoint has a time, none is dropped).
    const points = text.split('<Trackpoint>').slice(1);
    const k = points.findIndex((p) => p.includes('<ns3:Speed>') && p.includes('<ns3:RunCadence>') && p.includes('<HeartRateBpm>'));
    const firstSpeed = Number(/<ns3:Speed>([^<]+)</.exec(points[k]!)![1]);
    const firstHr = Number(/<HeartRateBpm>\s*<Value>([^<]+)</.exec(points[k]!)![1]);
    const firstCadence = Number(/<ns3:RunCadence>([^<]+)</.exec(points[k]!)![1]);
    expect(run.samples.length).toBe(points.length);
    const laps = text.match(/<Lap StartTime=/g)!.length;
    expect(run.samples.speed[k]).toBeCloseTo(firstSpeed, 9);
    expect(run.samples.hr[k]).toBe(firstHr);
    expect(run.samples.cadence[k]).toBe(2 * firstCadence);
    expect(run.meta.laps).toHaveLength(laps);
    expect(run.events.filter((e) => e.type === 'lap')).toHaveLength(laps - 1);
    expect(run.warnings.map((w) => w.code)).not.toContain('speed_from_distance');
  });

  it('a TCX without speed: speed derived from DistanceMeters, pauses from the gaps', () => {
    const run = decodeActivitySync(xmlFixture(XML_FIXTURES.tcxPlain));
    checkRun(run);
    expect(run.warnings.map((w) => w.code)).toContain('speed_from_distance');
    const mean = (run.meta.distanceM! / run.meta.timerS);
    expect(median(Array.from(run.samples.speed).filter((v) => !Number.isNaN(v)))).toBeGreaterThan(mean * 0.7);
    expect(run.meta.pauses.length).toBeGreaterThan(0);
    expect(run.meta.timerS).toBeLessThan(run.meta.elapsedS);
    for (const p of run.meta.pauses) expect(p.endT - p.startT).toBeGreaterThan(3);
  });

  it.each(Object.values(XML_FIXTURES))('%s.gz decodes to the same run; the name does not decide the format', (name) => {
    const bytes = xmlFixture(name);
    const plain = decodeActivitySync(bytes);
    const gz = decodeActivityDetailed(gzipSync(bytes), { fileName: 'upload.fit' });
    expect(gz.gzipped).toBe(true);
    expect(gz.run.samples).toEqual(plain.samples);
    expect(gz.run.meta).toEqual(plain.meta);
    expect(gz.run.warnings.map((w) => w.code)).toContain('name_mismatch');
  });

  it('FIT through the dispatcher is decodeFit, gzipped or not', async () => {
    const bytes = fixture('dtcooper__python-fitparse/garmin-fenix-5-run.fit');
    const direct = await decodeFit(bytes);
    const viaGz = await decodeActivity(gzipSync(bytes));
    expect(viaGz.samples).toEqual(direct.samples);
    expect(viaGz.meta).toEqual(direct.meta);
    expect(hasPosition(direct.samples)).toBe(true);
  });

  it('a file cut short keeps its complete points, with a truncated warning', () => {
    const bytes = xmlFixture(XML_FIXTURES.gpxHrOnly);
    const full = decodeActivitySync(bytes);
    for (const at of [0.3, 0.5, 0.77]) {
      const cut = decodeActivitySync(bytes.subarray(0, Math.floor(bytes.length * at)));
      checkRun(cut);
      expect(cut.warnings.map((w) => w.code)).toContain('truncated');
      expect(cut.samples.length).toBeLessThan(full.samples.length);
      expect(Array.from(cut.samples.hr)).toEqual(Array.from(full.samples.hr.subarray(0, cut.samples.length)));
    }
  });

  it('a truncated gzip keeps what it holds', () => {
    const gz = gzipSync(xmlFixture(XML_FIXTURES.tcxPlain));
    const run = decodeActivitySync(gz.subarray(0, Math.floor(gz.length * 0.6)));
    checkRun(run);
    expect(run.warnings.map((w) => w.code)).toContain('truncated');
  });
});

describe('coded refusals', () => {
  const gpx = (body: string) => enc(`<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">${body}</gpx>`);
  const point = (s: number) => `<trkpt lat="47.1" lon="8.5"><time>2025-01-01T10:00:${String(s).padStart(2, '0')}Z</time></trkpt>`;

  it('empty, unknown, too short: the FIT codes, as before', () => {
    expect(codeOf(new Uint8Array(0))).toBe('FIT_EMPTY');
    expect(codeOf(enc('just some text, not an activity'))).toBe('FIT_NOT_FIT');
    expect(codeOf(gzipSync(enc('plain text inside gzip')))).toBe('FIT_NOT_FIT');
  });

  it('XML that is not an activity, or has no timed points', () => {
    expect(codeOf(enc('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'))).toBe('XML_UNSUPPORTED');
    expect(codeOf(gpx('<wpt lat="1" lon="2"/><rte><rtept lat="1" lon="2"/></rte>'))).toBe('GPX_NO_POINTS');
    expect(codeOf(gpx('<trk><trkseg><trkpt lat="1" lon="2"/><trkpt lat="1.1" lon="2"/></trkseg></trk>'))).toBe('GPX_NO_POINTS');
    expect(codeOf(enc('<TrainingCenterDatabase><Courses><Course><Name>x</Name></Course></Courses></TrainingCenterDatabase>'))).toBe('TCX_NO_POINTS');
    expect(codeOf(enc('<?xml version="1.0"?>'))).toBe('XML_MALFORMED');
    expect(codeOf(enc('<gpx'))).toBe('XML_MALFORMED');
    expect(codeOf(gpx(`<trk><trkseg>${point(0)}${point(1)}</trkseg></trk>`))).toBe('decoded');
  });

  it('an entity bomb (billion laughs) is refused before parsing; no entity is ever expanded', () => {
    const lol = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, k) => `<!ENTITY lol${k + 1} "${`&lol${k};`.repeat(10)}">`)].join('');
    const bomb = enc(`<?xml version="1.0"?><!DOCTYPE gpx [${lol}]><gpx><trk><name>&lol9;</name><trkseg>${point(0)}</trkseg></trk></gpx>`);
    expect(codeOf(bomb)).toBe('XML_ENTITIES');
    const external = enc(`<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]><gpx><trk><name>&x;</name></trk></gpx>`);
    expect(codeOf(external)).toBe('XML_ENTITIES');
    // A DOCTYPE without declarations is harmless; references stay text (only the predefined ones are decoded).
    const run = decodeActivitySync(enc(`<!DOCTYPE gpx><gpx creator="A &amp; B &x;"><trk><trkseg>${point(0)}${point(1)}</trkseg></trk></gpx>`));
    expect(run.meta.product).toBe('A & B &x;');
  });

  it('deep nesting is refused', () => {
    expect(codeOf(gpx(`${'<extensions>'.repeat(5000)}${'</extensions>'.repeat(5000)}`))).toBe('XML_TOO_DEEP');
  });

  it('size limits: XML before parsing, gzip while decompressing (a zip bomb stops at the limit)', () => {
    const body = xmlFixture(XML_FIXTURES.gpxHrOnly);
    expect(codeOf(body, 10_000)).toBe('XML_TOO_LARGE');
    const bomb = gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20)); // 80 MiB of spaces in about 80 KB
    expect(bomb.length).toBeLessThan(200_000);
    expect(codeOf(bomb)).toBe('GZIP_TOO_LARGE'); // default limit 64 MiB
    expect(codeOf(gzipSync(body), 10_000)).toBe('GZIP_TOO_LARGE');
    expect(codeOf(gzipSync(gzipSync(body)))).toBe('GZIP_BAD');
    const corrupt = gzipSync(body);
    corrupt.fill(0x55, 20, 60);
    expect(codeOf(corrupt)).toBe('GZIP_BAD');
  });
});

export type { NormalizedRun };

describe('cadence units', () => {
  const tcx = (cadence: number[]) =>
    enc(
      `<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap StartTime="2025-01-01T10:00:00Z"><Track>${cadence
        .map((c, i) => `<Trackpoint><Time>2025-01-01T10:00:${String(i).padStart(2, '0')}Z</Time><Cadence>${c}</Cadence></Trackpoint>`)
        .join('')}</Track></Lap></Activity></Activities></TrainingCenterDatabase>`,
    );

  it('strides/min of one leg (what Garmin writes) are doubled to steps/min', () => {
    const run = decodeActivitySync(tcx([0, 84, 86, 88, 90]));
    expect(Array.from(run.samples.cadence)).toEqual([0, 168, 172, 176, 180]);
    expect(run.warnings.map((w) => w.code)).not.toContain('cadence_steps');
  });

  it('a file that already counts steps/min (values too high for strides) is kept as it is, with a warning', () => {
    const run = decodeActivitySync(tcx([0, 168, 172, 176, 180]));
    expect(Array.from(run.samples.cadence)).toEqual([0, 168, 172, 176, 180]);
    expect(run.warnings.map((w) => w.code)).toContain('cadence_steps');
  });
});
