/**
 * `crampguard samples FILE`: an activity file's (FIT, GPX, TCX, gzipped or not; `-` reads stdin) normalised
 * samples as NDJSON, one object per record, keys t, timestamp, hr, cadence, speed, distance, altitude,
 * temperature, respiration, and lat, lon for a run with positions (null where missing; timestamp as an ISO 8601
 * UTC string). Bad input prints `{"error":{"code","message"}}` on stderr and exits 1.
 * @module
 */
import { decodeActivityFile, errorJson } from '../../ingest/activity-file.js';
import { hasPosition } from '../../ingest/sample.js';
import type { SampleColumns } from '../../ingest/sample.js';
import { parseCommand, usageError } from './args.js';

const USAGE = `usage: crampguard samples FILE   (FIT, GPX or TCX, gzipped or not; - reads stdin)
  NDJSON on stdout, one object per record; null where a channel is missing
`;

/** Output is written in chunks of about this many characters, waiting for the pipe to drain. */
const CHUNK_CHARS = 1 << 16;

/** Milli-unit precision: FIT's scaled integers (altitude /5 − 500) print as 123.4, not 123.39999999. */
function fmt(v: number): string {
  return Number.isNaN(v) ? 'null' : String(Math.round(v * 1000) / 1000);
}

/** Degrees to 1e-7 (about 1 cm), what FIT's semicircles and GPX files carry. */
function deg(v: number): string {
  return Number.isNaN(v) ? 'null' : String(Math.round(v * 1e7) / 1e7);
}

export function sampleLine(s: SampleColumns, i: number, position = false): string {
  const ts = s.timestamp[i]!;
  return (
    `{"t":${fmt(s.t[i]!)},"timestamp":${Number.isNaN(ts) ? 'null' : `"${new Date(ts).toISOString()}"`}` +
    `,"hr":${fmt(s.hr[i]!)},"cadence":${fmt(s.cadence[i]!)},"speed":${fmt(s.speed[i]!)}` +
    `,"distance":${fmt(s.distance[i]!)},"altitude":${fmt(s.altitude[i]!)}` +
    `,"temperature":${fmt(s.temperature[i]!)},"respiration":${fmt(s.respiration[i]!)}` +
    `${position ? `,"lat":${deg(s.lat[i]!)},"lon":${deg(s.lon[i]!)}` : ''}}\n`
  );
}

/**
 * Writes chunks with backpressure. A reader that goes away (`| head`) ends the output quietly: the
 * error listener stays attached for the whole run because EPIPE can arrive after a write completed.
 */
function chunkWriter(out: NodeJS.WritableStream): (chunk: string) => Promise<boolean> {
  let closed = false;
  let waiting: ((open: boolean) => void) | null = null;
  const release = (open: boolean): void => {
    const resolve = waiting;
    waiting = null;
    resolve?.(open);
  };
  out.on('error', () => {
    closed = true;
    release(false);
  });
  out.on('drain', () => release(!closed));
  return (chunk) =>
    new Promise((resolve) => {
      if (closed) resolve(false);
      else if (out.write(chunk)) resolve(true);
      else waiting = resolve;
    });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('samples', USAGE, argv, {});
  if (typeof args === 'number') return args;
  const [file, ...extra] = args.positionals;
  if (file === undefined) return usageError('samples', 'NO_FILES', 'no file given', USAGE);
  if (extra.length > 0) return usageError('samples', 'TOO_MANY_FILES', 'one file at a time', USAGE);
  let samples: SampleColumns;
  try {
    samples = (await decodeActivityFile(file)).samples;
  } catch (err) {
    process.stderr.write(`${JSON.stringify(errorJson(err))}\n`);
    return 1;
  }
  const position = hasPosition(samples);
  const write = chunkWriter(process.stdout);
  let chunk = '';
  for (let i = 0; i < samples.length; i++) {
    chunk += sampleLine(samples, i, position);
    if (chunk.length >= CHUNK_CHARS) {
      if (!(await write(chunk))) return 0;
      chunk = '';
    }
  }
  if (chunk !== '') await write(chunk);
  return 0;
}
