/**
 * The REST API: accounts, FIT uploads, runs, samples, the cramp journal. Every handler validates with the
 * zod schemas in src/wire/schemas.ts (the same ones the OpenAPI document is built from) and throws coded
 * errors; express 5 forwards rejected promises to the one error middleware in app.ts.
 * @module
 */
import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import multer from 'multer';
import { IngestError } from '../../ingest/errors.js';
import { hasPosition } from '../../ingest/sample.js';
import type { JournalEntry, RunRecord, RunSummary, Store, StoredRunEvent } from '../store/types.js';
import * as W from '../wire/schemas.js';
import type { Analyzer } from './analyzer.js';
import { athleteOf, requireAthlete } from './auth.js';
import type { AppConfig } from './config.js';
import { columnsForChart, parseFields, sampleWindow } from './downsample.js';
import { ApiError, badString, notFound } from './errors.js';
import type { Metrics } from './metrics.js';
import { runSettings, runTimeline } from './run-view.js';
import { findSameActivity } from './duplicates.js';
import { registerRunExport } from './run-export.js';
import { summariseRun } from './run-summary.js';
import { AthleteService, stampReport } from './athlete.js';
import { registerAthleteRoutes } from './athlete-routes.js';
import { Reanalyzer } from './reanalyze.js';

export interface ApiDeps {
  config: AppConfig;
  store: Store;
  analyzer: Analyzer;
  metrics: Metrics;
  /** Told when a run is deleted, so a live session in memory goes too. */
  onRunDeleted?: (athleteId: string, runId: string) => void;
}

/** Media types an activity upload may be sent as; the content, not the type, decides the format (ingest/decode.ts). */
const ACTIVITY_MEDIA_TYPES = [
  'application/octet-stream',
  'application/vnd.ant.fit',
  'application/fit',
  'application/gpx+xml',
  'application/vnd.garmin.tcx+xml',
  'application/tcx+xml',
  'application/xml',
  'text/xml',
  'application/gzip',
  'application/x-gzip',
];

/** A list item: the stored summary, with the prompt count and peak risk the store keeps from the report. */
export function summaryJson(r: RunSummary): W.RunSummaryJson {
  // A run still live has no report yet (the list has always shown null for it).
  const ended = r.status === 'ended';
  return {
    id: r.id,
    source: r.source,
    status: r.status,
    name: r.name,
    startTime: r.startTime,
    createdAt: r.createdAt,
    endedAt: r.endedAt,
    sampleCount: r.sampleCount,
    durationS: r.durationS,
    distanceM: r.distanceM,
    prompts: ended ? r.prompts : null,
    peakRisk: ended ? r.peakRisk : null,
    sport: r.sport,
    paceSPerKm: ended ? r.paceSPerKm : null,
  };
}

function runJson(r: RunRecord, events: StoredRunEvent[] | null) {
  return { id: r.id, source: r.source, status: r.status, startTime: r.startTime, report: r.report, ...runTimeline(r.meta, events), ...runSettings(r.options) };
}

function crampJson(e: JournalEntry) {
  return { id: e.id, runId: e.runId, t: e.t, muscle: e.muscle, severity: e.severity, note: e.note, createdAt: e.createdAt, context: e.context };
}

/** 400 BAD_STRING for a JSON body holding a string no store can keep (a NUL, an unpaired surrogate). */
function refuseUnstorableBody(req: Request, _res: Response, next: NextFunction): void {
  const at = W.unstorableStringAt(req.body);
  next(at === null ? undefined : badString(at || 'body'));
}

export function apiRouter(deps: ApiDeps): Router {
  const { config, store, analyzer, metrics } = deps;
  // The athlete model: the profile the engine gets (typed > learned > default, the journal's cramps).
  const athletes = new AthleteService(store, analyzer);
  const router = express.Router();
  const auth = requireAthlete(store);
  // Every string in a JSON body (keys too) must be storable by every store (src/wire/schemas.ts isStorableString).
  const json: RequestHandler[] = [express.json({ limit: '256kb' }), refuseUnstorableBody];
  const raw = express.raw({ type: () => true, limit: config.uploadLimitBytes });
  const multipart = multer({ storage: multer.memoryStorage(), limits: { fileSize: config.uploadLimitBytes, files: 1, fields: 10 } }).single('file');

  /** Reads the upload as raw bytes or the multipart field `file`; refuses other media types. */
  function uploadBody(req: Request, res: Response, next: NextFunction): void {
    if (req.is('multipart/form-data')) {
      return void multipart(req, res, (err?: unknown) => {
        // busboy's parse errors ("Unexpected end of form", "Malformed part header") are the client's, not ours.
        if (err && (err as { name?: string }).name !== 'MulterError' && !(err as { status?: number }).status) {
          return next(new ApiError(400, 'BAD_UPLOAD', 'the multipart body is malformed'));
        }
        if (!err && req.file && !W.isStorableString(req.file.originalname)) return next(badString('file name'));
        next(err);
      });
    }
    if (!req.headers['content-type'] || req.is(ACTIVITY_MEDIA_TYPES)) return void raw(req, res, next);
    next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the FIT, GPX or TCX file (or it gzipped) as application/octet-stream or multipart field `file`'));
  }

  // Accounts ------------------------------------------------------------------------------------------------
  router.post('/athletes', ...json, async (req, res) => {
    if (!config.registrationOpen) throw new ApiError(403, 'REGISTRATION_CLOSED', 'registration is closed on this server');
    const body = W.CreateAthleteBody.parse(req.body ?? {});
    const { athlete, token } = await store.createAthlete({ name: body.name, ...(body.profile ? { profile: body.profile } : {}) });
    res.status(201).json({ id: athlete.id, token });
  });

  router.get('/athletes/me', auth, (_req, res) => {
    res.json(athleteOf(res));
  });

  router.put('/athletes/me', auth, ...json, async (req, res) => {
    const me = athleteOf(res);
    const body = W.PutProfileBody.parse(req.body ?? {});
    if (body.name !== undefined && body.name !== me.name) {
      throw new ApiError(400, 'NAME_READ_ONLY', 'the name cannot be changed yet');
    }
    const updated = await store.updateAthleteProfile(me.id, body.profile);
    if (!updated) throw notFound('athlete');
    res.json(updated);
  });

  /**
   * A place in the upload queue before the body is read (so queued uploads' bytes are bounded too): 429 with
   * Retry-After past the queue or the athlete's share. Freed when the handler ends, or when the request ends first.
   */
  function admitUpload(_req: Request, res: Response, next: NextFunction): void {
    const admission = analyzer.admit(athleteOf(res).id);
    res.locals.admission = admission;
    res.once('close', () => {
      if (!res.locals.uploadHandled) admission.release();
    });
    next();
  }

  router.patch('/athletes/me', auth, ...json, async (req, res) => {
    const me = athleteOf(res);
    const body = W.PatchProfileBody.parse(req.body ?? {});
    const merged = W.mergeProfile(me.profile, body.profile);
    if (!merged.ok) throw new ApiError(400, 'BAD_PROFILE', merged.message);
    const updated = await store.updateAthleteProfile(me.id, merged.profile);
    if (!updated) throw notFound('athlete');
    res.json(updated);
  });

  // Runs ----------------------------------------------------------------------------------------------------
  router.post('/runs', auth, admitUpload, uploadBody, async (req, res) => {
    const started = performance.now();
    let outcome: 'created' | 'duplicate' | 'rejected' = 'rejected';
    res.locals.uploadHandled = true;
    try {
      const me = athleteOf(res);
      const query = W.UploadQuery.parse(req.query);
      const bytes: Buffer | undefined = req.file ? req.file.buffer : Buffer.isBuffer(req.body) ? req.body : undefined;
      if (!bytes || bytes.length === 0) {
        throw new IngestError('FIT_EMPTY', req.file || req.is(ACTIVITY_MEDIA_TYPES) ? 'the file is empty' : 'no file: send the FIT, GPX or TCX bytes as the body or as multipart field `file`');
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      const known = await store.findRunByFileSha(me.id, sha);
      if (known) {
        outcome = 'duplicate';
        res.status(200).json({ id: known.id, report: known.report });
        return;
      }
      const { options } = await athletes.engineOptions(me.id, me.profile);
      if (query.temp !== undefined || query.humidity !== undefined) {
        options.conditions = {
          ...(query.temp !== undefined ? { tempC: query.temp } : {}),
          ...(query.humidity !== undefined ? { humidity: query.humidity } : {}),
        };
      }
      if (query.sessionKind) options.sessionKind = query.sessionKind;
      const { run, report, summary, chunks } = await analyzer.analyze(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
      stampReport(report, options);
      // The same activity in other bytes (re-exported, another app's copy): 409 with the stored run's id.
      const same = await findSameActivity(store, me.id, run.meta);
      if (same) {
        outcome = 'duplicate';
        res.status(409).json({
          error: { code: 'DUPLICATE_RUN', message: `this activity is already stored (run ${same.id}, started ${same.startTime})` },
          id: same.id,
        });
        return;
      }
      const stored = await store.createUploadedRun(me.id, {
        fileSha256: sha,
        run,
        chunks,
        report,
        options,
        ...(req.file?.originalname ? { name: req.file.originalname.slice(0, 200) } : {}),
      });
      outcome = stored.created ? 'created' : 'duplicate';
      if (stored.created) await store.saveRunSummary(me.id, stored.run.id, summary);
      res.status(stored.created ? 201 : 200).json({ id: stored.run.id, report: stored.run.report ?? report });
    } finally {
      (res.locals.admission as { release(): void }).release();
      metrics.upload((performance.now() - started) / 1000, outcome);
    }
  });

  router.get('/runs', auth, async (req, res) => {
    const q = W.ListRunsQuery.parse(req.query);
    const me = athleteOf(res);
    const page = await store.listRuns(me.id, { limit: q.limit, ...(q.before ? { before: q.before } : {}), ...(q.status ? { status: q.status } : {}) });
    // The summaries carry each run's prompt count and peak risk: no report is read.
    res.json({ runs: page.items.map((r) => summaryJson(r)), next: page.nextCursor });
  });

  router.get('/runs/:id', auth, async (req, res) => {
    const me = athleteOf(res);
    const run = await store.getRun(me.id, String(req.params.id));
    if (!run) throw notFound('run');
    const [events, samples] = await Promise.all([store.listEvents(me.id, run.id), store.readSamples(me.id, run.id)]);
    const summary = samples ? summariseRun({ report: run.report, meta: run.meta, options: run.options, startTime: run.startTime, samples }) : null;
    res.json({ ...runJson(run, events), replayOf: run.replayOf, summary });
  });

  router.get('/runs/:id/samples', auth, async (req, res) => {
    const q = W.SamplesQuery.parse(req.query);
    const cols = await store.readSamples(athleteOf(res).id, String(req.params.id));
    if (!cols) throw notFound('run');
    // Every field unless asked for some; lat/lon only for a run with a position (a map, a GPX export).
    const fields = q.fields || hasPosition(cols) ? parseFields(q.fields) : parseFields(undefined).filter((f) => f !== 'lat' && f !== 'lon');
    res.json(sampleWindow(cols, fields, q));
  });

  router.delete('/runs/:id', auth, async (req, res) => {
    const me = athleteOf(res);
    const id = String(req.params.id);
    if (!(await store.deleteRun(me.id, id))) throw notFound('run');
    deps.onRunDeleted?.(me.id, id);
    res.status(204).end();
  });

  registerRunExport(router, { config, store, auth });

  // Cramp journal -------------------------------------------------------------------------------------------
  router.post('/cramps', auth, ...json, async (req, res) => {
    const body = W.CrampBody.parse(req.body ?? {});
    const me = athleteOf(res);
    // Logged against a run and a time in it: the context comes from that run's own data at that time.
    const context =
      body.runId && typeof body.t === 'number'
        ? await athletes.crampContextFor(me.id, body.runId, body.t, { muscle: body.muscle, severity: body.severity }, me.profile)
        : null;
    const entry = await store.addJournalEntry(me.id, {
      ...(body.id ? { id: body.id } : {}),
      runId: body.runId ?? null,
      t: body.t ?? null,
      muscle: body.muscle,
      severity: body.severity,
      note: body.note,
      ...(context ? { context: context as unknown as Record<string, unknown> } : {}),
    });
    if (!entry) throw notFound('run');
    res.status(201).json(crampJson(entry));
  });

  router.get('/cramps', auth, async (req, res) => {
    const q = W.ListCrampsQuery.parse(req.query);
    const page = await store.listJournal(athleteOf(res).id, { limit: q.limit, ...(q.before ? { before: q.before } : {}) });
    res.json({ cramps: page.items.map(crampJson), next: page.nextCursor });
  });

  registerAthleteRoutes(router, { store, athletes, reanalyzer: new Reanalyzer(store, analyzer, athletes) });

  return router;
}
