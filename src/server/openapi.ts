/**
 * GET /api/openapi.json: an OpenAPI 3.1 document generated from the zod schemas the routes validate with
 * (JSON Schema 2020-12 is OpenAPI 3.1's dialect), and a small page that shows it.
 * @module
 */
import { z } from 'zod';
import * as W from '../wire/schemas.js';

type Io = 'input' | 'output';
interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  auth?: boolean;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request body media types other than JSON. */
  rawBody?: Record<string, object>;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const OPERATIONS: Operation[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness and store readiness', auth: false, responses: { 200: { description: 'healthy (status: ok)' }, 503: { description: 'store unavailable (status: degraded, STORE_UNAVAILABLE)' } } },
  { method: 'get', path: '/livez', summary: 'Liveness: the process is up (stays 200 during a database outage)', auth: false, responses: { 200: { description: 'live' } } },
  { method: 'get', path: '/readyz', summary: 'Readiness: the store answers', auth: false, responses: { 200: { description: 'ready' }, 503: { description: 'store unavailable (STORE_UNAVAILABLE)', schema: W.ErrorBodySchema } } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics (text format)', auth: false, responses: { 200: { description: 'metrics' } } },
  {
    method: 'post', path: '/api/athletes', summary: 'Create an athlete; the token is shown once', auth: false, body: W.CreateAthleteBody,
    responses: { 201: { description: 'created', schema: W.CreateAthleteResponse }, 403: { description: 'registration closed', schema: W.ErrorBodySchema } },
  },
  { method: 'get', path: '/api/athletes/me', summary: 'The caller and the profile the engine uses', responses: { 200: { description: 'athlete', schema: W.AthleteSchema } } },
  { method: 'put', path: '/api/athletes/me', summary: 'Replace the profile (and optionally the name)', body: W.PutProfileBody, responses: { 200: { description: 'athlete', schema: W.AthleteSchema } } },
  {
    method: 'patch', path: '/api/athletes/me', summary: 'Change some profile fields; the merged profile is checked whole', body: W.PatchProfileBody,
    responses: { 200: { description: 'athlete', schema: W.AthleteSchema }, 400: { description: 'invalid field (BAD_REQUEST, BAD_STRING) or an invalid merged profile (BAD_PROFILE)', schema: W.ErrorBodySchema } },
  },
  {
    method: 'post', path: '/api/runs', summary: 'Upload a FIT file (raw body or multipart field `file`) and get its report', query: W.UploadQuery,
    rawBody: {
      'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] } },
    },
    responses: {
      201: { description: 'analysed and stored', schema: W.UploadResponse },
      200: { description: 'the same bytes were uploaded before: the same run', schema: W.UploadResponse },
      400: { description: 'corrupt or not an activity', schema: W.ErrorBodySchema },
      413: { description: 'larger than the upload limit (PAYLOAD_TOO_LARGE), too complex to decode within FIT_TIME_LIMIT_S (FIT_TOO_COMPLEX), or more records than UPLOAD_MAX_SAMPLES (RUN_TOO_LARGE)', schema: W.ErrorBodySchema },
      422: { description: 'the records span more than 7 days (RUN_TOO_LONG)', schema: W.ErrorBodySchema },
      415: { description: 'not a FIT file / unsupported media type', schema: W.ErrorBodySchema },
      429: { description: 'rate limited (RATE_LIMITED), or the upload queue or the caller\'s share of it is full (UPLOAD_QUEUE_FULL): see Retry-After', schema: W.ErrorBodySchema },
      507: { description: 'storage is full (STORE_FULL): nothing was stored', schema: W.ErrorBodySchema },
    },
  },
  { method: 'get', path: '/api/runs', summary: 'The caller\'s runs, newest first, paged', query: W.ListRunsQuery, responses: { 200: { description: 'a page', schema: W.ListRunsResponse } } },
  { method: 'get', path: '/api/runs/{id}', summary: 'A run and its report', responses: { 200: { description: 'run', schema: W.RunResponse }, 404: { description: 'missing or another athlete\'s', schema: W.ErrorBodySchema } } },
  { method: 'get', path: '/api/runs/{id}/samples', summary: 'A run\'s samples as columns, optionally downsampled', query: W.SamplesQuery, responses: { 200: { description: 'columns', schema: W.SamplesResponse }, 404: { description: 'not found', schema: W.ErrorBodySchema } } },
  { method: 'delete', path: '/api/runs/{id}', summary: 'Delete a run', responses: { 204: { description: 'deleted' }, 404: { description: 'not found', schema: W.ErrorBodySchema } } },
  { method: 'post', path: '/api/cramps', summary: 'Record a cramp in the journal', body: W.CrampBody, responses: { 201: { description: 'recorded', schema: W.CrampSchema }, 404: { description: 'runId is not one of the caller\'s runs', schema: W.ErrorBodySchema } } },
  { method: 'get', path: '/api/cramps', summary: 'The cramp journal, newest first', query: W.ListCrampsQuery, responses: { 200: { description: 'a page', schema: W.ListCrampsResponse } } },
];

/** Converts a schema, collecting named sub-schemas (`.meta({id})`) into `components`. */
function convert(schema: z.ZodType, io: Io, components: Record<string, unknown>): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, unknown>;
  delete json.$defs;
  const rewrite = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
  for (const [name, def] of Object.entries(defs)) components[name] ??= rewrite(def);
  return rewrite(json);
}

export function buildOpenApi(version: string): object {
  const components: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters: unknown[] = op.path.includes('{id}') ? [idParam] : [];
    if (op.query) {
      const q = convert(op.query, 'input', components) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        const description = (schema as { description?: string }).description;
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema, ...(description ? { description } : {}) });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { 'application/json': { schema: convert(r.schema, 'output', components) } } }
        : { description: r.description };
    }
    if (op.auth !== false) responses['401'] = { description: 'missing or unknown token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    const requestBody = op.body
      ? { required: true, content: { 'application/json': { schema: convert(op.body, 'input', components) } } }
      : op.rawBody
        ? { required: true, content: op.rawBody }
        : undefined;
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
      ...(op.auth === false ? { security: [] } : {}),
    };
  }
  components.Error ??= convert(W.ErrorBodySchema, 'output', {});
  return {
    openapi: '3.1.0',
    info: {
      title: 'crampguard',
      version,
      description: 'In-run cramp coach. Live runs use the socket.io namespace `/watch` (see docs/watch-protocol.md).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

/** The docs page: the document rendered as a list of operations by a small same-origin script (CSP-safe). */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crampguard API</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f4f4;padding:.6rem;overflow:auto;max-height:20rem}
h2{margin-top:2rem;font-size:1.05rem}.m{display:inline-block;width:4rem;font-weight:600;text-transform:uppercase}</style>
</head><body><h1>crampguard API</h1>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Live runs: socket.io namespace <code>/watch</code>.</p>
<div id="ops">loading…</div><script src="/api/docs.js"></script></body></html>`;

export const DOCS_JS = `fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{
const root=document.getElementById('ops');root.textContent='';
for(const [path,ops] of Object.entries(doc.paths))for(const [method,op] of Object.entries(ops)){
const h=document.createElement('h2');const m=document.createElement('span');m.className='m';m.textContent=method;
h.append(m,document.createTextNode(path+' — '+op.summary));root.append(h);
const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,1);root.append(pre);}
const h=document.createElement('h2');h.textContent='Schemas';root.append(h);
const pre=document.createElement('pre');pre.textContent=JSON.stringify(doc.components.schemas,null,1);root.append(pre);});`;
