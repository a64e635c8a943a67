/**
 * The express 5 application: headers (helmet), health, metrics, the API under /api, the OpenAPI document,
 * the dashboard's static files, and the one error middleware that turns coded errors into
 * `{error:{code,message}}` (never a stack trace).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { unstorableStringAt } from '../wire/schemas.js';
import { tileOrigin } from './config.js';
import { ApiError, badString, toClientError } from './errors.js';
import type { LiveBacklog } from '../live/backlog.js';
import { buildOpenApi, DOCS_HTML, DOCS_JS } from './openapi.js';
import { apiRouter, type ApiDeps } from './routes.js';

export interface AppDeps extends ApiDeps {
  log: Logger;
  version: string;
  /** Where the built dashboard is when DASHBOARD_DIR is not set. */
  defaultDashboardDir: string;
  /** Extra middleware run before /api (the place for rate limits). */
  limits?: RequestHandler[];
  /** The live path's unstored samples and write health: /healthz says degraded while its writes fail. */
  backlog?: LiveBacklog;
  /** The watch protocol over HTTP (src/server/watch-http.ts), mounted at /api/watch. */
  watchHttp?: RequestHandler;
  /** Where the built phone companion is (served at /companion when it holds an index.html). */
  companionDir?: string;
}

const HOME_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>crampguard</title></head>
<body style="font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto">
<h1>crampguard</h1><p>The in-run cramp coach's server is running. The dashboard is not built on this server yet.</p>
<ul><li><a href="/api/docs">API documentation</a> (<a href="/api/openapi.json">OpenAPI 3.1</a>)</li>
<li>Live runs: socket.io namespace <code>/watch</code>, websocket transport</li>
<li><a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></li></ul></body></html>`;

/**
 * index.html is revalidated on every load (it names the current bundle, so after a deploy browsers must see the
 * new asset names at once); Vite's content-hashed files under assets/ never change under their name, so they
 * are cached for a year; anything else for an hour.
 */
export function dashboardCacheControl(path: string): string {
  if (path.endsWith('.html')) return 'no-cache';
  if (/[\\/]assets[\\/][^\\/]+-[\w-]{8}\.\w+(\.map)?$/.test(path)) return 'public, max-age=31536000, immutable';
  return 'public, max-age=3600';
}

/** The companion's service worker and manifest are revalidated on every load, like index.html. */
function setCompanionCaching(res: Response, path: string): void {
  res.setHeader('Cache-Control', /[\\/]sw\.js$/.test(path) || path.endsWith('.webmanifest') ? 'no-cache' : dashboardCacheControl(path));
}

function setDashboardCaching(res: Response, path: string): void {
  res.setHeader('Cache-Control', dashboardCacheControl(path));
}

/** A request URL for the logs: the path, and each query parameter's name with its value redacted (`?token=…`). */
export function redactedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=', 1)[0]!.slice(0, 64)}=[redacted]`);
  return `${url.slice(0, q)}?${names.join('&')}`;
}

/** An incoming X-Request-Id worth keeping (a proxy's id), else null: a fresh one is made. */
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * The first middleware: an absolute-form request target (`GET http://host/path`, RFC 9112 §3.2.2) is reduced to
 * its path and query, so nothing (a redirect's Location, the logs) ever echoes a host the client chose; a path or
 * query holding a NUL or an unpaired surrogate once decoded is refused 400 BAD_STRING before any handler sees it.
 */
function normaliseTarget(req: Request, _res: Response, next: NextFunction): void {
  if (!req.url.startsWith('/')) {
    let target: URL;
    try {
      target = new URL(req.url);
    } catch {
      return next(new ApiError(400, 'BAD_REQUEST', 'the request target is not a path'));
    }
    req.url = `${target.pathname}${target.search}`;
    req.originalUrl = req.url;
  }
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return next(new ApiError(400, 'BAD_REQUEST', 'the path is not valid percent-encoded UTF-8'));
  }
  if (unstorableStringAt(path) !== null) return next(badString('path'));
  const at = unstorableStringAt(req.query);
  next(at === null ? undefined : badString(`query ${at}`));
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // TRUST_PROXY (src/server/config.ts): which peers' X-Forwarded-For names the client (req.ip).
  app.set('trust proxy', deps.config.trustProxy);
  // Request ids and the access log: one line per request, after it is answered or abandoned.
  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    res.once('close', () => {
      deps.log.info(
        {
          reqId: id,
          method: req.method,
          url: redactedUrl(req.originalUrl),
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          addr: req.ip,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    next();
  });
  app.use(normaliseTarget);
  app.use(
    helmet({
      // The server speaks plain HTTP itself (TLS, if any, ends at a proxy): asking browsers to upgrade every
      // request to https would break the dashboard when it is opened over the LAN.
      // The route map's tiles are images from MAP_TILE_URL's origin.
      contentSecurityPolicy: {
        directives: {
          upgradeInsecureRequests: null,
          imgSrc: ["'self'", 'data:', ...(tileOrigin(deps.config.mapTileUrl) ? [tileOrigin(deps.config.mapTileUrl)!] : [])],
        },
      },
    }),
  );

  // Liveness: the process is up and its event loop turns (an orchestrator restarts it only when this fails;
  // a database outage is not a reason).
  app.get('/livez', (_req, res) => {
    res.json({ ok: true, status: 'live' });
  });
  // Readiness: the store answers, so this process can serve (a balancer sends traffic only while it says so).
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.store.ping();
    } catch {
      return void res
        .status(503)
        .set('Retry-After', '1')
        .json({ ok: false, status: 'not_ready', store: deps.store.kind, error: { code: 'STORE_UNAVAILABLE', message: 'the store does not answer' } });
    }
    res.json({ ok: true, status: 'ready', store: deps.store.kind });
  });
  // /healthz (kept for compatibility): the store and the live path's write health together.
  app.get('/healthz', async (_req, res) => {
    const backlog = deps.backlog;
    const live = backlog ? { unstoredSamples: backlog.samples, unstoredWrites: backlog.writes } : {};
    // Degraded, not dead: the process is up, live prompts go on from memory, and it resumes storing by itself
    // once the store answers again.
    const degraded = (message: string) =>
      res
        .status(503)
        .set('Retry-After', '1')
        .json({
          ok: false,
          status: 'degraded',
          store: deps.store.kind,
          liveRuns: deps.metrics.liveRuns,
          ...live,
          error: { code: 'STORE_UNAVAILABLE', message },
        });
    try {
      await deps.store.ping();
    } catch {
      return void degraded('the store does not answer');
    }
    if (backlog?.degraded) {
      const s = Math.round((Date.now() - backlog.failingSince!) / 1000);
      return void degraded(`live writes have been failing for ${s} s (${backlog.lastError ?? 'unknown error'}); they are retried`);
    }
    res.json({ ok: true, status: 'ok', store: deps.store.kind, liveRuns: deps.metrics.liveRuns, ...live });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.render());
  });

  const openapi = JSON.stringify(buildOpenApi(deps.version));
  app.get('/api/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi);
  });
  app.get('/api/docs', (_req, res) => {
    res.type('html').send(DOCS_HTML);
  });
  app.get('/api/docs.js', (_req, res) => {
    res.type('text/javascript').send(DOCS_JS);
  });

  for (const limit of deps.limits ?? []) app.use('/api', limit);
  if (deps.watchHttp) app.use('/api/watch', deps.watchHttp);
  app.use('/api', apiRouter(deps));
  app.use('/api', (_req, _res, next) => next(new ApiError(404, 'NOT_FOUND', 'no such endpoint')));

  const dashboard = deps.config.dashboardDir ? resolve(deps.config.dashboardDir) : deps.defaultDashboardDir;
  // The phone companion (src/companion/web, built to dist/companion). Its service worker and manifest are
  // revalidated like index.html, so a new version reaches phones on their next load.
  const companion = deps.companionDir;
  if (companion && existsSync(resolve(companion, 'index.html'))) {
    app.use('/companion', express.static(companion, { index: 'index.html', cacheControl: false, setHeaders: setCompanionCaching }));
  }
  if (existsSync(resolve(dashboard, 'index.html'))) {
    app.use(express.static(dashboard, { index: 'index.html', cacheControl: false, setHeaders: setDashboardCaching }));
  } else {
    app.get('/', (_req, res) => {
      res.type('html').send(HOME_HTML);
    });
  }
  app.use((_req, _res, next) => next(new ApiError(404, 'NOT_FOUND', 'not found')));

  // The one error middleware (four parameters: that is how express recognises it).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toClientError(err);
    const where = { reqId: res.locals.requestId as string, method: req.method, url: redactedUrl(req.originalUrl) };
    if (e.internal) deps.log.error({ err, ...where }, 'request failed');
    else deps.log.debug({ code: e.code, ...where }, 'request refused');
    if (res.headersSent) return void res.end();
    // The store is unavailable (down, or its file locked): worth retrying shortly. A queue says when.
    if (e.retryAfterS) res.set('Retry-After', String(e.retryAfterS));
    else if (e.status === 503) res.set('Retry-After', '1');
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  });
  return app;
}
