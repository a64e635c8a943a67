#!/usr/bin/env node
// The real-run evaluation (docs/evaluation.md): every real activity file available is analysed by the CLI
// (`crampguard analyze FILE… --json`, defaults, no profile unless a label says otherwise), then
//  1. the rule checks of ../shared/eval/real-rules.mjs on every file: no crash; no prompt on a non-running file;
//     advised drinks never add up past the engine's own loss estimate (its `fluid` series) nor 800 ml/h; advised
//     sodium never past its sodium-loss estimate; at most 6 prompts an hour; fatigue prompts (slow_down, breathe,
//     cramp_care) at most 0.2 an hour on easy and steady runs;
//  2. the coach's labels of fixtures/real-labels.json, scored like ../shared/eval/score-scenarios.mjs scores the
//     synthetic scenarios (same expectations format).
// Files: fixtures/fit/**, ../shared/fit/** and ../shared/realruns/** (../shared relative to the repo root; a folder
// that is absent is skipped with a note). A GPX or TCX file that the CLI refuses as not FIT counts as "format
// not supported yet", so those files are picked up by themselves once `crampguard analyze` reads them.
// usage: node scripts/eval/real.mjs [--fast] [--report-only] [--json | --markdown] [--verbose] [--only SUBSTRING]
//   --fast         only the labelled files marked "fast" (the subset `npm test` runs, tests/eval/real-runs.test.ts)
//   --report-only  always exit 0 (otherwise the exit status is 1 when a rule or a label fails)
//   --json         print one JSON object with every result instead of the table
//   --markdown     print the table and totals as Markdown (for docs/evaluation.md)
//   --verbose      print every label check, not only the failed ones
//   --only S       only the files whose key contains S
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueActivityFiles } from './activity-files.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const LABELS_PATH = join(ROOT, 'fixtures', 'real-labels.json');
const BIN = join(ROOT, 'bin', 'crampguard.js');

export const FATIGUE_KINDS = ['slow_down', 'breathe', 'cramp_care'];
export const KINDS = ['slow_down', 'breathe', 'hydrate', 'electrolytes', 'cramp_care'];
const MAX_PROMPTS_PER_H = 6;
const MAX_DRINK_ML_PER_H = 800;
const MAX_EASY_FATIGUE_PER_H = 0.2;
const EASY_SESSIONS = ['easy', 'steady', 'recovery'];

const hms = (s) => `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** Sports per file from the MANIFEST.tsv files (the source's own word, not the engine's). */
function manifestSports() {
  const sports = new Map();
  for (const [dir, column] of [['fit', 'sport'], ['realruns', 'sport']]) {
    const p = join(SHARED, dir, 'MANIFEST.tsv');
    if (!existsSync(p)) continue;
    const [head, ...rows] = readFileSync(p, 'utf8').trim().split('\n');
    const cols = head.split('\t');
    const fileCol = cols.indexOf(dir === 'fit' ? 'file' : 'local_path');
    const sportCol = cols.indexOf(column);
    for (const row of rows) {
      const c = row.split('\t');
      sports.set(`${dir}/${c[fileCol]}`, c[sportCol] || '');
    }
  }
  return sports;
}

/** True when the source names running (or a running leg) for the file. */
export const isRunningSport = (sport) => /(^|[/+])(running|trail|treadmill|track)/i.test(sport ?? '');

/** Every real activity file: [{key, path, sport}], deduplicated by content (fixtures/fit are copies of ../shared/fit). */
export function realFiles(notes = []) {
  const sports = manifestSports();
  const fixturesFit = join(ROOT, 'fixtures', 'fit');
  return uniqueActivityFiles(
    [
      [join(SHARED, 'fit'), (p) => relative(SHARED, p), 'shared/fit'],
      [join(SHARED, 'realruns'), (p) => relative(SHARED, p), 'shared/realruns'],
      [fixturesFit, (p) => `fit/${relative(fixturesFit, p)}`, 'fixtures/fit'],
    ],
    notes,
  ).map((f) => ({ ...f, sport: sports.get(f.key) ?? null }));
}

/** The CLI's JSON report lines for some files, with the same options; a file without a line is a crash. */
function analyzeBatch(paths, extra) {
  return new Promise((done) => {
    execFile('node', [BIN, 'analyze', ...paths, '--json', ...extra], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 600_000 }, (err, stdout, stderr) => {
      const byFile = new Map();
      for (const line of String(stdout ?? '').split('\n')) {
        if (!line.startsWith('{')) continue;
        try { const r = JSON.parse(line); byFile.set(r.file, r); } catch { /* a half-written line: that file crashed */ }
      }
      done({ byFile, err, stderr: String(stderr ?? '') });
    });
  });
}

async function analyzeAll(jobs, concurrency = 2, batch = 8) {
  // Jobs with the same options share CLI runs of up to `batch` files; a batch that dies is rerun file by file.
  const groups = new Map();
  for (const j of jobs) {
    const k = j.extra.join('\u0000');
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(j);
  }
  const chunks = [];
  for (const g of groups.values()) for (let i = 0; i < g.length; i += batch) chunks.push(g.slice(i, i + batch));
  const results = new Map();
  const runChunk = async (chunk) => {
    const { byFile, stderr } = await analyzeBatch(chunk.map((j) => j.path), chunk[0].extra);
    const missing = chunk.filter((j) => !byFile.has(j.path));
    for (const j of chunk) if (byFile.has(j.path)) results.set(j.id, byFile.get(j.path));
    if (missing.length === 1 || (missing.length && chunk.length === 1)) {
      results.set(missing[0].id, { crash: stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'no output' });
    } else if (missing.length) {
      for (const j of missing) await runChunk([j]);
    }
  };
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < chunks.length) await runChunk(chunks[next++]); }));
  return results;
}

/** The amount of a prompt: its data field when it has one, else the number in its text. */
export function amountOf(a, unit) {
  const f = unit === 'ml' ? a.amountMl : (a.sodiumMg ?? a.amountMg);
  if (Number.isFinite(f)) return f;
  const m = new RegExp(`~?\\s*(\\d+)\\s*${unit}`, 'i').exec(`${a.message ?? ''} `);
  return m ? Number(m[1]) : 0;
}

/**
 * Hours of running in a report: the engine's own moving time of the running legs where it reports one (a file with
 * a clock jump claims a moving time of years), else the file's moving time.
 */
export function hoursOf(r) {
  const s = Number.isFinite(r.metrics?.engineMovingTimeS) ? r.metrics.engineMovingTimeS : (r.movingTimeS ?? r.durationS ?? 0);
  return s / 3600;
}

/** The rule checks of one analysed file: [{rule, ok, detail}]. */
export function ruleChecks(r, { running, session }) {
  const hours = hoursOf(r);
  const alerts = (r.alerts ?? []).slice().sort((a, b) => a.t - b.t);
  const checks = [];
  const add = (rule, ok, detail) => checks.push({ rule, ok, detail });
  if (!running) add('no prompt on a non-running file', alerts.length === 0, `${alerts.length} prompts`);
  const perH = hours > 0 ? alerts.length / hours : 0;
  if (hours > 0.33) add('at most 6 prompts an hour', perH <= MAX_PROMPTS_PER_H, `${perH.toFixed(1)}/h`);
  let cum = 0;
  let overLoss = null;
  let overRate = null;
  const first = alerts[0]?.t ?? 0;
  for (const a of alerts.filter((x) => x.kind === 'hydrate')) {
    cum += amountOf(a, 'ml');
    const pt = (r.fluid ?? []).filter((x) => x.t <= a.t + 10).at(-1);
    const loss = pt ? pt.deficitMl : (r.metrics?.estSweatLossMl ?? Infinity);
    if (overLoss === null && cum > loss + 50) overLoss = `${cum} ml advised by ${hms(a.t)} against ${Math.round(loss)} ml estimated`;
    if (overRate === null && cum > MAX_DRINK_ML_PER_H * Math.max(1, (a.t - first) / 3600) + 250) overRate = `${cum} ml advised by ${hms(a.t)}`;
  }
  add('drinks within own loss estimate', overLoss === null, overLoss ?? `${cum} ml advised`);
  add('drinks within 800 ml/h', overRate === null, overRate ?? `${cum} ml advised`);
  const sodium = alerts.filter((a) => a.kind === 'electrolytes').reduce((s, a) => s + amountOf(a, 'mg'), 0);
  const naLoss = r.metrics?.estSodiumLossMg ?? Infinity;
  add('sodium within own loss estimate', sodium <= naLoss + 50, `${sodium} mg advised against ${Number.isFinite(naLoss) ? Math.round(naLoss) : '?'} mg`);
  return checks;
}

/**
 * Fatigue prompts on easy and steady runs, at most 0.2 an hour over all of them together: one justified drift
 * prompt in an 80-minute steady run is 0.75/h on its own, so the rate is a property of the set, not of one file.
 * rows: [{running, session, hours, fatigue}] → {rule, ok, detail}.
 */
export function easyFatigueCheck(rows) {
  const easy = rows.filter((r) => r.running && EASY_SESSIONS.includes(r.session) && r.hours > 0);
  const hours = easy.reduce((s, r) => s + r.hours, 0);
  const prompts = easy.reduce((s, r) => s + r.fatigue, 0);
  const rate = hours > 0 ? prompts / hours : 0;
  return {
    rule: 'fatigue prompts on easy and steady runs ≤ 0.2/h',
    ok: rate <= MAX_EASY_FATIGUE_PER_H,
    detail: `${prompts} over ${hours.toFixed(1)} h of ${easy.length} easy or steady runs: ${rate.toFixed(2)}/h`,
  };
}

/** One label check scored like ../shared/eval/score-scenarios.mjs: {ok, problems, seen}. */
export function scoreCheck(r, x) {
  const alerts = Array.isArray(r.alerts) ? r.alerts : [];
  const hours = Math.max(1 / 60, (r.durationS ?? 3600) / 3600);
  const from = x.from ?? 0;
  const to = x.to ?? Infinity;
  const mine = alerts.filter((a) => (x.kind === '*' || a.kind === x.kind) && a.t >= from && a.t < to).sort((a, b) => a.t - b.t);
  const problems = [];
  if (x.min !== undefined && mine.length < x.min) problems.push(`${mine.length} < min ${x.min}`);
  if (x.max !== undefined && mine.length > x.max) problems.push(`${mine.length} > max ${x.max}`);
  if (x.minGapS !== undefined) {
    for (let i = 1; i < mine.length; i++) {
      if (mine[i].t - mine[i - 1].t < x.minGapS) { problems.push(`gap ${Math.round(mine[i].t - mine[i - 1].t)} s < ${x.minGapS} s`); break; }
    }
  }
  if (x.maxPerHour !== undefined && mine.length / hours > x.maxPerHour) problems.push(`${(mine.length / hours).toFixed(1)}/h > ${x.maxPerHour}/h`);
  return { ok: problems.length === 0, problems, seen: mine.map((a) => `${hms(a.t)} ${a.kind}/${a.cause ?? '?'}`) };
}

export const describeCheck = (x) =>
  `${x.kind}${x.min !== undefined ? ` min ${x.min}` : ''}${x.max !== undefined ? ` max ${x.max}` : ''}` +
  `${x.from !== undefined || x.to !== undefined ? ` in ${hms(x.from ?? 0)}-${x.to === undefined ? 'end' : hms(x.to)}` : ''}` +
  `${x.minGapS !== undefined ? ` gap≥${x.minGapS}s` : ''}${x.maxPerHour !== undefined ? ` ≤${x.maxPerHour}/h` : ''}`;

export function loadLabels() {
  const raw = JSON.parse(readFileSync(LABELS_PATH, 'utf8'));
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('_')));
}

/** CLI options of a label (profile, conditions, session) as extra arguments. */
function labelArgs(label, tmp) {
  const extra = [];
  if (label?.profile) {
    const p = join(tmp, `${createHash('sha1').update(JSON.stringify(label.profile)).digest('hex')}.json`);
    writeFileSync(p, JSON.stringify(label.profile));
    extra.push('--profile', p);
  }
  if (label?.conditions?.tempC !== undefined) extra.push('--temp', String(label.conditions.tempC));
  if (label?.conditions?.humidity !== undefined) extra.push('--humidity', String(label.conditions.humidity));
  if (label?.analyzeSession) extra.push('--session', label.analyzeSession);
  return extra;
}

const unsupported = (path, r) => /\.(gpx|tcx)$/i.test(path) && r?.ok === false && /NOT_FIT|UNSUPPORTED|FORMAT/i.test(r.error?.code ?? '');

/** Runs the evaluation: {notes, files: [...], totals}. */
export async function evaluate({ fast = false, only = null } = {}) {
  const notes = [];
  const labels = existsSync(LABELS_PATH) ? loadLabels() : {};
  let files = existsSync(SHARED) ? realFiles(notes) : (notes.push(`skipped ${SHARED}: not present (only fixtures/fit)`), realFiles(notes));
  const byKey = new Map(files.map((f) => [f.key, f]));
  for (const k of Object.keys(labels)) if (!byKey.has(k)) notes.push(`label without a file here: ${k}`);
  if (fast) files = files.filter((f) => labels[f.key]?.fast);
  if (only) files = files.filter((f) => f.key.includes(only));
  const tmp = mkdtempSync(join(tmpdir(), 'eval-real-'));
  const jobs = [];
  for (const f of files) {
    jobs.push({ id: `${f.key}\u0000plain`, path: f.path, extra: [] });
    const extra = labelArgs(labels[f.key], tmp);
    if (labels[f.key] && extra.length) jobs.push({ id: `${f.key}\u0000label`, path: f.path, extra });
  }
  const results = await analyzeAll(jobs);
  const out = [];
  for (const f of files) {
    const r = results.get(`${f.key}\u0000plain`);
    const label = labels[f.key];
    const running = f.sport === null ? r?.sport == null || isRunningSport(r.sport) : isRunningSport(f.sport);
    const row = { key: f.key, sourceSport: f.sport, running, labelled: Boolean(label), status: 'analysed', sport: null, durationS: null, prompts: 0, perHour: 0, byKind: {}, rules: [], labels: [] };
    if (!r || r.crash) {
      row.status = 'crash';
      row.rules.push({ rule: 'no crash', ok: false, detail: r?.crash ?? 'no result' });
    } else if (unsupported(f.path, r)) {
      row.status = 'format not supported yet';
    } else if (r.ok === false) {
      row.status = `refused ${r.error?.code}`;
    } else {
      const hours = hoursOf(r);
      row.sport = r.sport ?? null;
      row.durationS = r.durationS;
      row.movingTimeS = r.movingTimeS;
      row.prompts = r.alerts.length;
      row.perHour = hours > 0 ? r.alerts.length / hours : 0;
      for (const a of r.alerts) row.byKind[a.kind] = (row.byKind[a.kind] ?? 0) + 1;
      row.fatigue = r.alerts.filter((a) => FATIGUE_KINDS.includes(a.kind)).length;
      row.fatiguePerHour = hours > 0 ? row.fatigue / hours : 0;
      row.perHourByKind = Object.fromEntries(Object.entries(row.byKind).map(([k, n]) => [k, hours > 0 ? n / hours : 0]));
      row.hours = hours;
      row.session = label?.session ?? r.sessionKind ?? null;
      row.rules = ruleChecks(r, { running, session: row.session });
    }
    if (label) {
      const lr = label.profile || label.conditions || label.analyzeSession ? results.get(`${f.key}\u0000label`) : r;
      for (const x of label.expect) {
        const base = { check: describeCheck(x), reason: x.reason ?? '' };
        if (row.status === 'format not supported yet') row.labels.push({ ...base, ok: null, problems: ['format not supported yet'], seen: [] });
        else if (!lr || lr.crash || lr.ok === false) row.labels.push({ ...base, ok: false, problems: [row.status], seen: [] });
        else row.labels.push({ ...base, ...scoreCheck(lr, x) });
      }
    }
    out.push(row);
  }
  const analysed = out.filter((r) => r.status === 'analysed');
  const runs = analysed.filter((r) => r.running);
  const hours = runs.reduce((s, r) => s + r.hours, 0);
  const labelChecks = out.flatMap((r) => r.labels);
  const easyFatigue = easyFatigueCheck(runs);
  const ruleFails = out.flatMap((r) => r.rules.filter((c) => !c.ok).map((c) => ({ key: r.key, ...c })));
  if (!easyFatigue.ok) ruleFails.push({ key: '(all easy and steady runs)', ...easyFatigue });
  const totals = {
    files: out.length,
    analysed: analysed.length,
    running: runs.length,
    nonRunning: analysed.length - runs.length,
    unsupported: out.filter((r) => r.status === 'format not supported yet').length,
    refused: out.filter((r) => r.status.startsWith('refused')).length,
    crashes: out.filter((r) => r.status === 'crash').length,
    runningHours: hours,
    promptsPerHour: hours ? runs.reduce((s, r) => s + r.prompts, 0) / hours : 0,
    fatiguePerHour: hours ? runs.reduce((s, r) => s + r.fatigue, 0) / hours : 0,
    promptsOnNonRunning: analysed.filter((r) => !r.running).reduce((s, r) => s + r.prompts, 0),
    ruleFailures: ruleFails.length,
    rulesByName: {
      ...Object.fromEntries([...new Set(out.flatMap((r) => r.rules.map((c) => c.rule)))].map((n) => [n, out.filter((r) => r.rules.some((c) => c.rule === n && !c.ok)).length])),
      [easyFatigue.rule]: easyFatigue.ok ? 0 : 1,
    },
    easyFatigue: easyFatigue.detail,
    labelledFiles: out.filter((r) => r.labelled).length,
    labelChecks: labelChecks.length,
    labelsMet: labelChecks.filter((c) => c.ok === true).length,
    labelsFailed: labelChecks.filter((c) => c.ok === false).length,
    labelsNotScored: labelChecks.filter((c) => c.ok === null).length,
  };
  return { notes, files: out, ruleFails, totals };
}

function printTable({ notes, files, ruleFails, totals }, verbose) {
  for (const n of notes) console.log(`note: ${n}`);
  const w = Math.min(64, Math.max(...files.map((f) => f.key.length)));
  const short = (k) => (k.length > w ? `…${k.slice(-(w - 1))}` : k);
  const kinds = (b) => KINDS.map((k) => (b[k] ? `${k.replace('slow_down', 'slow').replace('electrolytes', 'elec').replace('cramp_care', 'cramp').replace('hydrate', 'hyd').replace('breathe', 'br')}${b[k]}` : '')).filter(Boolean).join(' ');
  console.log(`${'file'.padEnd(w)}  ${'sport'.padEnd(10)} ${'dur'.padStart(7)} ${'n'.padStart(3)} ${'/h'.padStart(5)} ${'fat/h'.padStart(5)}  ${'by kind'.padEnd(26)} rules  labels`);
  for (const f of files) {
    const sport = (f.running ? (f.sport ?? f.sourceSport ?? '?') : `(${(f.sourceSport ?? f.sport ?? '?').split('/')[0]})`).slice(0, 10);
    const rulesBad = f.rules.filter((c) => !c.ok).length;
    const lab = f.labels.length ? `${f.labels.filter((c) => c.ok === true).length}/${f.labels.length}${f.labels.some((c) => c.ok === null) ? ' (unscored)' : ''}` : '';
    if (f.status !== 'analysed') {
      console.log(`${short(f.key).padEnd(w)}  ${sport.padEnd(10)} ${f.status}${rulesBad ? '  RULE FAIL' : ''}${lab ? `  labels ${lab}` : ''}`);
      continue;
    }
    console.log(`${short(f.key).padEnd(w)}  ${sport.padEnd(10)} ${hms(f.durationS).padStart(7)} ${String(f.prompts).padStart(3)} ${f.perHour.toFixed(1).padStart(5)} ${f.fatiguePerHour.toFixed(1).padStart(5)}  ${kinds(f.byKind).padEnd(26)} ${rulesBad ? `FAIL${rulesBad}` : 'ok   '}  ${lab}`);
  }
  if (ruleFails.length) {
    console.log('\nrule failures');
    for (const c of ruleFails) console.log(`  ${c.key}: ${c.rule}: ${c.detail}`);
  }
  const labelled = files.filter((f) => f.labels.length);
  if (labelled.length) {
    console.log('\nlabels');
    for (const f of labelled) {
      const unscored = f.labels.filter((c) => c.ok === null);
      if (unscored.length && !verbose) console.log(`  ${f.key}: ${unscored.length} checks not scored (${unscored[0].problems.join('; ')})`);
      for (const c of f.labels) {
        if ((c.ok === true || c.ok === null) && !verbose) continue;
        const tag = c.ok === null ? 'unscored' : c.ok ? 'ok' : 'FAILED';
        console.log(`  ${f.key}: ${tag} ${c.check}: ${c.problems.join('; ') || 'met'}${c.seen.length ? ` [${c.seen.slice(0, 6).join(', ')}${c.seen.length > 6 ? ', …' : ''}]` : ''}${c.ok === false || verbose ? `\n      reason: ${c.reason}` : ''}`);
      }
    }
  }
  const t = totals;
  console.log(
    `\nreal runs: ${t.files} files, ${t.analysed} analysed (${t.running} running, ${t.nonRunning} not running), ${t.unsupported} format not supported yet, ${t.refused} refused, ${t.crashes} crashes; ` +
      `${t.promptsPerHour.toFixed(2)} prompts/h and ${t.fatiguePerHour.toFixed(2)} fatigue prompts/h over ${t.runningHours.toFixed(1)} running hours; ${t.promptsOnNonRunning} prompts on non-running files`,
  );
  console.log(`rules: ${t.ruleFailures} failures (${Object.entries(t.rulesByName).map(([n, c]) => `${n}: ${c}`).join("; ")}); easy and steady runs: ${t.easyFatigue}`);
  console.log(`labels: ${t.labelsMet}/${t.labelChecks} checks met on ${t.labelledFiles} labelled files (${t.labelsFailed} failed, ${t.labelsNotScored} not scored: format not supported yet)`);
}

/** The table and totals as Markdown, for docs/evaluation.md: running files row by row, the others summed up. */
function printMarkdown({ files, ruleFails, totals: t }) {
  const cell = (x) => String(x).replace(/\|/g, '/');
  const kinds = (b) => KINDS.filter((k) => b[k]).map((k) => `${k} ${b[k]}`).join(', ');
  console.log('| File (under ../shared) | Sport | Duration | Prompts | /h | Fatigue /h | By kind | Rules | Labels |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const f of files.filter((x) => (x.running && x.status !== 'format not supported yet') || x.labelled)) {
    const lab = f.labels.length ? `${f.labels.filter((c) => c.ok === true).length}/${f.labels.length}${f.labels.some((c) => c.ok === null) ? ' (not scored)' : ''}` : '';
    const rules = f.rules.filter((c) => !c.ok).map((c) => c.rule).join('; ') || 'ok';
    if (f.status !== 'analysed') console.log(`| \`${f.key}\` | ${cell(f.sourceSport ?? '')} | ${f.status} | | | | | ${f.status === 'crash' ? 'crash' : ''} | ${lab} |`);
    else console.log(`| \`${f.key}\` | ${cell(f.running ? (f.sourceSport ?? f.sport) : `not running: ${f.sourceSport ?? f.sport}`)} | ${hms(f.durationS)} | ${f.prompts} | ${f.perHour.toFixed(1)} | ${f.fatiguePerHour.toFixed(1)} | ${kinds(f.byKind)} | ${rules} | ${lab} |`);
  }
  const others = files.filter((x) => !x.running && !x.labelled);
  const later = files.filter((x) => x.status === 'format not supported yet' && !x.labelled);
  console.log(`\nNot in the table: ${others.length} files not running and not labelled (${others.reduce((n, x) => n + x.prompts, 0)} prompts); ` +
    `${later.length} unlabelled GPX/TCX files whose format the CLI does not read yet.`);
  console.log(`\n**Totals.** ${t.files} files: ${t.analysed} analysed (${t.running} running, ${t.nonRunning} not running), ${t.unsupported} format not supported yet, ${t.refused} refused, ${t.crashes} crashes. ` +
    `${t.promptsPerHour.toFixed(2)} prompts/h and ${t.fatiguePerHour.toFixed(2)} fatigue prompts/h over ${t.runningHours.toFixed(1)} running hours; ${t.promptsOnNonRunning} prompts on non-running files. ` +
    `Rules: ${t.ruleFailures} failures (easy and steady runs: ${t.easyFatigue}). Labels: ${t.labelsMet}/${t.labelChecks} checks met on ${t.labelledFiles} files (${t.labelsFailed} failed, ${t.labelsNotScored} not scored).`);
  if (ruleFails.length) for (const c of ruleFails) console.log(`- rule failed: \`${c.key}\`: ${c.rule}: ${c.detail}`);
  for (const f of files) for (const c of f.labels.filter((x) => x.ok === false)) console.log(`- label failed: \`${f.key}\`: ${c.check}: ${c.problems.join('; ')}${c.seen.length ? ` [${c.seen.join(', ')}]` : ''}`);
}

async function main() {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const result = await evaluate({ fast: args.includes('--fast'), only: onlyAt >= 0 ? args[onlyAt + 1] : null });
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (args.includes('--markdown')) printMarkdown(result);
  else printTable(result, args.includes('--verbose'));
  const failed = result.totals.crashes + result.totals.ruleFailures + result.totals.labelsFailed > 0;
  process.exit(failed && !args.includes('--report-only') ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
