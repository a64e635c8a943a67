// The OpenAPI document (src/server/openapi.ts) is the contract of the REST API: every route the server
// registers is in it and nothing else is; every operation has a unique operationId and declares the errors it can
// answer with. (Every answer the API tests get through `api()` in helpers.ts is checked against it too.)
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { buildOpenApi, OPERATIONS, operationFor } from '../../src/server/openapi.js';
import type { AppDeps } from '../../src/server/app.js';
import { watchHttpRouter } from '../../src/server/watch-http.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** method + path of every route registered on the app and on the routers mounted in it (express 5 internals). */
function registeredRoutes(stack: Layer[], prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const path of [layer.route.path].flat()) {
        for (const method of Object.keys(layer.route.methods)) if (method !== '_all') out.push(`${method} ${prefix}${path}`);
      }
    } else if (layer.handle?.stack) {
      const mount = [layer.rawPath ?? ''].flat()[0] ?? '';
      out.push(...registeredRoutes(layer.handle.stack, prefix + (mount === '/' ? '' : mount)));
    }
  }
  return out;
}

function appRoutes(): string[] {
  const deps = {
    config: loadConfig({}),
    store: {},
    analyzer: {},
    metrics: {},
    log: pino({ level: 'silent' }),
    version: '0.0.0-test',
    defaultDashboardDir: '/nonexistent-dashboard',
  } as unknown as AppDeps;
  // The watch protocol over HTTP, as the server mounts it.
  deps.watchHttp = watchHttpRouter({ store: deps.store, log: deps.log, watch: () => null });
  const app = createApp(deps) as unknown as { router: { stack: Layer[] } };
  return registeredRoutes(app.router.stack)
    .map((r) => r.replace(/:(\w+)/g, '{$1}'))
    // The dashboard's home page (when no dashboard is built) is a page, not an API operation.
    .filter((r) => r !== 'get /');
}

describe('OpenAPI document', () => {
  it('documents every route the server registers, and no route it does not', () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(10);
    const documented = OPERATIONS.map((op) => `${op.method} ${op.path}`);
    expect(routes.filter((r) => !documented.includes(r)), 'routes missing from src/server/openapi.ts').toEqual([]);
    expect(documented.filter((d) => !routes.includes(d)), 'operations no route answers').toEqual([]);
  });

  it('gives every operation a unique operationId and declares its errors', () => {
    const doc = buildOpenApi('test') as { paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown>; security?: unknown[] }>> };
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        ids.push(op.operationId!);
        const statuses = Object.keys(op.responses).map(Number);
        expect(statuses.some((s) => s < 400), `${method} ${path}: a success`).toBe(true);
        expect(statuses, `${method} ${path}`).toContain(500);
        if (path.startsWith('/api/') && !path.startsWith('/api/docs') && path !== '/api/openapi.json') {
          expect(statuses, `${method} ${path}: rate limit`).toContain(429);
          expect(statuses, `${method} ${path}: store down`).toContain(503);
        }
        if (op.security === undefined) expect(statuses, `${method} ${path}: authenticated`).toContain(401);
        if (path.includes('{id}')) expect(statuses, `${method} ${path}`).toContain(404);
        if (['post', 'put', 'patch'].includes(method) && path.startsWith('/api/')) expect(statuses, `${method} ${path}: a bad body`).toContain(400);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resolves a request to its operation by the path template', () => {
    expect(operationFor('GET', '/api/runs/abc123')?.operationId).toBe('getRun');
    expect(operationFor('GET', '/api/runs/abc123/samples?fields=t')?.operationId).toBe('getRunSamples');
    expect(operationFor('DELETE', '/api/runs/abc123')?.operationId).toBe('deleteRun');
    expect(operationFor('GET', '/api/runs')?.operationId).toBe('listRuns');
    expect(operationFor('GET', '/api/runs/a/b/c')).toBeUndefined();
  });
});
