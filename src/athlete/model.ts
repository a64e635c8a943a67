/**
 * The athlete model: a fold over the athlete's stored run summaries (summary.ts), so adding or deleting a run
 * costs one summary row and one fold, never a decode of every run. Deterministic: the input is sorted by
 * (start, run id) first, and every window is measured back from the athlete's latest run (not the wall clock),
 * so the same stored runs give the same model on every machine and process. Each learned value says how many
 * runs it rests on and their dates. The rules (windows, percentiles, guards) are documented in
 * docs/athlete-model.md with their sources (science.md §2.5, §2.6, §6).
 * @module
 */
import { MMP_DURATIONS_S, type RunSummary } from './summary.js';

/** Bump when a rule below changes: reports record the version they were analysed with. */
export const MODEL_VERSION = 1;

const DAY_MS = 86_400_000;
/** Window of "recent" training for the usual long run, easy pace and cadence, days (6–8 weeks). */
export const RECENT_DAYS = 56;
/** Window of threshold and critical-speed efforts, days. */
export const EFFORT_DAYS = 84;
/** Window of the HRmax seen, days. */
export const HRMAX_DAYS = 365;
/** Easy band as shares of HRmax (ACSM moderate intensity ~64–76 % HRmax; science.md §2.5). */
export const EASY_BAND: readonly [number, number] = [0.65, 0.82];
/** A steady 20-min window counts as a threshold effort from this share of HRmax up (LTHR is ~85–92 % HRmax). */
export const THRESHOLD_MIN_HRMAX_SHARE = 0.85;
/** Resting HR for TRIMP when it is unknown (Runalyze's default, science.md §2.6), bpm. */
export const TRIMP_HR_REST = 60;

/** A stored summary and the run it belongs to. */
export interface SummaryRow {
  runId: string;
  summary: RunSummary;
}

/** A learned value with what it rests on. */
export interface Learned {
  value: number;
  /** Runs it rests on. */
  runs: number;
  /** ISO dates (UTC) of the earliest and latest of those runs. */
  from: string;
  to: string;
}

export interface WeekRow {
  /** Monday of the ISO week, YYYY-MM-DD (UTC). */
  week: string;
  runs: number;
  distanceKm: number;
  movingMin: number;
  longestMin: number;
  /** TRIMP (or duration-based where HR is missing) summed over the week. */
  load: number;
}

export interface RunPoint {
  runId: string;
  date: string;
  movingMin: number;
  decouplingPct: number | null;
  load: number;
}

export interface AthleteModel {
  version: number;
  /**
   * Identity of the model's input: a digest of MODEL_VERSION and every summary's (run id, version, start). Two
   * analyses with the same key used the same model.
   */
  key: string;
  /** Runs folded (with a start time). */
  runs: number;
  /** Start of the latest run: every window ends here. */
  asOf: string | null;
  usualLongRunMin: Learned | null;
  easyPaceMps: Learned | null;
  /** Efficiency factor at easy HR: metres per minute per beat. */
  easyEfficiency: Learned | null;
  hrMax: Learned | null;
  lthr: Learned | null;
  thresholdPaceMps: Learned | null;
  criticalSpeedMps: Learned | null;
  /** D′ of the distance–time fit, m (with the critical speed). */
  dPrimeM: number | null;
  /** The mean-maximal pace curve of the effort window: duration s → best mean speed m/s. */
  mmp: Record<string, number>;
  /** Cadence at `atSpeedMps`, steps/min, and its slope with speed when the runs span enough speeds. */
  cadence: (Learned & { atSpeedMps: number; slopePerMps: number | null }) | null;
  /** Acute (7 d) : chronic (28 d, per week) load ratio at `asOf`. */
  loadRatio: { acute: number; chronic: number; ratio: number } | null;
  weeks: WeekRow[];
  /** Every run in start order, for the training view. */
  history: RunPoint[];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function learned(value: number, rows: SummaryRow[], digits: number): Learned {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    lo = Math.min(lo, r.summary.startMs!);
    hi = Math.max(hi, r.summary.startMs!);
  }
  return { value: round(value, digits), runs: rows.length, from: isoDate(lo), to: isoDate(hi) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** FNV-1a, 32 bit, hex: a short stable digest (not for security). */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Monday 00:00 UTC of the week holding `ms`. */
function weekStart(ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 → weekday 3 counting from Monday.
  return (day - ((day + 3) % 7)) * DAY_MS;
}

/** Banister TRIMP over the run's HR histogram (Runalyze's unknown-sex constants A 0.725215, B 1.795). */
function trimp(s: RunSummary, hrMax: number): number {
  let sum = 0;
  for (const [bpm, secs] of s.hrBins) {
    const hrr = (bpm + 1 - TRIMP_HR_REST) / (hrMax - TRIMP_HR_REST);
    if (hrr <= 0) continue;
    sum += (secs / 60) * Math.min(hrr, 1) * Math.exp(1.795 * Math.min(hrr, 1));
  }
  return 0.725215 * sum;
}

/** Critical speed and D′ from the 2-parameter distance–time model d = CS·t + D′ (least squares over 3–20 min). */
export function criticalSpeed(mmp: Record<string, number>): { cs: number; dPrime: number; points: number } | null {
  const pts: Array<[number, number]> = [];
  for (const d of MMP_DURATIONS_S) {
    if (d < 180 || d > 1200) continue;
    const v = mmp[String(d)];
    if (v !== undefined && v > 0) pts.push([d, v * d]);
  }
  if (pts.length < 3) return null;
  const n = pts.length;
  let st = 0;
  let sd = 0;
  let stt = 0;
  let std = 0;
  for (const [t, d] of pts) {
    st += t;
    sd += d;
    stt += t * t;
    std += t * d;
  }
  const cs = (n * std - st * sd) / (n * stt - st * st);
  const dPrime = (sd - cs * st) / n;
  // Training runs are not all-out trials: a curve that does not look like one (D′ outside what runners show,
  // ~50–600 m) gives no critical speed rather than a wrong one.
  if (!(cs > 1.5 && cs < 7) || !(dPrime >= 20 && dPrime <= 600)) return null;
  return { cs, dPrime, points: n };
}

export interface FoldOptions {
  /**
   * Also the training view's series (`weeks`, `history`: every run's load). Off, only the runs of the last 28 days
   * get a load (for the load ratio) and the series stay empty: what an analysis needs, at a fraction of the cost.
   * @default true
   */
  training?: boolean;
}

/** The model from every stored summary of the athlete. Order of `rows` does not matter. */
export function foldModel(input: readonly SummaryRow[], options: FoldOptions = {}): AthleteModel {
  const training = options.training ?? true;
  const dated = input.filter((r) => r.summary.startMs !== null && Number.isFinite(r.summary.startMs));
  let newest = -Infinity;
  let earliest = Infinity;
  for (const r of dated) {
    newest = Math.max(newest, r.summary.startMs!);
    earliest = Math.min(earliest, r.summary.startMs!);
  }
  // Every learned value looks back at most HRMAX_DAYS: without the training series older runs need no sorting.
  const horizon = training ? -Infinity : newest - HRMAX_DAYS * DAY_MS;
  const rows = (training ? dated : dated.filter((r) => r.summary.startMs! > horizon)).sort(
    (a, b) => a.summary.startMs! - b.summary.startMs! || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0),
  );
  const key = digest(
    `${MODEL_VERSION}|` + [...input].map((r) => `${r.runId}:${r.summary.version}:${r.summary.startMs}`).sort().join('|'),
  );
  const empty: AthleteModel = {
    version: MODEL_VERSION,
    key,
    runs: 0,
    asOf: null,
    usualLongRunMin: null,
    easyPaceMps: null,
    easyEfficiency: null,
    hrMax: null,
    lthr: null,
    thresholdPaceMps: null,
    criticalSpeedMps: null,
    dPrimeM: null,
    mmp: {},
    cadence: null,
    loadRatio: null,
    weeks: [],
    history: [],
  };
  if (rows.length === 0) return empty;
  const asOfMs = rows[rows.length - 1]!.summary.startMs!;
  const within = (days: number) => rows.filter((r) => r.summary.startMs! > asOfMs - days * DAY_MS);
  const model: AthleteModel = { ...empty, runs: dated.length, asOf: new Date(asOfMs).toISOString() };

  // Usual long run: the median of the 4 longest runs of the last 8 weeks (one race or one epic outing does
  // not move it; one short week does not either). At least 3 runs.
  const recent = within(RECENT_DAYS);
  if (recent.length >= 3) {
    const longest = [...recent].sort((a, b) => b.summary.movingS - a.summary.movingS || (a.runId < b.runId ? -1 : 1)).slice(0, 4);
    model.usualLongRunMin = learned(median(longest.map((r) => r.summary.movingS)) / 60, longest, 1);
  }

  // HRmax seen: the highest run peak (30-s rolling mean of clean HR) of the last year; when it stands more than
  // 5 bpm above every other run's, the runner-up (one run's artefact is not a maximum). At least 3 runs with HR.
  const withHr = within(HRMAX_DAYS).filter((r) => r.summary.hrPeak30 !== null);
  if (withHr.length >= 3) {
    const peaks = [...withHr].sort((a, b) => b.summary.hrPeak30! - a.summary.hrPeak30! || (a.runId < b.runId ? -1 : 1));
    const top = peaks[0]!.summary.hrPeak30!;
    const second = peaks[1]!.summary.hrPeak30!;
    model.hrMax = learned(top - second > 5 ? second : top, withHr, 0);
  }
  const hrMax = model.hrMax?.value ?? null;

  // Easy pace and efficiency: running time in the easy HR band of the last 8 weeks, pooled; runs with at least
  // 5 min in the band count, at least 3 of them.
  if (hrMax !== null) {
    const lo = EASY_BAND[0] * hrMax;
    const hi = EASY_BAND[1] * hrMax;
    let secs = 0;
    let dist = 0;
    let beats = 0;
    const used: SummaryRow[] = [];
    for (const r of recent) {
      let s = 0;
      let d = 0;
      let b = 0;
      for (const [bpm, , run, speedSum] of r.summary.hrBins) {
        const mid = bpm + 1;
        if (mid < lo || mid > hi) continue;
        s += run;
        d += speedSum;
        b += (mid * run) / 60;
      }
      if (s >= 300) {
        used.push(r);
        secs += s;
        dist += d;
        beats += b;
      }
    }
    if (used.length >= 3 && secs > 0) {
      model.easyPaceMps = learned(dist / secs, used, 3);
      model.easyEfficiency = learned((dist / (secs / 60)) / (beats / (secs / 60)), used, 3);
    }
  }
  // Without HR in the easy band (no HR, or a runner whose HR never sits there: the HRmax seen is then below the
  // true one): the pace rule, the slower 40th percentile of the recent runs' mean running speeds.
  if (model.easyPaceMps === null) {
    const paced = recent.filter((r) => r.summary.runningSpeedMps != null && r.summary.runningS >= 600);
    if (paced.length >= 3) {
      const speeds = paced.map((r) => r.summary.runningSpeedMps!).sort((a, b) => a - b);
      model.easyPaceMps = learned(speeds[Math.floor(0.4 * (speeds.length - 1))]!, paced, 3);
    }
  }

  // Threshold: the hardest steady 20-min windows of the last 12 weeks at ≥ 85 % of HRmax. LTHR = the highest
  // mean HR of such a window; threshold pace = the fastest such window (Friel's 20-min rule, science.md §2.5).
  const efforts = within(EFFORT_DAYS);
  if (hrMax !== null) {
    const hard = efforts.filter((r) => r.summary.steadyHr20 !== null && r.summary.steadyHr20 >= THRESHOLD_MIN_HRMAX_SHARE * hrMax);
    if (hard.length >= 1) model.lthr = learned(Math.max(...hard.map((r) => r.summary.steadyHr20!)), hard, 0);
    const fast = efforts.filter((r) => r.summary.steady20?.hr != null && r.summary.steady20.hr >= THRESHOLD_MIN_HRMAX_SHARE * hrMax);
    if (fast.length >= 1) model.thresholdPaceMps = learned(Math.max(...fast.map((r) => r.summary.steady20!.speedMps)), fast, 3);
  }

  // Mean-maximal pace curve of the effort window and critical speed from it.
  const curveRuns = new Map<string, SummaryRow[]>();
  for (const d of MMP_DURATIONS_S) {
    let best = -Infinity;
    let holder: SummaryRow | null = null;
    for (const r of efforts) {
      const v = r.summary.mmp[String(d)];
      if (v !== undefined && v > best) {
        best = v;
        holder = r;
      }
    }
    if (holder) {
      model.mmp[String(d)] = best;
      curveRuns.set(String(d), [holder]);
    }
  }
  const cs = criticalSpeed(model.mmp);
  if (cs) {
    const used = new Map<string, SummaryRow>();
    for (const d of MMP_DURATIONS_S) if (d >= 180 && d <= 1200) for (const r of curveRuns.get(String(d)) ?? []) used.set(r.runId, r);
    model.criticalSpeedMps = learned(cs.cs, [...used.values()], 3);
    model.dPrimeM = round(cs.dPrime, 0);
  }

  // Cadence at a given speed: weighted least squares of cadence on speed over the last 8 weeks' running.
  const cadRows = recent.filter((r) => r.summary.cadence !== null && r.summary.cadence.w >= 300);
  if (cadRows.length >= 1) {
    const s = { w: 0, v: 0, c: 0, vv: 0, vc: 0 };
    for (const r of cadRows) for (const k of ['w', 'v', 'c', 'vv', 'vc'] as const) s[k] += r.summary.cadence![k];
    const mv = s.v / s.w;
    const mc = s.c / s.w;
    const varV = s.vv / s.w - mv * mv;
    const slope = varV >= 0.04 ? (s.vc / s.w - mv * mc) / varV : null;
    const at = slope === null ? round(mv, 1) : 3;
    const spm = slope === null ? mc : mc + slope * (at - mv);
    model.cadence = { ...learned(spm, cadRows, 1), atSpeedMps: at, slopePerMps: slope === null ? null : round(slope, 2) };
  }

  // Load per run: TRIMP when HR covers at least half of it (scaled up to the moving time: sparse GPX/TCX HR);
  // otherwise minutes × the median TRIMP per minute of the last 28 days' HR runs (1 without any).
  const loads = new Map<string, number>();
  const perMin: number[] = [];
  const lastMonth = within(28);
  const loaded = training ? rows : lastMonth;
  const inMonth = new Set(lastMonth.map((r) => r.runId));
  for (const r of loaded) {
    if (hrMax !== null && r.summary.hrCoverage >= 0.5 && r.summary.movingS > 0) {
      const l = trimp(r.summary, hrMax) / r.summary.hrCoverage;
      loads.set(r.runId, l);
      if (inMonth.has(r.runId)) perMin.push(l / (r.summary.movingS / 60));
    }
  }
  const rate = perMin.length ? median(perMin) : 1;
  for (const r of loaded) if (!loads.has(r.runId)) loads.set(r.runId, rate * (r.summary.movingS / 60));

  const weeks = new Map<number, WeekRow>();
  for (const r of training ? rows : []) {
    const ws = weekStart(r.summary.startMs!);
    let w = weeks.get(ws);
    if (!w) weeks.set(ws, (w = { week: isoDate(ws), runs: 0, distanceKm: 0, movingMin: 0, longestMin: 0, load: 0 }));
    w.runs++;
    w.distanceKm += (r.summary.distanceM ?? 0) / 1000;
    w.movingMin += r.summary.movingS / 60;
    w.longestMin = Math.max(w.longestMin, r.summary.movingS / 60);
    w.load += loads.get(r.runId)!;
  }
  model.weeks = [...weeks.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, w]) => ({ ...w, distanceKm: round(w.distanceKm, 2), movingMin: round(w.movingMin, 1), longestMin: round(w.longestMin, 1), load: round(w.load, 1) }));
  model.history = (training ? rows : []).map((r) => ({
    runId: r.runId,
    date: new Date(r.summary.startMs!).toISOString(),
    movingMin: round(r.summary.movingS / 60, 1),
    decouplingPct: r.summary.decouplingPct,
    load: round(loads.get(r.runId)!, 1),
  }));

  // Acute:chronic ratio at asOf (rolling sums; Gabbett's 7 d vs 28 d), once the history spans 3 weeks.
  if (asOfMs - earliest >= 21 * DAY_MS) {
    let acute = 0;
    let chronic = 0;
    for (const r of loaded) {
      const age = asOfMs - r.summary.startMs!;
      if (age < 7 * DAY_MS) acute += loads.get(r.runId)!;
      if (age < 28 * DAY_MS) chronic += loads.get(r.runId)!;
    }
    chronic /= 4;
    if (chronic > 0) model.loadRatio = { acute: round(acute, 1), chronic: round(chronic, 1), ratio: round(acute / chronic, 2) };
  }
  return model;
}
