#!/usr/bin/env node
/**
 * Prints the athlete model learned from a directory of one runner's activity files (FIT, GPX or TCX), and how it
 * changes that runner's prompts: every run is analysed twice in start order, once with an empty profile (what a
 * runner who never filled one gets without the model) and once with the profile merged from the model of the
 * runs before it (what the server does). Uses the build (dist/): run `npx tsc -p tsconfig.build.json` first.
 *
 *   node scripts/athlete-model.mjs DIR [--json]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url);
const { decodeActivitySync } = await import(new URL('ingest/decode.js', dist).href);
const { analyzeRun } = await import(new URL('alerts/engine.js', dist).href);
const { summarizeRun } = await import(new URL('src/athlete/summary.js', dist).href);
const { foldModel, MODEL_VERSION } = await import(new URL('src/athlete/model.js', dist).href);
const { mergeProfile, learnedNote } = await import(new URL('src/athlete/profile-merge.js', dist).href);

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/athlete-model.mjs DIR [--json]');
  process.exit(2);
}
const asJson = process.argv.includes('--json');

const runs = [];
const skipped = [];
for (const name of readdirSync(dir).filter((f) => /\.(fit|gpx|tcx)(\.gz)?$/i.test(f)).sort()) {
  try {
    const run = decodeActivitySync(new Uint8Array(readFileSync(join(dir, name))), { fileName: name });
    runs.push({ name, run, summary: summarizeRun(run) });
  } catch (err) {
    skipped.push(`${name}: ${err.code ?? 'ERROR'} ${err.message}`);
  }
}
runs.sort((a, b) => (a.summary.startMs ?? 0) - (b.summary.startMs ?? 0) || (a.name < b.name ? -1 : 1));
const rows = runs.map((r) => ({ runId: r.name, summary: r.summary }));
const model = foldModel(rows);

// Prompts with and without the model, each run against the model of the runs before it.
const causes = {};
let withoutTotal = 0;
let withTotal = 0;
for (let i = 0; i < runs.length; i++) {
  const before = foldModel(rows.slice(0, i));
  const plain = analyzeRun(runs[i].run, {});
  const learned = analyzeRun(runs[i].run, { profile: mergeProfile({}, before) });
  for (const [key, report] of [['without', plain], ['with', learned]]) {
    for (const a of report.alerts) {
      causes[a.cause] ??= { without: 0, with: 0 };
      causes[a.cause][key]++;
    }
  }
  withoutTotal += plain.alerts.length;
  withTotal += learned.alerts.length;
}

if (asJson) {
  console.log(JSON.stringify({ dir, runs: runs.length, skipped, model, prompts: { without: withoutTotal, with: withTotal, causes } }, null, 2));
  process.exit(0);
}

const fmtPace = (mps) => {
  const s = Math.round(1000 / mps);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} /km`;
};
const line = (label, l, show) => console.log(`| ${label} | ${l ? show(l.value) : '—'} | ${l ? learnedNote(l) : 'not learned'} |`);
console.log(`Athlete model v${MODEL_VERSION} (key ${model.key}) from ${runs.length} runs in ${dir}${skipped.length ? `, ${skipped.length} files skipped` : ''}; as of ${model.asOf}`);
console.log('');
console.log('| value | learned | rests on |');
console.log('|---|---|---|');
line('usual long run', model.usualLongRunMin, (v) => `${v} min`);
line('easy pace', model.easyPaceMps, fmtPace);
line('efficiency at easy HR', model.easyEfficiency, (v) => `${v} m/min per bpm`);
line('HRmax seen', model.hrMax, (v) => `${v} bpm`);
line('threshold HR', model.lthr, (v) => `${v} bpm`);
line('threshold pace', model.thresholdPaceMps, fmtPace);
line('critical speed', model.criticalSpeedMps, (v) => `${fmtPace(v)} (D′ ${model.dPrimeM} m)`);
line('cadence', model.cadence, (v) => `${v} spm at ${model.cadence.atSpeedMps} m/s${model.cadence.slopePerMps !== null ? ` (${model.cadence.slopePerMps} spm per m/s)` : ''}`);
console.log(`| load ratio (7 d : 28 d) | ${model.loadRatio ? `${model.loadRatio.ratio} (${model.loadRatio.acute} vs ${model.loadRatio.chronic} per week)` : '—'} | TRIMP, or minutes where HR is missing |`);
console.log('');
const recent = model.weeks.slice(-8);
console.log(`Last ${recent.length} weeks with runs: ${recent.map((w) => `${w.week} ${w.runs}× ${w.distanceKm.toFixed(1)} km (longest ${Math.round(w.longestMin)} min)`).join('; ')}`);
console.log(`Mean-maximal pace curve: ${Object.entries(model.mmp).map(([d, v]) => `${Number(d) / 60} min ${fmtPace(v)}`).join(', ')}`);
console.log('');
console.log(`Prompts over all ${runs.length} runs (each against the model of the runs before it): ${withoutTotal} with an empty profile, ${withTotal} with the learned one`);
console.log('');
console.log('| cause | empty profile | learned profile |');
console.log('|---|---|---|');
for (const [cause, n] of Object.entries(causes).sort()) console.log(`| ${cause} | ${n.without} | ${n.with} |`);
if (skipped.length) {
  console.log('');
  for (const s of skipped) console.log(`skipped ${s}`);
}
