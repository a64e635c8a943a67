/**
 * zod schemas for everything that crosses the network: REST bodies and queries, and the /watch socket
 * messages. One schema gives the runtime check, the TypeScript type (`z.infer`) and the OpenAPI document.
 * Companion-app developers import the types from `src/wire/events.ts`.
 * @module
 */
import { z } from 'zod';
import { ALERT_KINDS } from '../../alerts/types.js';

// ---------------------------------------------------------------- shared pieces

const finite = () => z.number().refine(Number.isFinite, 'must be a finite number');

/** The stable code of a request refused because a string in it cannot be stored (400 on REST, an error ack live). */
export const BAD_STRING = 'BAD_STRING';
const BAD_STRING_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';
// Code units, not code points (no `u` flag): a high surrogate not followed by a low one, or a low one alone.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether every store can keep `s` as it is: PostgreSQL refuses a NUL in text and jsonb and an unpaired surrogate
 * in jsonb, and UTF-8 cannot encode either faithfully. The one check for strings from the network (REST bodies,
 * queries, paths, file names, socket messages).
 */
export function isStorableString(s: string): boolean {
  return !s.includes('\0') && !LONE_SURROGATE.test(s);
}

/**
 * Where the first unstorable string is in a parsed message (keys included), as a dotted path (`''` for the value
 * itself), or null when there is none. Walks at most `maxDepth` levels (deeper values are left to the schemas).
 */
export function unstorableStringAt(value: unknown, maxDepth = 8, path = ''): string | null {
  if (typeof value === 'string') return isStorableString(value) ? null : path;
  if (maxDepth <= 0 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = unstorableStringAt(value[i], maxDepth - 1, path ? `${path}.${i}` : String(i));
      if (at !== null) return at;
    }
    return null;
  }
  for (const [key, v] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    if (!isStorableString(key)) return here;
    const at = unstorableStringAt(v, maxDepth - 1, here);
    if (at !== null) return at;
  }
  return null;
}

/** A string every store can keep (see {@link isStorableString}); zod issues carry `params.code = 'BAD_STRING'`. */
export const safeString = () => z.string().refine(isStorableString, { message: BAD_STRING_MESSAGE, params: { code: BAD_STRING } });

export const CrampContextSchema = z.object({
  t: finite().min(0),
  muscle: safeString().max(60).optional(),
  severity: z.number().int().min(1).max(5).optional(),
  shareOfUsualLongRun: finite().optional(),
  decouplingPct: finite().optional(),
  cadenceChangePct: finite().optional(),
  fluidDeficitMl: finite().optional(),
  sodiumDeficitMg: finite().optional(),
  temperatureC: finite().optional(),
  intensity: finite().optional(),
});

/** The athlete's profile (alerts/types.ts `Profile`); everything optional. */
export const ProfileSchema = z
  .object({
    massKg: finite().min(25).max(250).optional(),
    hrMax: z.number().int().min(100).max(240).optional(),
    hrRest: z.number().int().min(25).max(120).optional(),
    lthr: z.number().int().min(80).max(230).optional(),
    sex: z.enum(['male', 'female']).optional(),
    age: z.number().int().min(5).max(110).optional(),
    usualLongRunMin: finite().min(5).max(2000).optional(),
    easyPaceMps: finite().min(0.5).max(8).optional(),
    sweatRateMlPerH: finite().min(0).max(4000).optional(),
    sweatSodiumMmolPerL: finite().min(0).max(150).optional(),
    crampHistory: z.union([z.number().int().min(0).max(10_000), z.array(CrampContextSchema).max(500)]).optional(),
  })
  .strict()
  .refine((p) => p.hrRest === undefined || p.hrMax === undefined || p.hrRest < p.hrMax, {
    message: 'hrRest must be below hrMax',
    path: ['hrRest'],
  })
  .meta({ id: 'Profile' });

export const ConditionsSchema = z
  .object({
    tempC: finite().min(-40).max(60).optional(),
    humidity: finite().min(0).max(100).optional(),
  })
  .strict()
  .meta({ id: 'Conditions' });

export const SessionKindSchema = z.enum(['easy', 'long', 'race', 'intervals']);

export const AlertSchema = z
  .object({
    id: z.string(),
    t: z.number(),
    kind: z.enum(ALERT_KINDS as [string, ...string[]]),
    cause: z.string(),
    message: z.string(),
    why: z.string(),
    severity: z.enum(['info', 'warning', 'urgent']),
  })
  .meta({ id: 'Alert' });

/** A run event from the watch (ingest/sample.ts `RunEvent`). */
export const WireEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('drink'), t: finite().min(0), ml: finite().min(0).max(3000) }).strict(),
  z.object({ type: z.literal('electrolyte'), t: finite().min(0), sodiumMg: finite().min(0).max(5000) }).strict(),
  z
    .object({
      type: z.literal('gel'),
      t: finite().min(0),
      sodiumMg: finite().min(0).max(5000).optional(),
      carbsG: finite().min(0).max(200).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('cramp'),
      t: finite().min(0),
      muscle: safeString().trim().min(1).max(60),
      severity: z.number().int().min(1).max(5),
    })
    .strict(),
  z.object({ type: z.literal('pause'), t: finite().min(0) }).strict(),
  z.object({ type: z.literal('resume'), t: finite().min(0) }).strict(),
  z.object({ type: z.literal('lap'), t: finite().min(0) }).strict(),
]);

export const LapSchema = z
  .object({ startT: z.number(), endT: z.number(), distanceM: z.number().nullable() })
  .meta({ id: 'Lap' });
export const PauseSchema = z.object({ startT: z.number(), endT: z.number() }).meta({ id: 'Pause' });
/** One leg of a multisport file (ingest/sample.ts `Leg`); the running legs are the ones analysed. */
export const LegSchema = z
  .object({ sport: z.string().nullable(), subSport: z.string().nullable(), startT: z.number(), endT: z.number(), running: z.boolean() })
  .meta({ id: 'Leg' });

export const RiskPointSchema = z
  .object({
    t: z.number(),
    score: z.number(),
    factors: z.array(z.string()),
    fluidDeficitMl: z.number().optional().describe('Estimated fluid deficit at t, mL (live `risk` events)'),
  })
  .meta({ id: 'RiskPoint' });

export const FluidPointSchema = z
  .object({ t: z.number(), deficitMl: z.number().describe('Modelled sweat loss so far minus logged drinks, mL') })
  .meta({ id: 'FluidPoint' });

export const ErrorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'Error' });

/** A run report, as `crampguard analyze --json` prints it (alerts/types.ts `Report`). Open-ended. */
export const ReportSchema = z
  .object({
    ok: z.literal(true),
    sport: z.string().nullable(),
    startTime: z.string().nullable(),
    durationS: z.number(),
    movingTimeS: z.number(),
    distanceM: z.number().nullable(),
    channels: z.array(z.string()),
    warnings: z.array(z.object({ code: z.string(), message: z.string(), count: z.number().optional() })),
    metrics: z.record(z.string(), z.number().nullable()),
    alerts: z.array(AlertSchema),
    risk: z.array(RiskPointSchema),
    fluid: z.array(FluidPointSchema).optional().describe('Estimated fluid deficit over time, at the risk points\' times'),
  })
  .loose()
  .meta({ id: 'Report' });

// ---------------------------------------------------------------- REST

export const CreateAthleteBody = z
  .object({ name: safeString().trim().min(1).max(100), profile: ProfileSchema.optional() })
  .strict();
export const CreateAthleteResponse = z.object({
  id: z.string(),
  token: z.string().describe('Shown once; send it as `Authorization: Bearer TOKEN`.'),
});
export const AthleteSchema = z
  .object({ id: z.string(), name: z.string(), profile: ProfileSchema, createdAt: z.string() })
  .meta({ id: 'Athlete' });
export const PutProfileBody = z
  .object({ name: safeString().trim().min(1).max(100).optional(), profile: ProfileSchema })
  .strict();

/** PATCH /api/athletes/me: the fields given replace the stored ones; the merged profile is checked whole. */
export const PatchProfileBody = z.object({ profile: ProfileSchema }).strict();

/**
 * `overrides` over `stored`, checked whole: each part may be valid alone and the merge not (a stored hrMax 150
 * with an hrRest 160 override). The one merge for the REST PATCH and a live run's `start` overrides.
 * @returns the merged profile, or the one-line problem with it.
 */
export function mergeProfile<P extends object>(stored: P, overrides: object | undefined): { ok: true; profile: P } | { ok: false; message: string } {
  if (!overrides) return { ok: true, profile: stored };
  const merged = { ...stored, ...overrides };
  const checked = ProfileSchema.safeParse(merged);
  if (checked.success) return { ok: true, profile: merged };
  const issue = checked.error.issues[0]!;
  return { ok: false, message: `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message} (in the merged profile)` };
}

const queryNumber = (min: number, max: number) => z.coerce.number().refine(Number.isFinite).pipe(z.number().min(min).max(max));

export const UploadQuery = z.object({
  temp: queryNumber(-40, 60).optional().describe('Air temperature, °C'),
  humidity: queryNumber(0, 100).optional().describe('Relative humidity, %'),
  sessionKind: SessionKindSchema.optional(),
});
export const UploadResponse = z.object({ id: z.string(), report: ReportSchema });

export const ListRunsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: safeString().max(200).optional().describe('Cursor: the `next` value of the previous page'),
  status: z.enum(['live', 'ended']).optional(),
});
export const RunSummarySchema = z
  .object({
    id: z.string(),
    source: z.enum(['upload', 'live']),
    status: z.enum(['live', 'ended']),
    name: z.string().nullable(),
    startTime: z.string().nullable(),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
    sampleCount: z.number(),
    durationS: z.number().nullable(),
    distanceM: z.number().nullable(),
    prompts: z.number().int().nullable().describe('Prompts in the report; null while there is no report'),
    peakRisk: z.number().nullable().describe('Highest cramp-risk score in the report (0–100); null without one'),
    sport: z.string().nullable().describe('The file\'s sport (running, trail_running, …); null when unknown'),
    paceSPerKm: z.number().nullable().describe('Average pace over the moving time, s/km; null without a distance or a report'),
  })
  .meta({ id: 'RunSummary' });
export const ListRunsResponse = z.object({ runs: z.array(RunSummarySchema), next: z.string().nullable() });
const SplitSchema = z
  .object({
    index: z.number().int(),
    startT: z.number(),
    endT: z.number(),
    distanceM: z.number().nullable(),
    movingTimeS: z.number(),
    paceSPerKm: z.number().nullable(),
    avgHr: z.number().nullable(),
    maxHr: z.number().nullable(),
    avgCadence: z.number().nullable(),
    elevationGainM: z.number().nullable(),
  })
  .meta({ id: 'Split' });
/** src/server/run-summary.ts `RunSummaryView`: the run page's cards, laps and splits. */
export const RunPageSummarySchema = z
  .object({
    sport: z.string().nullable(),
    subSport: z.string().nullable(),
    device: z.string().nullable(),
    startTime: z.string().nullable(),
    distanceM: z.number().nullable(),
    durationS: z.number().nullable(),
    movingTimeS: z.number().nullable(),
    avgPaceSPerKm: z.number().nullable(),
    avgHr: z.number().nullable(),
    maxHr: z.number().nullable(),
    elevationGainM: z.number().nullable(),
    avgCadence: z.number().nullable(),
    weather: z.object({
      tempC: z.number().nullable(),
      tempSource: z.enum(['given', 'watch', 'assumed']),
      humidity: z.number().nullable(),
      humiditySource: z.enum(['given', 'assumed']),
    }),
    laps: z.array(SplitSchema),
    splits: z.object({ km: z.array(SplitSchema), mi: z.array(SplitSchema) }),
  })
  .describe('Headline numbers (the report\'s where it has them, else from the samples), laps and per-km/mile splits')
  .meta({ id: 'RunPageSummary' });

export const RunResponse = z.object({
  id: z.string(),
  source: z.enum(['upload', 'live']),
  status: z.enum(['live', 'ended']),
  startTime: z.string().nullable(),
  report: ReportSchema.nullable().describe('null while a live run is still going'),
  laps: z.array(LapSchema).describe('From the file, or from the watch\'s lap events once a live run has ended'),
  pauses: z.array(PauseSchema).describe('Stopped stretches (timer paused or recording gaps)'),
  events: z.array(WireEventSchema).describe('Drinks, electrolytes, gels, cramps, pauses, resumes and laps, by time'),
  legs: z.array(LegSchema).describe('The file\'s legs (one for a single-sport file or an ended live run, none while a run is live): a replay analyses the running ones, as the report did'),
  conditions: ConditionsSchema.nullable().describe('The weather the report was analysed with (the upload\'s temp/humidity, a live start\'s conditions); null when none was given'),
  sessionKind: SessionKindSchema.nullable().describe('The session kind the report was analysed with, when one was given'),
  replayOf: z.string().nullable().describe('A live run that replays a stored one (CLI replay, simulator): that run\'s id'),
  summary: RunPageSummarySchema.nullable(),
});

/** Rows one samples response carries at most, raw or downsampled (~2 MB of JSON with every field). */
export const SAMPLES_MAX_ROWS = 20_000;
/** Points a long run is downsampled to when the request names no `maxPoints` and no `limit`. */
export const SAMPLES_DEFAULT_POINTS = 5_000;

export const SamplesQuery = z.object({
  maxPoints: z.coerce
    .number()
    .int()
    .min(10)
    .max(SAMPLES_MAX_ROWS)
    .optional()
    .describe(`Downsample to at most this many points (bucket means). Default: every row of a run up to ${SAMPLES_MAX_ROWS} rows, ${SAMPLES_DEFAULT_POINTS} points for a longer one`),
  fields: z
    .string()
    .regex(/^[a-z]+(,[a-z]+)*$/)
    .optional()
    .describe('Comma-separated columns, e.g. `t,hr,speed` (default all)'),
  from: z.coerce.number().refine(Number.isFinite).optional().describe('Only rows with t ≥ from (seconds since the first record)'),
  to: z.coerce.number().refine(Number.isFinite).optional().describe('Only rows with t < to'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(SAMPLES_MAX_ROWS)
    .optional()
    .describe('Raw rows from `from` on, at most this many, never downsampled; `next` is the `from` of the following page'),
});
export const SamplesResponse = z.object({
  length: z.number(),
  downsampled: z.boolean(),
  columns: z.record(z.string(), z.array(z.number().nullable())).describe('One array per field; null = missing'),
  next: z.number().nullable().optional().describe('With `limit`: the `from` of the next page, null on the last'),
});

export const CrampBody = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional().describe('Client-chosen id: a retry with the same id changes nothing'),
    runId: safeString().min(1).max(100).optional(),
    t: finite().min(0).max(7 * 86_400).optional().describe('Seconds since the run started'),
    muscle: safeString().trim().min(1).max(60),
    severity: z.number().int().min(1).max(5),
    note: safeString().max(2000).default(''),
  })
  .strict();
export const CrampSchema = z
  .object({
    id: z.string(),
    runId: z.string().nullable(),
    t: z.number().nullable(),
    muscle: z.string(),
    severity: z.number(),
    note: z.string(),
    createdAt: z.string(),
    context: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Cramp' });
export const ListCrampsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: safeString().max(200).optional(),
});
export const ListCrampsResponse = z.object({ cramps: z.array(CrampSchema), next: z.string().nullable() });

// ---------------------------------------------------------------- /watch socket

/** The range of a live run's `startTime`, epoch ms: past it a date cannot be what a watch measured. */
const START_TIME_MIN_MS = 86_400_000;
const START_TIME_MAX_MS = Date.UTC(2200, 0, 1);

/** Client-chosen run id: the same id again resumes (idempotent start). */
const RUN_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const RunIdSchema = z.string().regex(RUN_ID, 'run id: 8–64 characters of A–Z a–z 0–9 _ -');

export const StartRunMsg = z
  .object({
    runId: RunIdSchema,
    /** ISO 8601 or epoch ms: when the run's first record was taken (1970-01-02 to 2200-01-01). */
    startTime: z
      .union([z.iso.datetime({ offset: true }), z.number().int().positive()])
      .refine((v) => {
        const ms = typeof v === 'number' ? v : Date.parse(v);
        return ms >= START_TIME_MIN_MS && ms < START_TIME_MAX_MS;
      }, 'startTime: must be between 1970-01-02 and 2200-01-01'),
    conditions: ConditionsSchema.optional(),
    sessionKind: SessionKindSchema.optional(),
    /** The activity's sport (FIT/Strava names, e.g. running, trail_running, cycling); only running is analysed. Absent = running. */
    sport: safeString().trim().min(1).max(40).optional(),
    /** Overrides merged over the stored profile for this run only. */
    profile: ProfileSchema.optional(),
  })
  .strict();

export const EndRunMsg = z.object({ runId: RunIdSchema }).strict();


export type RunSummaryJson = z.infer<typeof RunSummarySchema>;
export type RunJson = z.infer<typeof RunResponse>;
export type UploadJson = z.infer<typeof UploadResponse>;
export type AthleteJson = z.infer<typeof AthleteSchema>;
/** The answers' types, for clients (the dashboard's src/dashboard/web/src/api.ts) that must not restate them. */
export type RunPageSummaryJson = z.infer<typeof RunPageSummarySchema>;
export type SplitJson = RunPageSummaryJson['laps'][number];
export type CrampJson = z.infer<typeof CrampSchema>;
export type NewCrampJson = z.input<typeof CrampBody>;

/** Sample batch message (the samples themselves are checked by ingest/live.ts `parseWireBatch`). */
export const SampleBatchMsgSchema = z
  .object({ runId: RunIdSchema, seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), samples: z.array(z.unknown()) })
  .strict();
export type SampleBatchMsg = z.infer<typeof SampleBatchMsgSchema>;

/**
 * A sample batch message {@link SampleBatchMsgSchema} takes as it is, checked without allocating (a watch sends one a
 * second): true only where the schema says yes (tests/ingest/wire-fast-path.test.ts); false sends it to the schema.
 */
export function isPlainSampleBatchMsg(raw: unknown): raw is SampleBatchMsg {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const m = raw as Record<string, unknown>;
  let keys = 0;
  for (const k in m) {
    if (k !== 'runId' && k !== 'seq' && k !== 'samples') return false;
    keys++;
  }
  const { runId, seq } = m;
  return keys === 3 && typeof runId === 'string' && RUN_ID.test(runId) && Number.isSafeInteger(seq) && (seq as number) >= 1 && Array.isArray(m.samples);
}
export const EventMsgSchema = z
  .object({ runId: RunIdSchema, id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/), event: WireEventSchema })
  .strict();
export const FollowByIdMsg = z.object({ runId: safeString().min(1).max(128) }).strict();
