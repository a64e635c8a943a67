// Shared helpers for the benchmark scripts: result rows, percentiles, GC counting, machine description.
// Every part prints ONE JSON line prefixed with RESULT_PREFIX on stdout; run-all.mjs collects those.
import { cpus, loadavg, totalmem } from 'node:os';
import { PerformanceObserver, constants } from 'node:perf_hooks';

export const RESULT_PREFIX = 'BENCH_RESULT ';
export const ROOT = new URL('../../', import.meta.url).pathname;
export const DIST = new URL('../../dist/', import.meta.url).href;

/**
 * One table row. `ratio` is product ÷ limit measured in the same run; `met` is true/false against the target,
 * or null when the row has no target (informative).
 */
export function row(figure, { target = '', product, limit = null, ratio = null, met = null, unit = '' }) {
  return { figure, target, product, limit, ratio, met, unit };
}

export function emit(part, rows, notes = []) {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ part, rows, notes, load: loadavg() })}\n`);
}

/** Nearest-rank percentile of an unsorted numeric array (sorted copy). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values) {
  return percentile(values, 50);
}

/** Counts young-generation collections (scavenges) while `counting` is on. */
export function scavengeCounter() {
  const state = { count: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) state.count++;
  }).observe({ entryTypes: ['gc'] });
  return state;
}

export const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

export function machine() {
  const c = cpus();
  return {
    cpu: `${c.length} × ${c[0]?.model ?? 'unknown'}`,
    memGB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    load: loadavg().map((x) => +x.toFixed(1)),
  };
}

/** Reads a flag value: `--name value`. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

export const fmt = (x, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The benches' long input: a 24-hour run-walk ultra from the scenario simulator (86,400 samples at 1 Hz, every
 * channel: 50 min running at 2.3 m/s, 10 min walking, 24 times). Needs the build (dist/).
 */
export async function simulateUltra({ tempC = 16 } = {}) {
  const { simulate, run, repeat } = await import(`${DIST}src/sim/simulate.js`);
  return simulate({
    seed: 24,
    startTime: '2026-06-20T06:00:00Z',
    tempC,
    humidity: 60,
    plan: repeat(24, [run(50, 2.3), run(10, 1.4, { walk: true })]),
  });
}

/** {@link simulateUltra} written as a FIT file's bytes (src/sim/write-fit.ts). */
export async function ultraFitBytes() {
  const { writeFit } = await import(`${DIST}src/sim/write-fit.js`);
  return writeFit(await simulateUltra());
}
