#!/usr/bin/env node
// Replay equals report (issue 14): every activity file in fixtures/ (fit, scenarios, xml), ../shared/fit and
// ../shared/realruns is decoded (ingest/decode.ts `decodeActivity`), played to one real server (SQLite on a
// temporary data dir) as a watch would (`replayRun`, --speed 0) by a fresh athlete, and the prompts raised live and
// the end report's prompts are compared with `analyzeRun(run, options)` on the file (keys t|kind|cause). `options`
// are the conditions and session kind the replay carries: the scenario's own in fixtures/scenarios/expectations.json,
// none for the real files. Files the engine does not analyse (cycling…) are replayed too: no prompt either way.
// Uses the build (dist/; `npm run eval:replay` builds first).
// usage: node scripts/eval/replay-equals-report.mjs [--json] [--only SUBSTRING] [FILE…]
//   FILE…    only these files (paths), instead of every file
//   --only S only the files whose key contains S
//   --json   print one JSON object ({ rows, totals, notes }) instead of the table
// Exit status 1 when any file differs (or fails to replay).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { uniqueActivityFiles } from './activity-files.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = resolve(ROOT, '..', 'shared');
const DIST = join(ROOT, 'dist');
const SCENARIOS = join(ROOT, 'fixtures', 'scenarios');

const load = (p) => import(pathToFileURL(join(DIST, p)).href);

/** The comparable part of an alert (as tests/server/helpers.ts `alertKey`). */
const alertKey = (a) => `${a.t}|${a.kind}|${a.cause}`;

/** Every activity file: [{key, path}], deduplicated by content (fixtures/fit holds copies of ../shared/fit). */
export function activityFiles(notes = []) {
  const dirs = [
    [join(ROOT, 'fixtures'), 'fixtures'],
    [join(SHARED, 'fit'), 'shared/fit'],
    [join(SHARED, 'realruns'), 'shared/realruns'],
  ];
  return uniqueActivityFiles(dirs.map(([dir, prefix]) => [dir, (p) => `${prefix}/${relative(dir, p)}`, prefix]), notes);
}

/** The conditions and session kind a scenario was made with (what a watch would send at start). */
function scenarioOptions() {
  const p = join(SCENARIOS, 'expectations.json');
  const out = new Map();
  if (!existsSync(p)) return out;
  for (const [name, e] of Object.entries(JSON.parse(readFileSync(p, 'utf8')))) {
    if (typeof e !== 'object' || e === null) continue;
    out.set(name, {
      ...(e.conditions ? { conditions: e.conditions } : {}),
      ...(e.sessionKind ? { sessionKind: e.sessionKind } : {}),
    });
  }
  return out;
}

function diff(want, got) {
  const w = new Set(want);
  const g = new Set(got);
  const missing = want.filter((k) => !g.has(k));
  const extra = got.filter((k) => !w.has(k));
  return [...missing.map((k) => `-${k}`), ...extra.map((k) => `+${k}`)].slice(0, 6).join(' ');
}

/**
 * Replays `files` ([{key, path}]) to one server and compares each with analyze. Returns rows
 * {key, format, sport, analysed, analyze, live, report, ok, detail}.
 */
export async function replayEqualsReport(files, { log = () => {} } = {}) {
  const [{ decodeActivity }, { analyzeRun }, { replayRun }, { startServer }, { loadConfig }] = await Promise.all([
    load('ingest/decode.js'),
    load('alerts/engine.js'),
    load('src/wire/replay.js'),
    load('src/server/server.js'),
    load('src/server/config.js'),
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-replay-eq-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', SOCKET_SAMPLES_PER_S: '10000000', SOCKET_ATHLETE_SAMPLES_PER_S: '10000000', SOCKET_MESSAGES_PER_S: '1000000', SOCKET_ATHLETE_MESSAGES_PER_S: '10000000' });
  const server = await startServer(config, {});
  const scenarios = scenarioOptions();
  const rows = [];
  try {
    let n = 0;
    for (const { key, path } of files) {
      n++;
      const row = { key, format: (/\.(fit|gpx|tcx)/i.exec(path)?.[1] ?? '?').toLowerCase(), sport: null, analysed: null, analyze: 0, live: 0, report: 0, ok: false, detail: '' };
      rows.push(row);
      let run;
      try {
        run = await decodeActivity(readFileSync(path));
      } catch (err) {
        // Not an activity the decoder reads: nothing to replay, nothing to differ.
        row.ok = true;
        row.detail = `not decoded: ${err?.code ?? ''} ${String(err?.message ?? err).split('\n')[0]}`.trim();
        log(`${n}/${files.length} ${key}: ${row.detail}`);
        continue;
      }
      const inScenarios = path.startsWith(SCENARIOS);
      const opts = inScenarios ? (scenarios.get(basename(path).replace(/\.fit$/i, '')) ?? {}) : {};
      const want = analyzeRun(run, opts);
      row.sport = want.sport ?? null;
      row.analysed = want.analysed;
      row.analyze = want.alerts.length;
      if (run.samples.length === 0) {
        row.ok = want.alerts.length === 0;
        row.detail = 'no samples: nothing to replay';
        continue;
      }
      try {
        const res = await fetch(`${server.url}/api/athletes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `replay-${n}` }),
        });
        if (res.status !== 201) throw new Error(`create athlete: ${res.status} ${await res.text()}`);
        const { token } = await res.json();
        const result = await replayRun(run, { url: server.url, token, speed: 0, ackTimeoutMs: 60_000, ...opts });
        const wantKeys = want.alerts.map(alertKey);
        const live = [...result.alerts].sort((a, b) => a.t - b.t).map(alertKey);
        const report = result.report.alerts.map(alertKey);
        row.live = live.length;
        row.report = report.length;
        const liveOk = JSON.stringify(live) === JSON.stringify(wantKeys);
        const reportOk = JSON.stringify(report) === JSON.stringify(wantKeys);
        row.ok = liveOk && reportOk;
        if (!liveOk) row.detail += `live ${diff(wantKeys, live)} `;
        if (!reportOk) row.detail += `report ${diff(wantKeys, report)}`;
      } catch (err) {
        row.detail = `replay failed: ${err?.code ?? ''} ${String(err?.message ?? err).split('\n')[0]}`;
      }
      log(`${n}/${files.length} ${key}: ${row.ok ? 'same' : 'DIFFERS'} (${row.analyze}/${row.live}/${row.report})`);
    }
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

export function totalsOf(rows) {
  return {
    files: rows.length,
    replayed: rows.filter((r) => r.analysed !== null && !r.detail.startsWith('no samples')).length,
    analysed: rows.filter((r) => r.analysed === true).length,
    notAnalysed: rows.filter((r) => r.analysed === false).length,
    notDecoded: rows.filter((r) => r.analysed === null).length,
    same: rows.filter((r) => r.ok).length,
    differ: rows.filter((r) => !r.ok).length,
    prompts: rows.reduce((s, r) => s + r.analyze, 0),
  };
}

async function main(argv) {
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : null;
  const paths = argv.filter((a, i) => !a.startsWith('--') && !(onlyAt >= 0 && i === onlyAt + 1));
  const notes = [];
  let files = paths.length > 0 ? paths.map((p) => ({ key: relative(ROOT, resolve(p)), path: resolve(p) })) : activityFiles(notes);
  if (only) files = files.filter((f) => f.key.includes(only));
  const rows = await replayEqualsReport(files, { log: json ? () => {} : (l) => process.stderr.write(`${l}\n`) });
  const totals = totalsOf(rows);
  if (json) {
    process.stdout.write(`${JSON.stringify({ rows, totals, notes })}\n`);
  } else {
    const w = Math.min(70, Math.max(4, ...rows.map((r) => r.key.length)));
    process.stdout.write(`${'file'.padEnd(w)}  fmt  sport              analyze  live  report  same\n`);
    for (const r of rows) {
      const sport = r.analysed === null ? '-' : `${r.sport ?? '?'}${r.analysed ? '' : ' (n/a)'}`;
      process.stdout.write(
        `${r.key.slice(-w).padEnd(w)}  ${r.format.padEnd(3)}  ${sport.slice(0, 18).padEnd(18)} ${String(r.analyze).padStart(7)} ${String(r.live).padStart(5)} ${String(r.report).padStart(7)}  ${r.ok ? 'yes' : `NO ${r.detail}`}\n`,
      );
    }
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
    process.stdout.write(
      `totals: ${totals.files} files, ${totals.replayed} replayed (${totals.analysed} analysed, ${totals.notAnalysed} not analysed), ${totals.notDecoded} not decoded; ${totals.same} same, ${totals.differ} differ; ${totals.prompts} prompts from analyze\n`,
    );
  }
  return totals.differ === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`replay-equals-report: ${err?.stack ?? err}\n`);
      process.exit(2);
    },
  );
}
