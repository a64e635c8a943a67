#!/usr/bin/env node
// A coach's view of a recorded activity: one line per interval (60 s by default) with mean HR, pace, cadence,
// altitude, distance so far and the climb over the interval, plus the laps and pauses, so that the prompts a
// coach would give can be decided from the trace itself (docs/evaluation.md). Uses the built modules (dist/):
// FIT through ingest/fit-file.js; GPX and TCX through the format dispatcher once the build has one.
// usage (after `npx tsc -p tsconfig.build.json`): node scripts/eval/trace.mjs FILE [--step S] [--prompts]
//   --step S   seconds per line (default 60)
//   --prompts  also print the engine's prompts (defaults, no profile) at the line they fall in
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;

/** The decoder for a path: FIT always; GPX/TCX when the build has the format dispatcher (dist/ingest/decode.js), else null. */
export async function decoderFor(path) {
  if (/\.fit$/i.test(path)) return (await import(dist('ingest/fit-file.js'))).decodeFitFile;
  if (!existsSync(join(root, 'dist', 'ingest', 'decode.js'))) return null;
  const m = await import(dist('ingest/decode.js'));
  if (typeof m.decodeActivity !== 'function') return null;
  return async (p) => m.decodeActivity(new Uint8Array(await readFile(p)));
}

const hms = (s) => `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const pace = (v) => (v > 0.3 ? `${Math.floor(1000 / v / 60)}:${String(Math.round((1000 / v) % 60)).padStart(2, '0')}` : '  -  ');

/** Lines of the trace of a decoded run (NormalizedRun), `step` seconds each. */
export function traceLines(run, step = 60, alerts = []) {
  const c = run.samples;
  const out = [];
  const n = c.length ?? c.t.length;
  const end = n ? c.t[n - 1] : 0;
  let i = 0;
  let lastAlt = NaN;
  for (let t0 = 0; t0 <= end; t0 += step) {
    let hr = 0, hn = 0, hmax = 0, sp = 0, sn = 0, cd = 0, cn = 0, alt = NaN, dist = NaN, rs = 0, rn = 0, tc = NaN;
    for (; i < n && c.t[i] < t0 + step; i++) {
      if (c.hr[i] === c.hr[i]) { hr += c.hr[i]; hn++; if (c.hr[i] > hmax) hmax = c.hr[i]; }
      if (c.speed[i] === c.speed[i]) { sp += c.speed[i]; sn++; }
      if (c.cadence[i] === c.cadence[i]) { cd += c.cadence[i]; cn++; }
      if (c.altitude[i] === c.altitude[i]) alt = c.altitude[i];
      if (c.distance[i] === c.distance[i]) dist = c.distance[i];
      if (c.respiration[i] === c.respiration[i]) { rs += c.respiration[i]; rn++; }
      if (c.temperature[i] === c.temperature[i]) tc = c.temperature[i];
    }
    const climb = alt === alt && lastAlt === lastAlt ? alt - lastAlt : NaN;
    if (alt === alt) lastAlt = alt;
    const said = alerts.filter((a) => a.t >= t0 && a.t < t0 + step).map((a) => `  << ${a.kind}/${a.cause}: ${a.message}`).join('');
    out.push(
      `${hms(t0)} hr=${hn ? Math.round(hr / hn) : '-'}${hn ? `(${Math.round(hmax)})` : ''} pace=${sn ? pace(sp / sn) : '-'} cad=${cn ? Math.round(cd / cn) : '-'}` +
        ` alt=${alt === alt ? Math.round(alt) : '-'}${climb === climb ? `(${climb >= 0 ? '+' : ''}${Math.round(climb)})` : ''}` +
        ` km=${dist === dist ? (dist / 1000).toFixed(2) : '-'}${rn ? ` resp=${Math.round(rs / rn)}` : ''}${tc === tc ? ` T=${Math.round(tc)}` : ''}${said}`,
    );
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const stepAt = args.indexOf('--step');
  const step = stepAt >= 0 ? Number(args[stepAt + 1]) : 60;
  const withPrompts = args.includes('--prompts');
  const files = args.filter((a, k) => !a.startsWith('--') && (stepAt < 0 || k !== stepAt + 1));
  if (!files.length || !(step > 0)) {
    console.error('usage: node scripts/eval/trace.mjs FILE… [--step S] [--prompts]');
    process.exit(2);
  }
  for (const f of files) {
    const decode = await decoderFor(f);
    if (!decode) { console.log(`## ${f}: format not supported yet by this build`); continue; }
    let run;
    try { run = await decode(f); } catch (e) { console.log(`## ${f}: ${e.code ?? 'ERROR'} ${e.message}`); continue; }
    let alerts = [];
    if (withPrompts) alerts = (await import(dist('alerts/engine.js'))).analyzeRun(run, {}).alerts;
    const legs = (run.meta.legs ?? []).map((l) => `${l.sport}${l.running ? '*' : ''}`).join(',');
    const laps = run.events.filter((e) => e.type === 'lap').map((e) => hms(e.t));
    const pauses = run.events.filter((e) => e.type === 'pause').map((e) => hms(e.t));
    console.log(`## ${f}  sport=${run.meta.sport}/${run.meta.subSport ?? ''} legs=${legs}`);
    console.log(`   laps at ${laps.join(' ') || 'none'}; pauses at ${pauses.join(' ') || 'none'}`);
    for (const line of traceLines(run, step, alerts)) console.log(`  ${line}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
