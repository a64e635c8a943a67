/**
 * `GET /api/runs/:id/export?format=fit|gpx|csv|json`: a stored run as a file to download (src/export/run.ts), and
 * `GET /api/config`: the settings the dashboard needs (upload limit, map tiles), served so the page and the server
 * cannot disagree.
 * @module
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { allocColumns } from '../../ingest/sample.js';
import { EXPORT_FORMATS, exportFileName, exportProblem, exportRunAsync } from '../export/run.js';
import type { Store } from '../store/types.js';
import { athleteOf } from './auth.js';
import { tileOrigin, type AppConfig } from './config.js';
import { ApiError, notFound } from './errors.js';

export const ExportQuery = z.object({
  format: z.string().max(20).optional(),
});

/** What the dashboard reads before it shows a page. */
export function publicConfig(config: AppConfig) {
  const osm = /(^|\.)openstreetmap\.org$/.test(new URL(tileOrigin(config.mapTileUrl) ?? 'http://none').hostname.replace(/^\*\./, ''));
  return {
    uploadLimitBytes: config.uploadLimitBytes,
    mapTileUrl: config.mapTileUrl,
    mapAttribution: config.mapTileUrl === '' ? '' : osm ? '© OpenStreetMap contributors' : `Map tiles: ${tileOrigin(config.mapTileUrl) ?? ''}`,
  };
}

export function registerRunExport(router: Router, deps: { config: AppConfig; store: Store; auth: RequestHandler }): void {
  const { config, store, auth } = deps;

  router.get('/config', (_req, res) => {
    res.json(publicConfig(config));
  });

  router.get('/runs/:id/export', auth, async (req: Request, res: Response) => {
    const { format = '' } = ExportQuery.parse(req.query);
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new ApiError(400, 'BAD_EXPORT_FORMAT', `format must be one of ${EXPORT_FORMATS.join(', ')}`);
    }
    const f = format as (typeof EXPORT_FORMATS)[number];
    const me = athleteOf(res);
    const record = await store.getRun(me.id, String(req.params.id));
    if (!record) throw notFound('run');
    const samples = f === 'json' ? null : await store.readSamples(me.id, record.id);
    if (f !== 'json' && !samples) throw notFound('run');
    const run = {
      name: record.name,
      startTime: record.startTime,
      meta: record.meta,
      report: record.report,
      samples: samples ?? allocColumns(0),
    };
    const problem = exportProblem(run, f);
    if (problem) throw new ApiError(422, problem.code, problem.message);
    // In steps with event-loop turns between them: a long run's export never holds live prompts.
    const file = await exportRunAsync(run, f);
    res
      .status(200)
      .type(file.contentType)
      .set('Content-Disposition', `attachment; filename="${exportFileName(run, f)}"`)
      .send(typeof file.body === 'string' ? file.body : Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength));
  });
}
