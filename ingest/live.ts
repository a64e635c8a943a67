/**
 * Live samples from a watch or phone companion: the wire schemas (zod, checked at the edge) and a per-run
 * normaliser that turns parsed batches into the same `Sample` stream the FIT path produces.
 *
 * Two kinds of bad input, handled differently:
 * - **Malformed** (wrong types, NaN/Infinity, no time at all, too many samples): the whole batch is refused by
 *   {@link parseWireBatch} with a stable code and a one-line message for the error ack. Nothing is thrown.
 * - **Implausible** (HR 300, speed 20 m/s, `t` going backwards or repeated): the batch is accepted; the value
 *   becomes NaN (or, for time, the sample is dropped) and is counted. The limits are `ingest/plausible.ts`, the
 *   one place the FIT path reads them from too, so both sources drop exactly the same values.
 *
 * Units on the wire are the `Sample` units (cadence in steps/min, both legs; speed m/s; distance m; …), so values
 * pass through unchanged apart from plausibility: no rounding, no scaling. (The FIT path's values look like the
 * file's scaled integers because that is what the file holds.)
 * @module
 */
import { z } from 'zod';
import { IngestError, type IngestCode } from './errors.js';
import { MAX_TIME_JUMP_MS } from './columns.js';
import { IMPLAUSIBLE_CODE, PLAUSIBLE } from './plausible.js';
import { createRespirationFromRr, type RespirationEstimator, type RespirationState } from './respiration.js';
import { CHANNELS, emptySample, isPosition, type Channel, type IngestWarning, type Sample } from './sample.js';

/** Most samples one batch may carry (10 min at 1 Hz). Bigger batches are refused: split them. */
export const MAX_BATCH_SAMPLES = 600;
/** Most RR intervals one sample may carry (a minute at 250 beats/min). */
export const MAX_RR_PER_SAMPLE = 256;
/** Earliest accepted epoch timestamp, ms: the FIT epoch (1989-12-31). Also catches seconds sent as ms. */
export const MIN_TIMESTAMP_MS = 631_065_600_000;
/** Latest epoch timestamp a JavaScript Date can hold, ms. */
const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

/** A measured value: a finite number; null or absent means missing. zod's number already refuses NaN/Infinity. */
const measured = (what: string) => z.number().nullable().optional().describe(what);

/**
 * One sample as a watch sends it. Unknown keys are ignored, so newer watches can send more. The descriptions
 * end up in the OpenAPI document.
 */
export const WireSampleSchema = z
  .object({
    t: z.number().min(0).nullable().optional().describe('Seconds since run start; wins over `timestamp` for t'),
    timestamp: z
      .union([z.number().min(MIN_TIMESTAMP_MS).max(MAX_TIMESTAMP_MS), z.iso.datetime({ offset: true })])
      .nullable()
      .optional()
      .describe('Absolute time: ms since the Unix epoch, or ISO 8601 with a zone (Z or +02:00)'),
    hr: measured('Heart rate, beats/min'),
    cadence: measured('Running cadence, steps/min (both legs)'),
    speed: measured('Speed, m/s'),
    distance: measured('Cumulative distance, m'),
    altitude: measured('Altitude, m'),
    temperature: measured('Temperature the device measured, °C'),
    respiration: measured('Respiration rate, breaths/min'),
    power: measured('Power, W'),
    lat: z.number().min(-90).max(90).nullable().optional().describe('Latitude, degrees (WGS 84); with `lon`, else ignored'),
    lon: z.number().min(-180).max(180).nullable().optional().describe('Longitude, degrees (WGS 84); with `lat`, else ignored'),
    rr: z
      .array(z.number())
      .max(MAX_RR_PER_SAMPLE)
      .nullable()
      .optional()
      .describe('RR intervals that ended since the previous sample, ms, oldest first'),
  })
  .refine((s) => s.t != null || s.timestamp != null, { message: 'a sample needs `t` or `timestamp`', path: ['t'] })
  .meta({ id: 'WireSample', description: 'One live sample; null or absent = missing' });
export type WireSample = z.infer<typeof WireSampleSchema>;

/** A batch: samples in the order they were measured. */
export const WireBatchSchema = z
  .array(WireSampleSchema)
  .min(1)
  .max(MAX_BATCH_SAMPLES)
  .meta({ id: 'WireBatch', description: `1–${MAX_BATCH_SAMPLES} samples in the order they were measured` });
export type WireBatch = z.infer<typeof WireBatchSchema>;

/** Why a batch was refused: what the server puts in its error ack. */
export interface WireIssue {
  code: Extract<IngestCode, 'SAMPLE_INVALID' | 'SAMPLE_BATCH_TOO_LARGE'>;
  /** One line for a person, naming the first offending field, e.g. `samples[3].hr: expected number, received string`. */
  message: string;
}
export type WireBatchResult = { ok: true; batch: WireBatch } | { ok: false; error: WireIssue };

/**
 * Validates an untrusted batch. Never throws; the size is checked before any element is parsed, so a huge
 * array costs nothing.
 */
export function parseWireBatch(input: unknown): WireBatchResult {
  if (Array.isArray(input) && input.length > MAX_BATCH_SAMPLES) {
    return {
      ok: false,
      error: {
        code: 'SAMPLE_BATCH_TOO_LARGE',
        message: `batch has ${input.length} samples; at most ${MAX_BATCH_SAMPLES} are accepted, split it`,
      },
    };
  }
  // The common case, checked without allocating: zod's output would differ only by dropping unknown keys, which the
  // normaliser never reads. Anything else (an ISO timestamp, a bad value) goes to the schema, which stays the
  // contract and words the error.
  if (isPlainBatch(input)) return { ok: true, batch: input };
  const parsed = WireBatchSchema.safeParse(input);
  if (parsed.success) return { ok: true, batch: parsed.data };
  return { ok: false, error: { code: 'SAMPLE_INVALID', message: describeIssues(parsed.error.issues, 'samples') } };
}

/**
 * A batch {@link WireBatchSchema} takes as it is, with numeric timestamps only: true only where the schema says yes
 * (tests/ingest/wire-fast-path.test.ts checks it against the schema); false sends the batch to the schema.
 */
export function isPlainBatch(input: unknown): input is WireBatch {
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_BATCH_SAMPLES) return false;
  for (let i = 0; i < input.length; i++) if (!isPlainSample(input[i])) return false;
  return true;
}

const isMissing = (v: unknown): v is null | undefined => v === undefined || v === null;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const inRange = (v: unknown, lo: number, hi: number) => isMissing(v) || (isFiniteNumber(v) && v >= lo && v <= hi);

function isPlainSample(x: unknown): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const w = x as Record<string, unknown>;
  const t = w.t;
  const ts = w.timestamp;
  if (!inRange(t, 0, Infinity) || !inRange(ts, MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS) || (isMissing(t) && isMissing(ts))) return false;
  for (let c = 0; c < CHANNELS.length; c++) {
    const v = w[CHANNELS[c]!];
    if (!isMissing(v) && !isFiniteNumber(v)) return false;
  }
  if (!inRange(w.lat, -90, 90) || !inRange(w.lon, -180, 180)) return false;
  const rr = w.rr;
  if (isMissing(rr)) return true;
  if (!Array.isArray(rr) || rr.length > MAX_RR_PER_SAMPLE) return false;
  for (let i = 0; i < rr.length; i++) if (!isFiniteNumber(rr[i])) return false;
  return true;
}

/** Validates one untrusted sample (for transports that send samples one at a time). Never throws. */
export function parseWireSample(
  input: unknown,
): { ok: true; sample: WireSample } | { ok: false; error: WireIssue } {
  const parsed = WireSampleSchema.safeParse(input);
  if (parsed.success) return { ok: true, sample: parsed.data };
  return { ok: false, error: { code: 'SAMPLE_INVALID', message: describeIssues(parsed.error.issues, 'sample') } };
}

/** The first issue on one line, with its path written the way a developer would index the payload. */
function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  const first = issues[0];
  if (!first) return `${root}: invalid`;
  let where = root;
  for (const key of first.path) where += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  // zod prefixes type errors with "Invalid input: "; the path already says where.
  const what = first.message.replace(/^Invalid input: /, '').replace(/\s+/g, ' ');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where}: ${what}${more}`;
}

/** RR intervals outside these limits (the HR limits as beat lengths) are dropped: 240–2400 ms. */
export const RR_LIMITS_MS: readonly [number, number] = [60_000 / PLAUSIBLE.hr[1], 60_000 / PLAUSIBLE.hr[0]];

/**
 * Everything a normaliser remembers between batches: a dozen numbers, JSON-safe (null, never NaN), so a run can
 * move to another process or survive a restart and carry on identically.
 */
export interface LiveNormalizerState {
  /** The run's start, ms since the epoch; null until a sample with a timestamp arrives (or given at creation). */
  startMs: number | null;
  /** `t` of the last accepted sample, s; null before the first. */
  lastT: number | null;
  /** Samples accepted so far. */
  accepted: number;
  /** Samples dropped because `t` went backwards or repeated (resends included), or was before the run start. */
  droppedTime: number;
  /** Samples dropped because `t` jumped more than a day ahead (a corrupt clock, see {@link createLiveNormalizer}). */
  droppedJump: number;
  /** `t` of the last sample dropped as a jump, s: a next sample that continues from it confirms a real gap. */
  jumpT: number | null;
  /** Values set to missing because they were outside `PLAUSIBLE`, per channel. */
  implausible: Record<Channel, number>;
  /** RR intervals dropped as implausible (outside {@link RR_LIMITS_MS}). */
  droppedRr: number;
  /**
   * Estimate missing respiration from RR intervals (ingest/respiration.ts) for samples that carry `rr`.
   * Off by default: turn it on for both sources (see `fillRespirationFromRr` for the FIT path) or neither, so
   * they stay indistinguishable. Set at creation.
   */
  respirationFromRr: boolean;
  /** The respiration estimator's state while `respirationFromRr` is on (a few KB), else null. */
  respiration: RespirationState | null;
}

const finiteOrNull = z.number().nullable();
const counter = z.number().int().min(0);
/** Checks a saved state before a normaliser resumes from it (it may come from Redis or a database). */
export const LiveNormalizerStateSchema = z.object({
  startMs: finiteOrNull,
  lastT: finiteOrNull,
  accepted: counter,
  droppedTime: counter,
  droppedJump: counter,
  jumpT: finiteOrNull,
  implausible: z.object(Object.fromEntries(CHANNELS.map((c) => [c, counter])) as Record<Channel, typeof counter>),
  droppedRr: counter,
  respirationFromRr: z.boolean(),
  // Checked in detail by the estimator itself when it resumes.
  respiration: z.custom<RespirationState>((v) => typeof v === 'object').nullable(),
});

/** Bits of {@link LiveBatchOutput.flags}: what happened in the batch. */
export const LiveFlag = {
  /** At least one sample was dropped because `t` went backwards or repeated. */
  TIME_DROPPED: 1,
  /** At least one value was outside its plausible range and set to missing. */
  IMPLAUSIBLE: 2,
  /** At least one RR interval was dropped as implausible. */
  RR_DROPPED: 4,
  /** At least one sample was dropped because `t` jumped more than a day ahead. */
  TIME_JUMP: 8,
} as const;

/**
 * What one batch produced. Pass it back to the next `push` to reuse its arrays and Sample objects (no allocation
 * in steady state); read or copy it before then.
 */
export interface LiveBatchOutput {
  /** Accepted samples, normalised, in order. */
  samples: Sample[];
  /** RR beats of the accepted samples: when each interval ended (s since run start, estimated) and its length. */
  rrT: number[];
  rrMs: number[];
  /** Samples accepted in this batch. */
  accepted: number;
  /** Samples dropped in this batch because `t` went backwards, repeated or jumped more than a day ahead. */
  droppedTime: number;
  /** Values set to missing in this batch as implausible. */
  implausible: number;
  /** RR intervals dropped in this batch as implausible. */
  droppedRr: number;
  /** OR of {@link LiveFlag} bits; 0 when the batch was clean. */
  flags: number;
  /** Every Sample object this output has handed out, kept for reuse (`samples` is a prefix of it). */
  readonly pool: Sample[];
}

export function createLiveBatchOutput(): LiveBatchOutput {
  return {
    samples: [],
    rrT: [],
    rrMs: [],
    accepted: 0,
    droppedTime: 0,
    implausible: 0,
    droppedRr: 0,
    flags: 0,
    pool: [],
  };
}

export interface LiveNormalizer {
  /** Normalises a parsed batch (from {@link parseWireBatch}); O(1) per sample. */
  push(batch: readonly WireSample[], out?: LiveBatchOutput): LiveBatchOutput;
  /** A JSON-safe copy of the state: `createLiveNormalizer(n.state())` continues exactly where `n` is. */
  state(): LiveNormalizerState;
  /** What was dropped so far, as warnings in the shape the FIT path reports them. */
  warnings(): IngestWarning[];
}

function zeroCounts(): Record<Channel, number> {
  return Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>;
}

/**
 * A normaliser for one run. Give it `{ startMs }` to fix the run start (otherwise the first sample with a
 * timestamp sets it) and `{ respirationFromRr: true }` to estimate missing respiration, or a saved
 * {@link LiveNormalizerState} to resume.
 *
 * Time rules, the same as the FIT path's where they can be: a sample whose `t` is before the run start, goes
 * backwards or repeats is dropped (repeats are resends here; the FIT path keeps equal timestamps). A jump of more
 * than a day ahead is a corrupt clock unless the next sample continues from it: the FIT path can look ahead, a live
 * stream cannot, so here the first sample after such a jump is dropped and the second, if it continues from the
 * first, is accepted as the end of a real gap.
 * @throws IngestError `LIVE_STATE_INVALID` when a given state does not have the expected shape.
 */
export function createLiveNormalizer(init?: Partial<LiveNormalizerState>): LiveNormalizer {
  const given = { ...defaultState(), ...init, implausible: { ...zeroCounts(), ...init?.implausible } };
  const checked = LiveNormalizerStateSchema.safeParse(given);
  if (!checked.success) {
    throw new IngestError('LIVE_STATE_INVALID', `live state: ${describeIssues(checked.error.issues, 'state')}`);
  }
  const st: LiveNormalizerState = checked.data;
  // The last accepted t, written for every sample, lives in a number-only field (NaN = none): a field that may
  // hold null is re-boxed by V8 on each fractional write. st.lastT is filled in by state().
  const clock = { lastT: st.lastT ?? NaN };
  const maxJumpS = MAX_TIME_JUMP_MS / 1000;
  // The estimator keeps its state in typed arrays; st.respiration is refreshed from it only in state().
  const breathing: RespirationEstimator | null = st.respirationFromRr
    ? createRespirationFromRr({}, st.respiration ?? undefined)
    : null;

  /** Whether a sample at `t` may follow the last accepted one; counts it when not. */
  function admit(t: number, out: LiveBatchOutput): boolean {
    const last = clock.lastT;
    if (t < 0 || !(t > last || Number.isNaN(last))) {
      st.droppedTime++;
      out.droppedTime++;
      out.flags |= LiveFlag.TIME_DROPPED;
      return false;
    }
    if (t - last > maxJumpS) {
      const jump = st.jumpT;
      if (jump === null || !(t > jump && t - jump <= maxJumpS)) {
        st.jumpT = t;
        st.droppedJump++;
        out.droppedTime++;
        out.flags |= LiveFlag.TIME_JUMP;
        return false;
      }
    }
    st.jumpT = null;
    return true;
  }

  function push(batch: readonly WireSample[], out: LiveBatchOutput = createLiveBatchOutput()): LiveBatchOutput {
    const samples = out.samples;
    const rrT = out.rrT;
    const rrMs = out.rrMs;
    let n = 0;
    // Written by index and trimmed at the end: emptying and regrowing the arrays would reallocate every batch.
    let beats = 0;
    out.accepted = 0;
    out.droppedTime = 0;
    out.implausible = 0;
    out.droppedRr = 0;
    out.flags = 0;

    for (let i = 0; i < batch.length; i++) {
      const w = batch[i]!;
      // Epoch ms, or NaN when absent (the schema has checked that an ISO string parses).
      const wireTs = w.timestamp;
      const ts = wireTs == null ? NaN : typeof wireTs === 'number' ? wireTs : Date.parse(wireTs);
      // A sample carrying both pins the run start even if later samples carry only a timestamp.
      if (st.startMs === null && ts === ts) st.startMs = w.t != null ? ts - w.t * 1000 : ts;
      // The schema guarantees t or timestamp, and startMs is set whenever a timestamp is present.
      const t = w.t != null ? w.t : (ts - st.startMs!) / 1000;
      if (!admit(t, out)) continue;
      clock.lastT = t;
      st.accepted++;
      out.accepted++;

      let s = out.pool[n];
      if (s === undefined) {
        s = emptySample();
        out.pool.push(s);
      }
      samples[n++] = s;
      s.t = t;
      s.timestamp = ts === ts ? ts : st.startMs !== null ? st.startMs + t * 1000 : NaN;
      // Copy, then clear what is implausible. No helper returns a value here: V8 boxes a fractional double
      // returned from (or passed to) a call it does not inline, which cost a GC every ~200k samples.
      s.hr = w.hr ?? NaN;
      s.cadence = w.cadence ?? NaN;
      s.speed = w.speed ?? NaN;
      s.distance = w.distance ?? NaN;
      s.altitude = w.altitude ?? NaN;
      s.temperature = w.temperature ?? NaN;
      s.respiration = w.respiration ?? NaN;
      s.power = w.power ?? NaN;
      // A position is both halves or neither; (0, 0) is a receiver without a fix (as in the FIT path).
      const lat = w.lat ?? NaN;
      const lon = w.lon ?? NaN;
      const fix = isPosition(lat, lon);
      s.lat = fix ? lat : NaN;
      s.lon = fix ? lon : NaN;
      if (!(s.hr >= hrLo && s.hr <= hrHi) && s.hr === s.hr) implausible(st, out, s, 'hr');
      if (!(s.cadence >= cadenceLo && s.cadence <= cadenceHi) && s.cadence === s.cadence) implausible(st, out, s, 'cadence');
      if (!(s.speed >= speedLo && s.speed <= speedHi) && s.speed === s.speed) implausible(st, out, s, 'speed');
      if (!(s.distance >= distanceLo && s.distance <= distanceHi) && s.distance === s.distance) implausible(st, out, s, 'distance');
      if (!(s.altitude >= altitudeLo && s.altitude <= altitudeHi) && s.altitude === s.altitude) implausible(st, out, s, 'altitude');
      if (!(s.temperature >= temperatureLo && s.temperature <= temperatureHi) && s.temperature === s.temperature) {
        implausible(st, out, s, 'temperature');
      }
      if (!(s.respiration >= respirationLo && s.respiration <= respirationHi) && s.respiration === s.respiration) {
        implausible(st, out, s, 'respiration');
      }
      if (!(s.power >= powerLo && s.power <= powerHi) && s.power === s.power) implausible(st, out, s, 'power');

      const rr = w.rr;
      if (rr != null) {
        // Beats have no times of their own: the last one ended at the sample, the others before it in turn.
        let total = 0;
        for (let k = 0; k < rr.length; k++) if (isPlausibleRr(rr[k]!)) total += rr[k]!;
        let end = t - total / 1000;
        for (let k = 0; k < rr.length; k++) {
          const ms = rr[k]!;
          if (!isPlausibleRr(ms)) {
            st.droppedRr++;
            out.droppedRr++;
            out.flags |= LiveFlag.RR_DROPPED;
            continue;
          }
          end += ms / 1000;
          rrT[beats] = end;
          rrMs[beats++] = ms;
          breathing?.pushBeat(end, ms);
        }
        // Only where the watch gives RR but no respiration of its own.
        if (breathing !== null && Number.isNaN(s.respiration)) s.respiration = breathing.rate();
      }
    }
    samples.length = n;
    rrT.length = beats;
    rrMs.length = beats;
    return out;
  }

  function state(): LiveNormalizerState {
    return {
      ...st,
      lastT: Number.isNaN(clock.lastT) ? null : clock.lastT,
      implausible: { ...st.implausible },
      respiration: breathing ? breathing.state() : null,
    };
  }

  function warnings(): IngestWarning[] {
    const list: IngestWarning[] = [];
    if (st.droppedTime > 0) {
      list.push({
        code: 'time_backwards',
        message: 'dropped samples whose time went back, repeated or was before the run start',
        count: st.droppedTime,
      });
    }
    if (st.droppedJump > 0) {
      list.push({ code: 'time_jump', message: 'dropped samples whose time jumped more than a day ahead', count: st.droppedJump });
    }
    for (const c of CHANNELS) {
      const count = st.implausible[c];
      if (count > 0) {
        const [lo, hi] = PLAUSIBLE[c];
        list.push({ code: IMPLAUSIBLE_CODE[c], message: `dropped ${c} values outside ${lo}..${hi}`, count });
      }
    }
    if (st.droppedRr > 0) {
      const [lo, hi] = RR_LIMITS_MS;
      list.push({ code: 'implausible_rr', message: `dropped RR intervals outside ${lo}..${hi} ms`, count: st.droppedRr });
    }
    return list;
  }

  return { push, state, warnings };
}

function defaultState(): LiveNormalizerState {
  return {
    startMs: null,
    lastT: null,
    accepted: 0,
    droppedTime: 0,
    droppedJump: 0,
    jumpT: null,
    implausible: zeroCounts(),
    droppedRr: 0,
    respirationFromRr: false,
    respiration: null,
  };
}

/** Clears an implausible value and counts it (rare: off the per-sample fast path). */
function implausible(st: LiveNormalizerState, out: LiveBatchOutput, s: Sample, name: Channel): void {
  s[name] = NaN;
  st.implausible[name]++;
  out.implausible++;
  out.flags |= LiveFlag.IMPLAUSIBLE;
}

// The limits as plain constants, read once: the checks above are the same as isPlausible() in plausible.ts.
const [hrLo, hrHi] = PLAUSIBLE.hr;
const [cadenceLo, cadenceHi] = PLAUSIBLE.cadence;
const [speedLo, speedHi] = PLAUSIBLE.speed;
const [distanceLo, distanceHi] = PLAUSIBLE.distance;
const [altitudeLo, altitudeHi] = PLAUSIBLE.altitude;
const [temperatureLo, temperatureHi] = PLAUSIBLE.temperature;
const [respirationLo, respirationHi] = PLAUSIBLE.respiration;
const [powerLo, powerHi] = PLAUSIBLE.power;

export function isPlausibleRr(ms: number): boolean {
  return ms >= RR_LIMITS_MS[0] && ms <= RR_LIMITS_MS[1];
}
