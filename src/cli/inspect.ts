/**
 * `crampguard inspect FILE`: a short human summary of an activity file (FIT, GPX, TCX, gzipped or not; `-` reads
 * stdin): format, device, sport, start, duration, distance, channels, laps, pauses, legs, warnings. Bad input
 * prints `{"error":{"code","message"}}` on stderr and exits 1.
 * @module
 */
import { basename } from 'node:path';
import { readActivityFile, errorJson } from '../../ingest/activity-file.js';
import { decodeActivityDetailed } from '../../ingest/decode.js';
import { hasPosition } from '../../ingest/sample.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { parseCommand, usageError } from './args.js';

const USAGE = `usage: crampguard inspect FILE   (FIT, GPX or TCX, gzipped or not; - reads stdin)
  a short summary: format, device, sport, start, duration, distance, channels, laps, pauses, warnings
`;

function duration(s: number): string {
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function summarize(file: string, run: NormalizedRun, format?: string): string {
  const { meta } = run;
  const sport = [meta.sport ?? 'unknown sport', meta.subSport].filter((x) => x !== null && x !== 'generic').join(' / ');
  const lines = [
    `file:      ${file}`,
    ...(format === undefined ? [] : [`format:    ${format}`]),
    `device:    ${[meta.manufacturer, meta.product].filter((x) => x !== null).join(' ') || 'unknown'}`,
    `sport:     ${sport}`,
    `start:     ${meta.startTime ?? 'unknown'}`,
    `duration:  ${duration(meta.elapsedS)} elapsed, ${duration(meta.timerS)} moving`,
    `distance:  ${meta.distanceM === null ? 'unknown' : `${(meta.distanceM / 1000).toFixed(2)} km`}`,
    `samples:   ${run.samples.length}${run.rr ? `, ${run.rr.ms.length} RR intervals` : ''}`,
    `channels:  ${run.channels.join(', ') || 'none'}${hasPosition(run.samples) ? '; positions' : ''}`,
    `laps:      ${meta.laps.length}    pauses: ${meta.pauses.length}`,
  ];
  if (meta.legs.length > 1) {
    const legs = meta.legs.map((l) => `${l.sport ?? '?'} ${duration(l.endT - l.startT)}${l.running ? ' (analysed)' : ''}`);
    lines.push(`legs:      ${legs.join(' | ')}`);
  }
  if (run.warnings.length === 0) lines.push('warnings:  none');
  else {
    lines.push('warnings:');
    for (const w of run.warnings) lines.push(`  ${w.code}${w.count !== undefined && w.count > 1 ? ` ×${w.count}` : ''}: ${w.message}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('inspect', USAGE, argv, {});
  if (typeof args === 'number') return args;
  const [file, ...extra] = args.positionals;
  if (file === undefined) return usageError('inspect', 'NO_FILES', 'no file given', USAGE);
  if (extra.length > 0) return usageError('inspect', 'TOO_MANY_FILES', 'one file at a time', USAGE);
  try {
    const bytes = await readActivityFile(file);
    const { run, format, gzipped } = decodeActivityDetailed(bytes, file === '-' ? {} : { fileName: basename(file) });
    process.stdout.write(summarize(file, run, `${format.toUpperCase()}${gzipped ? ' (gzip)' : ''}`));
    return 0;
  } catch (err) {
    process.stderr.write(`${JSON.stringify(errorJson(err))}\n`);
    return 1;
  }
}
