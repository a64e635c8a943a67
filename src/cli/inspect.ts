/**
 * `crampguard inspect FILE.fit`: a short human summary (device, sport, start, duration, distance,
 * channels, laps, pauses, legs, warnings). Bad input prints `{"error":{"code","message"}}` and exits 1.
 * @module
 */
import { decodeFitFile, errorJson } from '../../ingest/fit-file.js';
import type { NormalizedRun } from '../../ingest/sample.js';

function duration(s: number): string {
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function summarize(file: string, run: NormalizedRun): string {
  const { meta } = run;
  const sport = [meta.sport ?? 'unknown sport', meta.subSport].filter((x) => x !== null && x !== 'generic').join(' / ');
  const lines = [
    `file:      ${file}`,
    `device:    ${[meta.manufacturer, meta.product].filter((x) => x !== null).join(' ') || 'unknown'}`,
    `sport:     ${sport}`,
    `start:     ${meta.startTime ?? 'unknown'}`,
    `duration:  ${duration(meta.elapsedS)} elapsed, ${duration(meta.timerS)} moving`,
    `distance:  ${meta.distanceM === null ? 'unknown' : `${(meta.distanceM / 1000).toFixed(2)} km`}`,
    `samples:   ${run.samples.length}${run.rr ? `, ${run.rr.ms.length} RR intervals` : ''}`,
    `channels:  ${run.channels.join(', ') || 'none'}`,
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
  const file = argv.find((a) => !a.startsWith('-'));
  if (file === undefined || argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write('usage: crampguard inspect FILE.fit   (short summary of a FIT file)\n');
    return file === undefined ? 2 : 0;
  }
  try {
    process.stdout.write(summarize(file, await decodeFitFile(file)));
    return 0;
  } catch (err) {
    process.stdout.write(`${JSON.stringify(errorJson(err))}\n`);
    return 1;
  }
}
